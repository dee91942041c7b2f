package graph

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/internal/gemm"
	"github.com/deepdream-go/deepdream/onnx"
)

// TestConvWinogradGradient checks Conv layers large enough for Winograd
// (ops.WinogradPays), against finite differences and against the im2col
// path (Options.NoWinograd).
func TestConvWinogradGradient(t *testing.T) {
	cases := []struct {
		x, w  Shape
		attrs []*onnx.Attribute
	}{
		{Shape{1, 3, 20, 21}, Shape{4, 3, 3, 3}, []*onnx.Attribute{attrInts("pads", 1, 1, 1, 1)}},
		{Shape{1, 2, 23, 22}, Shape{3, 2, 3, 3}, nil},
		{Shape{2, 3, 19, 21}, Shape{5, 3, 3, 3}, []*onnx.Attribute{attrString("auto_pad", "SAME_UPPER")}},
		{Shape{1, 2, 17, 18}, Shape{3, 2, 5, 5}, []*onnx.Attribute{attrInts("pads", 2, 2, 2, 2)}},
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

		q := planNodeWith(t, rng, 11, node, inputs, false, Options{NoWinograd: true})
		if k := q.steps[0].kernel.(*convKernel); k.wino != nil {
			t.Fatalf("%s on %v: NoWinograd still runs Winograd", describe(node), c.x)
		}
		want := q.Data("y")
		for i, v := range p.Data("y") {
			if d := v - want[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("%s on %v: y[%d] = %v, im2col gives %v", describe(node), c.x, i, v, want[i])
			}
		}
	}
}

// TestConvPolyphaseWinograd checks a 7x7 stride-2 Conv (GoogLeNet's conv1)
// on an image large enough to run as Winograd of its polyphase components
// against the im2col path, forward and backward: finite differences on
// 3x770x772 inputs would take too long, and ops tests check the kernels
// against a float64 reference.
func TestConvPolyphaseWinograd(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	x, w := Shape{1, 3, 770, 772}, Shape{8, 3, 7, 7}
	inputs := []TestInput{
		{Name: "x", Shape: x, F: awayFromZero(rng, x.Size()), Grad: true},
		{Name: "w", Shape: w, F: awayFromZero(rng, w.Size()), Const: true},
		{Name: "b", Shape: Shape{w[0]}, Const: true},
	}
	node := convNode(attrInts("pads", 3, 3, 3, 3), attrInts("strides", 2, 2))
	run := func(winograd bool) (y, dx []float32) {
		p := planNodeWith(t, rng, 11, node, inputs, true, Options{NoWinograd: !winograd})
		if k := p.steps[0].kernel.(*convKernel); (k.wino != nil) != winograd {
			t.Fatalf("Winograd wanted %v, planned %v", winograd, k.wino != nil)
		}
		dy := p.Grad("y")
		for i := range dy {
			dy[i] = float32(i%7) - 3
		}
		if err := p.Backward(context.Background()); err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), p.Data("y")...), append([]float32(nil), p.Grad("x")...)
	}
	y, dx := run(true)
	wantY, wantDx := run(false)
	compare := func(name string, got, want []float32) {
		t.Helper()
		for i, v := range got {
			if d := v - want[i]; d > 1e-3 || d < -1e-3 {
				t.Fatalf("%s[%d] = %v, im2col gives %v", name, i, v, want[i])
			}
		}
	}
	compare("y", y, wantY)
	compare("dx", dx, wantDx)
}

// TestOptionsKernel plans a Winograd and an im2col convolution on each GEMM
// kernel this machine has (Options.Kernel) and compares values and input
// gradients with the default kernel's; an unknown kernel is refused.
func TestOptionsKernel(t *testing.T) {
	x, w := Shape{1, 5, 24, 23}, Shape{6, 5, 3, 3}
	for _, attrs := range [][]*onnx.Attribute{
		{attrInts("pads", 1, 1, 1, 1)},                            // Winograd
		{attrInts("pads", 1, 1, 1, 1), attrInts("strides", 2, 2)}, // im2col
	} {
		node := convNode(attrs...)
		run := func(kernel string) (y, dx []float32) {
			rng := rand.New(rand.NewPCG(11, 12)) // the same data for every kernel
			inputs := []TestInput{
				{Name: "x", Shape: x, Grad: true},
				{Name: "w", Shape: w, Const: true},
				{Name: "b", Shape: Shape{w[0]}, Const: true},
			}
			p := planNodeWith(t, rng, 11, node, inputs, true, Options{Kernel: kernel})
			if got := p.steps[0].kernel.(*convKernel).p.Kernel.Name(); kernel != "" && got != kernel {
				t.Fatalf("Options.Kernel %s: the Conv runs on %s", kernel, got)
			}
			for i := range p.Grad("y") {
				p.Grad("y")[i] = float32(i%5) - 2
			}
			if err := p.Backward(context.Background()); err != nil {
				t.Fatal(err)
			}
			return append([]float32(nil), p.Data("y")...), append([]float32(nil), p.Grad("x")...)
		}
		wantY, wantDx := run("")
		// The kernels sum in different orders: within float32 rounding of
		// sums of 45 terms, relative to the largest value.
		near := func(what string, got, want []float32) {
			var d, m float64
			for i := range want {
				d = max(d, math.Abs(float64(got[i])-float64(want[i])))
				m = max(m, math.Abs(float64(want[i])))
			}
			if !(d <= 1e-5*m) {
				t.Errorf("%s: max |difference| %.3g, %.3g of max |value|", what, d, d/m)
			}
		}
		for _, k := range gemm.Kernels() {
			y, dx := run(k)
			near(describe(node)+" on "+k+": y", y, wantY)
			near(describe(node)+" on "+k+": dx", dx, wantDx)
		}
	}
	m, err := Load(nodeModel(11, convNode(), []TestInput{{Name: "x", Shape: x}, {Name: "w", Shape: w}, {Name: "b", Shape: Shape{6}}}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Plan(Spec{Inputs: []InputSpec{{Name: "x", Shape: x}}, Targets: []string{"y"}, Options: Options{Kernel: "avx1024"}})
	if err == nil || !strings.Contains(err.Error(), `"avx1024"`) {
		t.Errorf("Options.Kernel avx1024: error %v, want one naming the kernel", err)
	}
}
