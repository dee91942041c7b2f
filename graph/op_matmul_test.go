package graph

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func gemmNode(withC bool, attrs ...*onnx.Attribute) *onnx.Node {
	n := &onnx.Node{OpType: "Gemm", Inputs: []string{"a", "b"}, Outputs: []string{"y"}, Attrs: attrs}
	if withC {
		n.Inputs = append(n.Inputs, "c")
	}
	return n
}

// gemmCases covers the transpositions and every shape of C that broadcasts
// to the 3x4 output (nil: no C).
var gemmCases = []struct {
	transA, transB bool
	c              Shape
}{
	{false, false, Shape{3, 4}},
	{true, false, Shape{4}},
	{false, true, Shape{3, 1}},
	{true, true, Shape{1, 4}},
	{false, false, Shape{}},
	{false, true, Shape{1}},
	{true, false, nil},
}

// gemmInputs returns A (3x5 or 5x3), B (5x4 or 4x5) and C for one case.
func gemmInputs(rng *rand.Rand, transA, transB bool, c Shape, grad bool) []TestInput {
	as, bs := Shape{3, 5}, Shape{5, 4}
	if transA {
		as = Shape{5, 3}
	}
	if transB {
		bs = Shape{4, 5}
	}
	in := []TestInput{
		{Name: "a", Shape: as, F: awayFromZero(rng, 15), Grad: grad},
		{Name: "b", Shape: bs, F: awayFromZero(rng, 20), Grad: grad},
	}
	if c != nil {
		in = append(in, TestInput{Name: "c", Shape: c, F: awayFromZero(rng, c.Size()), Grad: grad})
	}
	return in
}

func TestGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range gemmCases {
		node := gemmNode(c.c != nil, attrInt("transA", b2i(c.transA)), attrInt("transB", b2i(c.transB)), attrFloat("alpha", 0.5), attrFloat("beta", -2))
		in := gemmInputs(rng, c.transA, c.transB, c.c, false)
		a, b := in[0].F, in[1].F
		want := make([]float32, 12)
		for i := range 3 {
			for j := range 4 {
				var s float32
				for k := range 5 {
					x, y := a[i*5+k], b[k*4+j]
					if c.transA {
						x = a[k*3+i]
					}
					if c.transB {
						y = b[j*5+k]
					}
					s += x * y
				}
				want[i*4+j] = 0.5 * s
				if c.c != nil {
					rows, cols := 1, 1
					switch len(c.c) {
					case 2:
						rows, cols = c.c[0], c.c[1]
					case 1:
						cols = c.c[0]
					}
					ci, cj := 0, 0
					if rows > 1 {
						ci = i
					}
					if cols > 1 {
						cj = j
					}
					want[i*4+j] -= 2 * in[2].F[ci*cols+cj]
				}
			}
		}
		checkNodeOutput(t, 13, node, in, Shape{3, 4}, want)
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func TestGemmGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range gemmCases {
		node := gemmNode(c.c != nil, attrInt("transA", b2i(c.transA)), attrInt("transB", b2i(c.transB)), attrFloat("alpha", 0.5), attrFloat("beta", -2))
		CheckGradient(t, 13, node, gemmInputs(rng, c.transA, c.transB, c.c, true))
	}
	// Constant B and C (a fully connected layer): only A is differentiated.
	in := gemmInputs(rng, false, true, Shape{4}, false)
	in[0].Grad, in[1].Const, in[2].Const = true, true, true
	CheckGradient(t, 13, gemmNode(true, attrInt("transB", 1)), in)
}

func TestGemmErrors(t *testing.T) {
	cases := []struct {
		opset int64
		a, b  Shape
		c     Shape
		attrs []*onnx.Attribute
		want  string
	}{
		{13, Shape{3, 5}, Shape{4, 5}, nil, nil, "Gemm: op(A) is 3x5 but op(B) is 4x5 (transA 0, transB 0)"},
		{13, Shape{3, 5, 1}, Shape{5, 4}, nil, nil, "Gemm: A is 3x5x1 and B is 5x4, both must be 2-D"},
		{13, Shape{3, 5}, Shape{5, 4}, Shape{3}, nil, "Gemm: C is 3, does not broadcast to the 3x4 output"},
		{9, Shape{3, 5}, Shape{5, 4}, nil, nil, "want 3 inputs, have 2"},
	}
	for _, c := range cases {
		node := gemmNode(c.c != nil, c.attrs...)
		in := []TestInput{{Name: "a", Shape: c.a}, {Name: "b", Shape: c.b}}
		if c.c != nil {
			in = append(in, TestInput{Name: "c", Shape: c.c})
		}
		checkPlanError(t, c.opset, node, in, c.want)
	}
}

