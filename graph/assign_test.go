package graph_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/tinynet"
)

// TestInputGradientOfConstantWeightConv checks the input gradient of a
// convolution with constant weights, whose kernel sets its gradient
// buffer instead of having it cleared (im2col at 6x5, Winograd at 40x36),
// against central differences of the objective 0.5*sum(r^2), over two
// backward passes (the second must not see the first's values).
func TestInputGradientOfConstantWeightConv(t *testing.T) {
	m := tinynet.Model()
	ctx := context.Background()
	for _, hw := range [][2]int{{6, 5}, {40, 36}} {
		t.Run(fmt.Sprintf("%dx%d", hw[0], hw[1]), func(t *testing.T) {
			shape := graph.Shape{1, 3, hw[0], hw[1]}
			p, err := m.Plan(graph.Spec{Inputs: []graph.InputSpec{{Name: "x", Shape: shape, Grad: true}}, Targets: []string{"r"}, Backward: true})
			if err != nil {
				t.Fatal(err)
			}
			x := p.Data("x")
			for i := range x {
				x[i] = float32(math.Sin(float64(i)*0.37)) * 2
			}
			objective := func() float64 {
				if err := p.Forward(ctx); err != nil {
					t.Fatal(err)
				}
				sum := 0.0
				for _, v := range p.Data("r") {
					sum += 0.5 * float64(v) * float64(v)
				}
				return sum
			}
			var grad []float32
			for range 2 {
				objective()
				copy(p.Grad("r"), p.Data("r"))
				if err := p.Backward(ctx); err != nil {
					t.Fatal(err)
				}
				grad = append(grad[:0], p.Grad("x")...)
			}
			for _, i := range []int{0, 7, len(x) / 2, len(x) - 1} {
				const eps = 1e-2
				orig := x[i]
				x[i] = orig + eps
				up := objective()
				x[i] = orig - eps
				down := objective()
				x[i] = orig
				want := (up - down) / (2 * eps)
				if math.Abs(float64(grad[i])-want) > 2e-2*(1+math.Abs(want)) {
					t.Errorf("d/dx[%d] = %v, central difference %v", i, grad[i], want)
				}
			}
		})
	}
}
