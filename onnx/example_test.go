package onnx_test

import (
	"fmt"
	"log"

	"github.com/deepdream-go/deepdream/onnx"
)

func ExampleDecode() {
	// A one-node model built in code; real models come from ReadFile.
	model := &onnx.Model{
		IRVersion: 8,
		Opsets:    map[string]int64{"": 17},
		Graph: &onnx.Graph{
			Nodes: []*onnx.Node{{
				OpType:  "Conv",
				Name:    "conv1",
				Inputs:  []string{"x", "w"},
				Outputs: []string{"y"},
				Attrs:   []*onnx.Attribute{{Name: "pads", Type: onnx.AttrInts, Ints: []int64{1, 1, 1, 1}}},
			}},
			Initializers: []*onnx.Tensor{onnx.NewFloatTensor("w", []int64{1, 1, 3, 3}, make([]float32, 9))},
			Inputs:       []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Dims: []onnx.Dim{{Param: "N", Value: -1}, {Value: 1}, {Value: 8}, {Value: 8}}}},
			Outputs:      []*onnx.ValueInfo{{Name: "y", ElemType: onnx.Float}},
		},
	}
	data := onnx.Encode(model)

	m, err := onnx.Decode(data)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("opset", m.Opset(), "input", m.Graph.Inputs[0].Name, m.Graph.Inputs[0].Dims)
	for _, n := range m.Graph.Nodes {
		fmt.Println(n.Index, n.OpType, n.Name, n.Inputs, "pads", n.Attr("pads").Ints)
	}
	w, err := m.Graph.Initializers[0].Float32s()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("w has", len(w), "weights")
	// Output:
	// opset 17 input x [{-1 N} {1 } {8 } {8 }]
	// 0 Conv conv1 [x w] pads [1 1 1 1]
	// w has 9 weights
}
