package graph

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func gatherNode(axis int64) *onnx.Node {
	return &onnx.Node{OpType: "Gather", Inputs: []string{"x", "i"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrInt("axis", axis)}}
}

func TestGather(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	x := TestInput{Name: "x", Shape: Shape{3, 2}, F: []float32{1, 2, 3, 4, 5, 6}}
	for _, c := range []struct {
		axis    int64
		indices TestInput
		shape   Shape
		want    []float32
	}{
		{0, TestInput{Name: "i", Shape: Shape{2}, I: []int64{2, -3}}, Shape{2, 2}, []float32{5, 6, 1, 2}},
		{1, TestInput{Name: "i", Shape: Shape{}, I: []int64{1}}, Shape{3}, []float32{2, 4, 6}},
		{-1, TestInput{Name: "i", Shape: Shape{2, 2}, I: []int64{1, 0, 0, 0}}, Shape{3, 2, 2}, []float32{2, 1, 1, 1, 4, 3, 3, 3, 6, 5, 5, 5}},
	} {
		p := planNode(t, rng, 13, gatherNode(c.axis), []TestInput{x, c.indices}, false)
		if got := p.Data("y"); !slices.Equal(got, c.want) || !p.Shape("y").Equal(c.shape) {
			t.Errorf("gather axis %d of %v: %v %v, want %v %v", c.axis, c.indices.I, p.Shape("y"), got, c.shape, c.want)
		}
	}

	// Repeated indices: their gradients add up in the element they read.
	CheckGradient(t, 13, gatherNode(1), []TestInput{{Name: "x", Shape: Shape{2, 4, 3}, Grad: true}, {Name: "i", Shape: Shape{2, 2}, I: []int64{3, 0, -1, 3}}})
	CheckGradient(t, 13, gatherNode(0), []TestInput{{Name: "x", Shape: Shape{5, 3}, Grad: true}, {Name: "i", Shape: Shape{3}, I: []int64{4, 1, 0}}})

	// PyTorch's x.size(0): Gather of a scalar index from a Shape constant.
	p := planNode(t, rng, 13, gatherNode(0), []TestInput{{Name: "x", Shape: Shape{4}, I: []int64{1, 3, 224, 224}}, {Name: "i", Shape: Shape{}, I: []int64{-1}}}, false)
	if v := p.tensors["y"].cnst; v == nil || !v.Int || !v.Shape.Equal(Shape{}) || !slices.Equal(v.I, []int64{224}) {
		t.Errorf("gather from an integer constant = %+v, want the scalar 224", v)
	}

	err := planError(t, 13, gatherNode(0), []TestInput{x, {Name: "i", Shape: Shape{1}, I: []int64{3}}})
	if err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("index 3 of 3 rows: error %v", err)
	}
}
