package graph

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func TestLRNForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	// One pixel, 4 channels, size 3: channel c sees c-1..c+1.
	x := []float32{1, 2, -3, 4}
	node := poolNode("LRN", attrInt("size", 3), attrFloat("alpha", 0.3), attrFloat("beta", 0.75), attrFloat("bias", 2))
	p := planNode(t, rng, 13, node, []TestInput{{Name: "x", Shape: Shape{1, 4, 1, 1}, F: x}}, false)
	sq := []float64{1 + 4, 1 + 4 + 9, 4 + 9 + 16, 9 + 16}
	for c, v := range p.Data("y") {
		want := float64(x[c]) / math.Pow(2+0.1*sq[c], 0.75)
		if math.Abs(float64(v)-want) > 1e-6 {
			t.Errorf("y[%d] = %v, want %v", c, v, want)
		}
	}
}

func TestLRNGradient(t *testing.T) {
	shape := Shape{1, 10, 3, 4}
	for _, attrs := range [][]*onnx.Attribute{
		// GoogLeNet's norm1 and norm2.
		{attrInt("size", 5), attrFloat("alpha", 1e-4), attrFloat("beta", 0.75), attrFloat("bias", 1)},
		// Large alpha, so that the cross-channel term matters.
		{attrInt("size", 5), attrFloat("alpha", 3), attrFloat("beta", 0.75), attrFloat("bias", 1)},
		// An even size (asymmetric window) and a beta without a fast path.
		{attrInt("size", 4), attrFloat("alpha", 1), attrFloat("beta", 0.6), attrFloat("bias", 1.5)},
		{attrInt("size", 3)}, // the defaults
	} {
		CheckGradient(t, 13, poolNode("LRN", attrs...), []TestInput{{Name: "x", Shape: shape, Grad: true}})
	}
}

// TestLRNGradientInPlace checks that an LRN of 5 channels between two
// other nodes sets its input gradient over its output gradient (one
// buffer, not cleared first), and that the gradient through it is right.
func TestLRNGradientInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	unary := func(i int, op, in, out string) *onnx.Node {
		return &onnx.Node{Index: i, Name: out, OpType: op, Inputs: []string{in}, Outputs: []string{out}}
	}
	lrn := unary(1, "LRN", "a", "q")
	lrn.Attrs = []*onnx.Attribute{attrInt("size", 5), attrFloat("alpha", 3), attrFloat("beta", 0.75), attrFloat("bias", 1)}
	m, err := Load(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Inputs: []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float}},
		Nodes:  []*onnx.Node{unary(0, "Sigmoid", "x", "a"), lrn, unary(2, "Sigmoid", "q", "s")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Plan(Spec{Inputs: []InputSpec{{Name: "x", Shape: Shape{1, 9, 4, 5}, Grad: true}}, Targets: []string{"s"}, Backward: true})
	if err != nil {
		t.Fatal(err)
	}
	copy(p.Data("x"), distinct(rng, 9*4*5))
	r := p.steps[1].run
	if &r.DIn[0][0] != &r.DOut[0][0] || r.Accumulate[0] {
		t.Errorf("the LRN's input gradient is not set in place of its output gradient (accumulate %v)", r.Accumulate[0])
	}
	checkPlanGradient(t, rng, p, "s", []string{"x"}, "LRN in place")
}
