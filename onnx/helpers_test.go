package onnx

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// convReluModel is a small Conv+Relu model with an attribute of every kind
// Decode keeps, tensors in each storage form, and symbolic and unknown dims.
// Its Inputs list no initializer, so it survives a round trip unchanged.
func convReluModel() *Model {
	w := NewFloatTensor("W", []int64{2, 1, 3, 3}, make([]float32, 18))
	for i := range w.FloatData {
		w.FloatData[i] = float32(i) - 8.5
	}
	bias := &Tensor{Name: "B", DataType: Float, Dims: []int64{2}, Raw: le32(1.5, -2)}
	shape := NewInt64Tensor("shape", []int64{2}, []int64{-1, 8})
	return &Model{
		IRVersion:       7,
		ProducerName:    "deepdream-test",
		ProducerVersion: "1",
		Opsets:          map[string]int64{"": 13, "com.example": 1},
		Graph: &Graph{
			Name: "conv_relu",
			Nodes: []*Node{
				{Index: 0, Name: "conv", OpType: "Conv", Inputs: []string{"x", "W", "B"}, Outputs: []string{"c"}, Attrs: []*Attribute{
					{Name: "kernel_shape", Type: AttrInts, Ints: []int64{3, 3}},
					{Name: "pads", Type: AttrInts, Ints: []int64{1, 1, 1, 1}},
					{Name: "alpha", Type: AttrFloat, F: 0.25},
					{Name: "group", Type: AttrInt, I: -1},
					{Name: "auto_pad", Type: AttrString, S: "NOTSET"},
					{Name: "scales", Type: AttrFloats, Floats: []float32{0.5, -1, float32(math.Inf(1))}},
					{Name: "names", Type: AttrStrings, Strings: []string{"a", "", "c"}},
					{Name: "value", Type: AttrTensor, T: &Tensor{Name: "d", DataType: Double, Dims: []int64{2}, DoubleData: []float64{1e300, -0.5}}},
					{Name: "list", Type: AttrTensors, Tensors: []*Tensor{
						{Name: "i32", DataType: Int32, Dims: []int64{3}, Int32Data: []int32{-7, 0, 7}},
						{Name: "u64", DataType: Uint64, Dims: []int64{1}, Uint64Data: []uint64{1 << 40}},
					}},
					{Name: "body", Type: AttrGraph},
					{Name: "branches", Type: AttrGraphs},
				}},
				{Index: 1, Name: "relu", OpType: "Relu", Domain: "com.example", Inputs: []string{"c", ""}, Outputs: []string{"y"}},
			},
			Initializers: []*Tensor{w, bias, shape},
			Inputs:       []*ValueInfo{{Name: "x", ElemType: Float, Dims: []Dim{{Param: "N", Value: -1}, {Value: 1}, {Value: 8}, {Value: -1}}}},
			Outputs:      []*ValueInfo{{Name: "y", ElemType: Float, Dims: []Dim{}}},
			ValueInfo:    []*ValueInfo{{Name: "c"}, {Name: "s", ElemType: Int64}},
		},
	}
}

func le32(vs ...float32) []byte {
	b := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// wire builds protobuf bytes by hand, for encodings Encode never produces.
type wire []byte

func (w wire) varint(num protowire.Number, v uint64) wire {
	w = protowire.AppendTag(w, num, protowire.VarintType)
	return protowire.AppendVarint(w, v)
}

func (w wire) fixed32(num protowire.Number, v uint32) wire {
	w = protowire.AppendTag(w, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(w, v)
}

func (w wire) fixed64(num protowire.Number, v uint64) wire {
	w = protowire.AppendTag(w, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(w, v)
}

func (w wire) bytes(num protowire.Number, v []byte) wire {
	w = protowire.AppendTag(w, num, protowire.BytesType)
	return protowire.AppendBytes(w, v)
}

func (w wire) str(num protowire.Number, s string) wire { return w.bytes(num, []byte(s)) }
