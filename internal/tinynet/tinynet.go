// Package tinynet builds, in code, a network small enough for tests to
// dream with in milliseconds: a 3 -> 4 channel 3x3 convolution (pads 1)
// from input "x" to "c", then ReLU to "r". H and W are free.
// Classifier adds a classifier of three classes to it.
package tinynet

import (
	"math"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/onnx"
)

// Model returns a new copy of the network.
func Model() *graph.Model { return load(base()) }

// Classes are the names of Classifier's classes.
var Classes = []string{"red fox", "Arctic fox", "goldfish"}

// ClassifierWeights are Classifier's weights, 3 classes x 4 channels, and
// ClassifierBias its bias.
var (
	ClassifierWeights = []float32{0.5, -0.25, 1, 0, -1, 0.75, 0.25, 0.5, 0.2, 0.3, -0.6, 1.1}
	ClassifierBias    = []float32{0.1, -0.2, 0.3}
)

// Classifier returns the network with a classifier after "r": its mean
// over every position, pooled by GlobalAveragePool and Flatten (side 0),
// or, as GoogLeNet's, by an AveragePool of side x side and a Reshape to
// 1x4, which take side x side images only; then a Gemm (transB) with
// ClassifierWeights and ClassifierBias to the scores "logits", and a
// Softmax to "prob", the output.
func Classifier(side int) *graph.Model {
	g := base()
	g.Initializers = append(g.Initializers,
		onnx.NewFloatTensor("fc_w", []int64{3, 4}, ClassifierWeights),
		onnx.NewFloatTensor("fc_b", []int64{3}, ClassifierBias))
	pool := []*onnx.Node{
		{OpType: "GlobalAveragePool", Inputs: []string{"r"}, Outputs: []string{"pool"}},
		{OpType: "Flatten", Inputs: []string{"pool"}, Outputs: []string{"flat"}},
	}
	if side > 0 {
		g.Initializers = append(g.Initializers, onnx.NewInt64Tensor("shape", []int64{2}, []int64{1, 4}))
		pool = []*onnx.Node{
			{OpType: "AveragePool", Inputs: []string{"r"}, Outputs: []string{"pool"},
				Attrs: []*onnx.Attribute{{Name: "kernel_shape", Type: onnx.AttrInts, Ints: []int64{int64(side), int64(side)}}}},
			{OpType: "Reshape", Inputs: []string{"pool", "shape"}, Outputs: []string{"flat"}},
		}
	}
	g.Nodes = append(g.Nodes, pool...)
	g.Nodes = append(g.Nodes,
		&onnx.Node{OpType: "Gemm", Inputs: []string{"flat", "fc_w", "fc_b"}, Outputs: []string{"logits"},
			Attrs: []*onnx.Attribute{{Name: "transB", Type: onnx.AttrInt, I: 1}}},
		&onnx.Node{OpType: "Softmax", Inputs: []string{"logits"}, Outputs: []string{"prob"}})
	for i, n := range g.Nodes {
		n.Index = i
	}
	g.Outputs = []*onnx.ValueInfo{{Name: "prob", ElemType: onnx.Float}}
	return load(g)
}

// base returns the graph of Model.
func base() *onnx.Graph {
	w := make([]float32, 4*3*3*3)
	for i := range w {
		w[i] = float32(math.Sin(float64(i)*1.7)) * 0.2
	}
	return &onnx.Graph{
		Inputs:       []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Dims: []onnx.Dim{{Value: 1}, {Value: 3}, {Value: -1, Param: "h"}, {Value: -1, Param: "w"}}}},
		Initializers: []*onnx.Tensor{onnx.NewFloatTensor("w", []int64{4, 3, 3, 3}, w)},
		Nodes: []*onnx.Node{
			{OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"c"}, Attrs: []*onnx.Attribute{{Name: "pads", Type: onnx.AttrInts, Ints: []int64{1, 1, 1, 1}}}},
			{Index: 1, OpType: "Relu", Inputs: []string{"c"}, Outputs: []string{"r"}},
		},
		Outputs: []*onnx.ValueInfo{{Name: "r", ElemType: onnx.Float}},
	}
}

func load(g *onnx.Graph) *graph.Model {
	m, err := graph.Load(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: g})
	if err != nil {
		panic(err) // the graphs above are fixed: an error is a bug
	}
	return m
}
