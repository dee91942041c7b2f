package graph

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func concatNode(axis int64, inputs ...string) *onnx.Node {
	return &onnx.Node{OpType: "Concat", Inputs: inputs, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrInt("axis", axis)}}
}

func TestConcat(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	a := TestInput{Name: "a", Shape: Shape{2, 2}, F: []float32{1, 2, 3, 4}}
	b := TestInput{Name: "b", Shape: Shape{2, 1}, F: []float32{5, 6}, Const: true}
	c := TestInput{Name: "c", Shape: Shape{2, 3}, F: []float32{7, 8, 9, 10, 11, 12}}
	for _, axis := range []int64{1, -1} {
		p := planNode(t, rng, 13, concatNode(axis, "a", "b", "c"), []TestInput{a, b, c}, false)
		want := []float32{1, 2, 5, 7, 8, 9, 3, 4, 6, 10, 11, 12}
		if got := p.Data("y"); !slices.Equal(got, want) || !p.Shape("y").Equal(Shape{2, 6}) {
			t.Errorf("concat axis %d: %v %v, want 2x6 %v", axis, p.Shape("y"), got, want)
		}
	}
	p := planNode(t, rng, 13, concatNode(0, "a", "a"), []TestInput{a}, false)
	if got, want := p.Data("y"), []float32{1, 2, 3, 4, 1, 2, 3, 4}; !slices.Equal(got, want) || !p.Shape("y").Equal(Shape{4, 2}) {
		t.Errorf("concat of a with itself on axis 0: %v %v", p.Shape("y"), got)
	}

	// Many inputs, the channel axis of NCHW, gradients to all of them.
	var names []string
	var inputs []TestInput
	for i := range 5 {
		name := string(rune('a' + i))
		names = append(names, name)
		inputs = append(inputs, TestInput{Name: name, Shape: Shape{1, i + 1, 3, 2}, Grad: i != 2})
	}
	CheckGradient(t, 13, concatNode(1, names...), inputs)
	CheckGradient(t, 13, concatNode(1, "a", "a"), []TestInput{{Name: "a", Shape: Shape{1, 64, 16, 16}, Grad: true}})
	CheckGradient(t, 13, concatNode(-1, "a", "b"), []TestInput{{Name: "a", Shape: Shape{2, 3, 2}, Grad: true}, {Name: "b", Shape: Shape{2, 3, 4}, Grad: true}})

	// Integer constants (shape arithmetic) are joined at plan time.
	p = planNode(t, rng, 13, concatNode(0, "a", "b"), []TestInput{{Name: "a", Shape: Shape{1}, I: []int64{2}}, {Name: "b", Shape: Shape{2}, I: []int64{-1, 7}}}, false)
	if v := p.tensors["y"].cnst; v == nil || !v.Int || !slices.Equal(v.I, []int64{2, -1, 7}) {
		t.Errorf("concat of integer constants = %+v, want the constant [2 -1 7]", v)
	}

	err := planError(t, 13, concatNode(1, "a", "b"), []TestInput{{Name: "a", Shape: Shape{2, 3}}, {Name: "b", Shape: Shape{3, 3}}})
	if err == nil || !strings.Contains(err.Error(), "differ on axis 0") {
		t.Errorf("concat of 2x3 and 3x3 on axis 1: error %v", err)
	}
}
