// Package tinynet builds, in code, a network small enough for tests to
// dream with in milliseconds: a 3 -> 4 channel 3x3 convolution (pads 1)
// from input "x" to "c", then ReLU to "r". H and W are free.
package tinynet

import (
	"math"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/onnx"
)

// Model returns a new copy of the network.
func Model() *graph.Model {
	w := make([]float32, 4*3*3*3)
	for i := range w {
		w[i] = float32(math.Sin(float64(i)*1.7)) * 0.2
	}
	g := &onnx.Graph{
		Inputs:       []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Dims: []onnx.Dim{{Value: 1}, {Value: 3}, {Value: -1, Param: "h"}, {Value: -1, Param: "w"}}}},
		Initializers: []*onnx.Tensor{onnx.NewFloatTensor("w", []int64{4, 3, 3, 3}, w)},
		Nodes: []*onnx.Node{
			{OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"c"}, Attrs: []*onnx.Attribute{{Name: "pads", Type: onnx.AttrInts, Ints: []int64{1, 1, 1, 1}}}},
			{Index: 1, OpType: "Relu", Inputs: []string{"c"}, Outputs: []string{"r"}},
		},
		Outputs: []*onnx.ValueInfo{{Name: "r", ElemType: onnx.Float}},
	}
	m, err := graph.Load(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: g})
	if err != nil {
		panic(err) // the graph above is fixed: an error is a bug
	}
	return m
}
