// Package onnx reads ONNX model files into plain Go values: the graph's
// nodes, attributes, declared inputs and outputs, and its initializer
// tensors, which is all an inference engine needs.
//
// Decode works at the protobuf wire level (protowire) and decodes only
// ModelProto's ir_version, producer, opset_import and graph; in the graph its
// nodes, initializers, inputs, outputs and value_info; tensor types and
// shapes of value infos; and every storage form of TensorProto. It skips
// doc strings, metadata, functions, training info and any unknown field.
// Graph-valued attributes keep only their type. Sparse initializers and
// segmented tensors are rejected with an error wrapping ErrUnsupported.
// Graph.Inputs leaves out names that are initializers, which files older
// than IR version 4 list among the inputs.
//
// Decode treats its input as hostile: every length is checked against the
// bytes present, repeated fields grow by append rather than from a declared
// count, and groups (unused by ONNX) are skipped with protowire's bounded
// nesting. Memory therefore grows linearly with the input: about its size
// for real models, whose bulk is tensor data aliased from the input, and at
// most 256 bytes per input byte for a file crafted from empty messages, so
// a server taking untrusted models should cap their size. Errors
// are *DecodeError, whose Path says where the problem is, e.g.
// `onnx: graph.node[12] ("inception_4c/3x3").attribute[3] ("pads"): ints
// (field 8): bad wire type fixed32, want varint or bytes`.
//
// # Aliasing
//
// Tensor.Raw slices alias the buffer passed to Decode or DecodeTensor (with
// their capacity clipped, so appending to one copies). That keeps a 500 MB
// model from being held twice, but the buffer must not change while the model
// is used. Float32s and Int64s always return new slices. NewFloatTensor and
// NewInt64Tensor keep the slices they are given.
//
// # External data
//
// Tensors stored outside the model file keep the reference in
// Tensor.External after Decode. ReadFile loads them into Raw, refusing
// locations that are absolute or lead out of the model's directory and
// ranges that run past the end of the data file.
//
// # Encoding
//
// Encode and EncodeTensor are the inverse of Decode and DecodeTensor for
// everything those keep, so tests can build models in code.
package onnx
