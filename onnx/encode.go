package onnx

import (
	"maps"
	"math"
	"slices"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// Encode serializes m as a ModelProto. It writes what Model holds, so the
// contents of graph-valued attributes, which Decode drops, are not written,
// and Graph.Inputs are written as given (after Decode, without the
// initializers an IR 3 file also lists there). Tensor data
// is written in the form it is stored in (raw_data, float_data, ...), and
// tensors with External set are written as external references.
func Encode(m *Model) []byte {
	var b []byte
	b = appendVarint(b, 1, uint64(m.IRVersion))
	b = appendString(b, 2, m.ProducerName)
	b = appendString(b, 3, m.ProducerVersion)
	if m.Graph != nil {
		b = appendMessage(b, 7, func(b []byte) []byte { return appendGraph(b, m.Graph) })
	}
	// Sorted, so that equal models encode to equal bytes.
	for _, d := range slices.Sorted(maps.Keys(m.Opsets)) {
		b = appendMessage(b, 8, func(b []byte) []byte {
			b = appendString(b, 1, d)
			return appendVarint(b, 2, uint64(m.Opsets[d]))
		})
	}
	return b
}

// EncodeTensor serializes t as a TensorProto.
func EncodeTensor(t *Tensor) []byte { return appendTensor(nil, t) }

func appendGraph(b []byte, g *Graph) []byte {
	for _, n := range g.Nodes {
		b = appendMessage(b, 1, func(b []byte) []byte { return appendNode(b, n) })
	}
	b = appendString(b, 2, g.Name)
	for _, t := range g.Initializers {
		b = appendMessage(b, 5, func(b []byte) []byte { return appendTensor(b, t) })
	}
	for _, list := range []struct {
		num protowire.Number
		vis []*ValueInfo
	}{{11, g.Inputs}, {12, g.Outputs}, {13, g.ValueInfo}} {
		for _, vi := range list.vis {
			b = appendMessage(b, list.num, func(b []byte) []byte { return appendValueInfo(b, vi) })
		}
	}
	return b
}

func appendNode(b []byte, n *Node) []byte {
	for _, s := range n.Inputs {
		b = appendBytes(b, 1, []byte(s))
	}
	for _, s := range n.Outputs {
		b = appendBytes(b, 2, []byte(s))
	}
	b = appendString(b, 3, n.Name)
	b = appendString(b, 4, n.OpType)
	for _, a := range n.Attrs {
		b = appendMessage(b, 5, func(b []byte) []byte { return appendAttribute(b, a) })
	}
	return appendString(b, 7, n.Domain)
}

func appendAttribute(b []byte, a *Attribute) []byte {
	b = appendString(b, 1, a.Name)
	b = appendVarint(b, 20, uint64(a.Type))
	switch a.Type {
	case AttrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case AttrInt:
		b = appendVarint(b, 3, uint64(a.I))
	case AttrString:
		b = appendBytes(b, 4, []byte(a.S))
	case AttrTensor:
		if a.T != nil {
			b = appendMessage(b, 5, func(b []byte) []byte { return appendTensor(b, a.T) })
		}
	case AttrFloats:
		b = appendPackedFloats(b, 7, a.Floats)
	case AttrInts:
		b = appendPackedVarints(b, 8, a.Ints)
	case AttrStrings:
		for _, s := range a.Strings {
			b = appendBytes(b, 9, []byte(s))
		}
	case AttrTensors:
		for _, t := range a.Tensors {
			b = appendMessage(b, 10, func(b []byte) []byte { return appendTensor(b, t) })
		}
	}
	return b
}

func appendTensor(b []byte, t *Tensor) []byte {
	b = appendPackedVarints(b, 1, t.Dims)
	b = appendVarint(b, 2, uint64(t.DataType))
	b = appendPackedFloats(b, 4, t.FloatData)
	b = appendPackedVarints(b, 5, t.Int32Data)
	b = appendPackedVarints(b, 7, t.Int64Data)
	b = appendString(b, 8, t.Name)
	if t.Raw != nil {
		// Written even when empty: an empty raw_data still says where the
		// (zero) elements are.
		b = appendBytes(b, 9, t.Raw)
	}
	b = appendPackedFloats(b, 10, t.DoubleData)
	b = appendPackedVarints(b, 11, t.Uint64Data)
	if x := t.External; x != nil {
		entries := [][2]string{{"location", x.Location}}
		if x.Offset != 0 {
			entries = append(entries, [2]string{"offset", strconv.FormatInt(x.Offset, 10)})
		}
		if x.Length >= 0 {
			entries = append(entries, [2]string{"length", strconv.FormatInt(x.Length, 10)})
		}
		for _, kv := range entries {
			b = appendMessage(b, 13, func(b []byte) []byte {
				b = appendString(b, 1, kv[0])
				return appendString(b, 2, kv[1])
			})
		}
		b = appendVarint(b, 14, dataLocationExternal)
	}
	return b
}

func appendValueInfo(b []byte, vi *ValueInfo) []byte {
	b = appendString(b, 1, vi.Name)
	if vi.ElemType == Undefined && vi.Dims == nil {
		return b
	}
	return appendMessage(b, 2, func(b []byte) []byte { // TypeProto
		return appendMessage(b, 1, func(b []byte) []byte { // TypeProto.Tensor
			b = appendVarint(b, 1, uint64(vi.ElemType))
			if vi.Dims == nil {
				return b
			}
			return appendMessage(b, 2, func(b []byte) []byte { // TensorShapeProto
				for _, d := range vi.Dims {
					b = appendMessage(b, 1, func(b []byte) []byte {
						switch {
						case d.Param != "":
							return appendString(b, 2, d.Param)
						case d.Value >= 0:
							b = protowire.AppendTag(b, 1, protowire.VarintType)
							return protowire.AppendVarint(b, uint64(d.Value))
						}
						return b // unknown dimension
					})
				}
				return b
			})
		})
	})
}

// appendVarint writes a non-zero scalar; zero is the default and is omitted.
func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendString writes a non-empty string; empty is the default and is omitted.
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return appendBytes(b, num, []byte(s))
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// appendMessage writes a nested message produced by enc.
func appendMessage(b []byte, num protowire.Number, enc func([]byte) []byte) []byte {
	return appendBytes(b, num, enc(nil))
}

func appendPackedVarints[T int32 | int64 | uint64](b []byte, num protowire.Number, vs []T) []byte {
	if len(vs) == 0 {
		return b
	}
	var payload []byte
	for _, v := range vs {
		// Negative int32 values sign-extend to ten bytes, as protobuf requires.
		payload = protowire.AppendVarint(payload, uint64(v))
	}
	return appendBytes(b, num, payload)
}

func appendPackedFloats[T float32 | float64](b []byte, num protowire.Number, vs []T) []byte {
	if len(vs) == 0 {
		return b
	}
	var payload []byte
	for _, v := range vs {
		if f, ok := any(v).(float32); ok {
			payload = protowire.AppendFixed32(payload, math.Float32bits(f))
		} else {
			payload = protowire.AppendFixed64(payload, math.Float64bits(float64(v)))
		}
	}
	return appendBytes(b, num, payload)
}
