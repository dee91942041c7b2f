package graph

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func transposeNode(perm ...int64) *onnx.Node {
	n := &onnx.Node{OpType: "Transpose", Inputs: []string{"x"}, Outputs: []string{"y"}}
	if perm != nil {
		n.Attrs = []*onnx.Attribute{attrInts("perm", perm...)}
	}
	return n
}

func TestTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	x := TestInput{Name: "x", Shape: Shape{2, 3}, F: []float32{1, 2, 3, 4, 5, 6}}
	p := planNode(t, rng, 13, transposeNode(), []TestInput{x}, false)
	if got, want := p.Data("y"), []float32{1, 4, 2, 5, 3, 6}; !slices.Equal(got, want) || !p.Shape("y").Equal(Shape{3, 2}) {
		t.Errorf("default transpose of 2x3: %v %v, want 3x2 %v", p.Shape("y"), got, want)
	}
	x3 := TestInput{Name: "x", Shape: Shape{2, 2, 2}, F: []float32{0, 1, 2, 3, 4, 5, 6, 7}}
	p = planNode(t, rng, 13, transposeNode(1, 2, 0), []TestInput{x3}, false)
	if got, want := p.Data("y"), []float32{0, 4, 1, 5, 2, 6, 3, 7}; !slices.Equal(got, want) {
		t.Errorf("transpose 2x2x2 by [1 2 0]: %v, want %v", got, want)
	}

	for _, perm := range [][]int64{nil, {0, 2, 3, 1}, {0, 3, 1, 2}, {1, 0, 2, 3}} {
		CheckGradient(t, 13, transposeNode(perm...), []TestInput{{Name: "x", Shape: Shape{2, 3, 4, 5}, Grad: true}})
	}

	p = planNode(t, rng, 13, transposeNode(), []TestInput{{Name: "x", Shape: Shape{2, 2}, I: []int64{1, 2, 3, 4}}}, false)
	if v := p.tensors["y"].cnst; v == nil || !v.Int || !slices.Equal(v.I, []int64{1, 3, 2, 4}) {
		t.Errorf("transpose of an integer constant = %+v", v)
	}
	if err := planError(t, 13, transposeNode(0, 0), []TestInput{{Name: "x", Shape: Shape{2, 2}}}); err == nil {
		t.Error("perm [0 0]: no error")
	}
}
