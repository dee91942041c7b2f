package graph

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveSoftmax normalizes x over groups of n elements stride apart.
func naiveSoftmax(x []float32, outer, n, inner int) []float64 {
	y := make([]float64, len(x))
	for o := range outer {
		for i := range inner {
			sum := 0.0
			for k := range n {
				sum += math.Exp(float64(x[(o*n+k)*inner+i]))
			}
			for k := range n {
				j := (o*n+k)*inner + i
				y[j] = math.Exp(float64(x[j])) / sum
			}
		}
	}
	return y
}

func TestSoftmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	shape := Shape{2, 3, 4}
	for _, c := range []struct {
		opset           int64
		axis            *int64
		outer, n, inner int
	}{
		{11, nil, 2, 12, 1}, // axis 1, flattened to 2x12
		{11, softmaxAxis(2), 6, 4, 1},
		{11, softmaxAxis(0), 1, 24, 1},
		{11, softmaxAxis(-2), 2, 12, 1},
		{13, nil, 6, 4, 1}, // axis -1
		{13, softmaxAxis(1), 2, 3, 4},
		{13, softmaxAxis(0), 1, 2, 12},
	} {
		node := poolNode("Softmax")
		if c.axis != nil {
			node.Attrs = append(node.Attrs, attrInt("axis", *c.axis))
		}
		x := make([]float32, shape.Size())
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 3)
		}
		x[0] = 80 // exp overflows float32 without the max shift
		p := planNode(t, rng, c.opset, node, []TestInput{{Name: "x", Shape: shape, F: x}}, false)
		want := naiveSoftmax(x, c.outer, c.n, c.inner)
		for i, v := range p.Data("y") {
			if math.Abs(float64(v)-want[i]) > 1e-6 {
				t.Fatalf("opset %d %s: y[%d] = %v, want %v", c.opset, describe(node), i, v, want[i])
			}
		}
		x[0] = 1 // keep the gradient away from saturation
		CheckGradient(t, c.opset, node, []TestInput{{Name: "x", Shape: shape, F: x, Grad: true}})
	}
}

func softmaxAxis(v int64) *int64 { return &v }
