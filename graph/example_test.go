package graph_test

import (
	"context"
	"fmt"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/onnx"
)

// Plan once for an input size and targets, then run forward and backward
// as often as needed without allocating.
func ExampleModel_Plan() {
	m, err := graph.Load(&onnx.Model{
		IRVersion: 8,
		Opsets:    map[string]int64{"": 13},
		Graph: &onnx.Graph{
			Inputs: []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float}},
			Nodes: []*onnx.Node{
				{OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"r"}},
				{Index: 1, OpType: "MaxPool", Inputs: []string{"r"}, Outputs: []string{"p"},
					Attrs: []*onnx.Attribute{{Name: "kernel_shape", Type: onnx.AttrInts, Ints: []int64{2, 2}}}},
			},
		},
	})
	if err != nil {
		panic(err)
	}
	p, err := m.Plan(graph.Spec{
		Inputs:   []graph.InputSpec{{Name: "x", Shape: graph.Shape{1, 1, 2, 2}, Grad: true}},
		Targets:  []string{"p"},
		Backward: true,
	})
	if err != nil {
		panic(err)
	}
	copy(p.Data("x"), []float32{1, -2, 3, 0.5})
	ctx := context.Background()
	if err := p.Forward(ctx); err != nil {
		panic(err)
	}
	fmt.Println("p:", p.Shape("p"), p.Data("p"))
	// The objective's gradient with respect to the target goes in first.
	p.Grad("p")[0] = 1
	if err := p.Backward(ctx); err != nil {
		panic(err)
	}
	fmt.Println("dx:", p.Grad("x"))
	// Output:
	// p: 1x1x1x1 [3]
	// dx: [0 0 1 0]
}

// Observe a plan to see where a run spends its time, per operator: what
// `deepdream bench --ops` prints.
func ExamplePlan_Observe() {
	m, err := graph.Load(&onnx.Model{
		IRVersion: 8,
		Opsets:    map[string]int64{"": 13},
		Graph: &onnx.Graph{
			Inputs: []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float}},
			Nodes: []*onnx.Node{
				{OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"r"}},
				{Index: 1, OpType: "Sigmoid", Inputs: []string{"r"}, Outputs: []string{"s"}},
			},
		},
	})
	if err != nil {
		panic(err)
	}
	p, err := m.Plan(graph.Spec{
		Inputs:   []graph.InputSpec{{Name: "x", Shape: graph.Shape{1, 1, 4, 4}, Grad: true}},
		Targets:  []string{"s"},
		Backward: true,
	})
	if err != nil {
		panic(err)
	}
	calls := map[string]int{}
	p.Observe(func(st graph.StepTime) {
		dir := "forward"
		if st.Backward {
			dir = "backward"
		}
		calls[st.Node.OpType+" "+dir]++ // st.Elapsed is the time it took
	})
	ctx := context.Background()
	for range 3 {
		if err := p.Forward(ctx); err != nil {
			panic(err)
		}
		if err := p.Backward(ctx); err != nil {
			panic(err)
		}
	}
	fmt.Println(calls["Relu forward"], calls["Sigmoid forward"], calls["Sigmoid backward"], calls["Relu backward"])
	// Output: 3 3 3 3
}

// Plans made one after another for several sizes (a dream's octaves)
// borrow their buffers from one Memory: planned first at the largest
// size, the later plans fit in its memory.
func ExampleMemory() {
	m, err := graph.Load(&onnx.Model{
		IRVersion: 8,
		Opsets:    map[string]int64{"": 13},
		Graph: &onnx.Graph{
			Inputs: []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float}},
			Nodes:  []*onnx.Node{{OpType: "Sigmoid", Inputs: []string{"x"}, Outputs: []string{"s"}}},
		},
	})
	if err != nil {
		panic(err)
	}
	var mem graph.Memory
	for _, side := range []int{512, 256, 512} {
		mem.Reset() // the previous plan runs no more
		p, err := m.Plan(graph.Spec{
			Inputs:   []graph.InputSpec{{Name: "x", Shape: graph.Shape{1, 3, side, side}, Grad: true}},
			Targets:  []string{"s"},
			Backward: true,
			Memory:   &mem,
		})
		if err != nil {
			panic(err)
		}
		if err := p.Forward(context.Background()); err != nil {
			panic(err)
		}
		// s (kept for Backward), its gradient and x's: three buffers
		// of 3x512x512 floats, lent again to the smaller plan.
		fmt.Printf("%dx%d: memory holds %d floats\n", side, side, mem.Size())
	}
	// Output:
	// 512x512: memory holds 2359296 floats
	// 256x256: memory holds 2359296 floats
	// 512x512: memory holds 2359296 floats
}
