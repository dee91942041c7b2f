package graph

import (
	"math/rand/v2"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

// TestConvWinogradGradient checks Conv layers large enough for Winograd
// (ops.WinogradPays), against finite differences and against the im2col
// path (DEEPDREAM_WINOGRAD=0).
func TestConvWinogradGradient(t *testing.T) {
	cases := []struct {
		x, w  Shape
		attrs []*onnx.Attribute
	}{
		{Shape{1, 3, 20, 21}, Shape{4, 3, 3, 3}, []*onnx.Attribute{attrInts("pads", 1, 1, 1, 1)}},
		{Shape{1, 2, 23, 22}, Shape{3, 2, 3, 3}, nil},
		{Shape{2, 3, 19, 21}, Shape{5, 3, 3, 3}, []*onnx.Attribute{attrString("auto_pad", "SAME_UPPER")}},
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range cases {
		inputs := []TestInput{
			{Name: "x", Shape: c.x, F: awayFromZero(rng, c.x.Size()), Grad: true},
			{Name: "w", Shape: c.w, F: awayFromZero(rng, c.w.Size()), Const: true},
			{Name: "b", Shape: Shape{c.w[0]}, Const: true},
		}
		node := convNode(c.attrs...)
		p := planNode(t, rng, 11, node, inputs, true)
		if k := p.steps[0].kernel.(*convKernel); k.wino == nil {
			t.Fatalf("%s on %v: not run as Winograd", describe(node), c.x)
		}
		CheckGradient(t, 11, node, inputs)

		t.Setenv("DEEPDREAM_WINOGRAD", "0")
		q := planNode(t, rng, 11, node, inputs, false)
		t.Setenv("DEEPDREAM_WINOGRAD", "1")
		if k := q.steps[0].kernel.(*convKernel); k.wino != nil {
			t.Fatalf("%s on %v: DEEPDREAM_WINOGRAD=0 still runs Winograd", describe(node), c.x)
		}
		want := q.Data("y")
		for i, v := range p.Data("y") {
			if d := v - want[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("%s on %v: y[%d] = %v, im2col gives %v", describe(node), c.x, i, v, want[i])
			}
		}
	}
}