// checkPlanError plans node on runtime inputs and expects an error
// containing want.
func checkPlanError(t *testing.T, opset int64, node *onnx.Node, in []TestInput, want string) {
	t.Helper()
	m, err := Load(nodeModel(opset, node, in))
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Targets: []string{node.Outputs[0]}}
	for _, x := range in {
		spec.Inputs = append(spec.Inputs, InputSpec{Name: x.Name, Shape: x.Shape})
	}
	_, err = m.Plan(spec)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s on %v: error %v, want it to contain %q", describe(node), in, err, want)
	}
}

// matMulCases are numpy matmul shapes: plain, 1-D operands promoted, and
// batch axes broadcast either way, with the numpy result shape.
var matMulCases = []struct{ a, b, y Shape }{
	{Shape{3, 5}, Shape{5, 4}, Shape{3, 4}},
	{Shape{5}, Shape{5, 4}, Shape{4}},
	{Shape{3, 5}, Shape{5}, Shape{3}},
	{Shape{5}, Shape{5}, Shape{}},
	{Shape{2, 3, 5}, Shape{5, 4}, Shape{2, 3, 4}},
	{Shape{5}, Shape{2, 5, 4}, Shape{2, 4}},
	{Shape{2, 1, 3, 5}, Shape{3, 5, 4}, Shape{2, 3, 3, 4}},
	{Shape{1, 3, 5}, Shape{2, 1, 5, 4}, Shape{2, 1, 3, 4}},
}

// naiveMatMul is numpy matmul by the definition: every output element
// indexed in full, operands indexed through broadcasting.
func naiveMatMul(a, b []float32, as, bs, ys Shape) []float32 {
	if len(as) == 1 {
		as = Shape{1, as[0]}
	}
	if len(bs) == 1 {
		bs = Shape{bs[0], 1}
	}
	m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	rank := max(len(as), len(bs))
	full := func(s Shape) Shape { // s padded with leading 1s to rank
		return append(make(Shape, rank-len(s)), s...)
	}
	af, bf := full(as), full(bs)
	for i := range rank - len(as) {
		af[i] = 1
	}
	for i := range rank - len(bs) {
		bf[i] = 1
	}
	out := make([]float32, ys.Size())
	idx := make([]int, rank)
	for e := range out {
		rest := e / (m * n)
		for i := rank - 3; i >= 0; i-- {
			d := max(af[i], bf[i])
			idx[i] = rest % d
			rest /= d
		}
		aOff, bOff := 0, 0
		for i := range rank - 2 {
			aOff = aOff*af[i] + idx[i]%af[i]
			bOff = bOff*bf[i] + idx[i]%bf[i]
		}
		r, c := e%(m*n)/n, e%n
		var s float32
		for p := range k {
			s += a[aOff*m*k+r*k+p] * b[bOff*k*n+p*n+c]
		}
		out[e] = s
	}
	return out
}

func TestMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range matMulCases {
		node := &onnx.Node{OpType: "MatMul", Inputs: []string{"a", "b"}, Outputs: []string{"y"}}
		a, b := awayFromZero(rng, c.a.Size()), awayFromZero(rng, c.b.Size())
		in := []TestInput{{Name: "a", Shape: c.a, F: a}, {Name: "b", Shape: c.b, F: b}}
		t.Run(fmt.Sprintf("%v_times_%v", c.a, c.b), func(t *testing.T) {
			checkNodeOutput(t, 13, node, in, c.y, naiveMatMul(a, b, c.a, c.b, c.y))
			in[0].Grad, in[1].Grad = true, true
			CheckGradient(t, 13, node, in)
		})
	}
}

func TestMatMulErrors(t *testing.T) {
	node := &onnx.Node{OpType: "MatMul", Inputs: []string{"a", "b"}, Outputs: []string{"y"}}
	checkPlanError(t, 13, node, []TestInput{{Name: "a", Shape: Shape{3, 5}}, {Name: "b", Shape: Shape{4, 2}}},
		"MatMul: A is 3x5 and B is 4x2: inner dimensions 5 and 4 differ")
	checkPlanError(t, 13, node, []TestInput{{Name: "a", Shape: Shape{2, 3, 5}}, {Name: "b", Shape: Shape{3, 5, 2}}},
		"MatMul: A is 2x3x5 and B is 3x5x2: batch dimensions 2 and 3 do not broadcast")
}
