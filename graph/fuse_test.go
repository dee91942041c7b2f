package graph

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

// convReluModel: x -> Conv 3x3 pad 1 -> c -> Relu -> r -> Sigmoid -> s, and
// r -> MaxPool -> q when pooled (a second reader of the Relu's output).
func convReluModel(pooled bool) *onnx.Model {
	dims := func(d ...int64) []onnx.Dim {
		out := make([]onnx.Dim, len(d))
		for i, v := range d {
			out[i] = onnx.Dim{Value: v}
		}
		return out
	}
	g := &onnx.Graph{
		Inputs: []*onnx.ValueInfo{
			{Name: "x", ElemType: onnx.Float, Dims: dims(1, 3, 6, 5)},
			{Name: "w", ElemType: onnx.Float, Dims: dims(4, 3, 3, 3)},
			{Name: "b", ElemType: onnx.Float, Dims: dims(4)},
		},
		Nodes: []*onnx.Node{
			{Index: 0, Name: "conv", OpType: "Conv", Inputs: []string{"x", "w", "b"}, Outputs: []string{"c"},
				Attrs: []*onnx.Attribute{attrInts("pads", 1, 1, 1, 1)}},
			{Index: 1, Name: "relu", OpType: "Relu", Inputs: []string{"c"}, Outputs: []string{"r"}},
			{Index: 2, Name: "sigmoid", OpType: "Sigmoid", Inputs: []string{"r"}, Outputs: []string{"s"}},
		},
	}
	if pooled {
		g.Nodes = append(g.Nodes, &onnx.Node{Index: 3, Name: "pool", OpType: "MaxPool", Inputs: []string{"r"}, Outputs: []string{"q"},
			Attrs: []*onnx.Attribute{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 0, 0, 1, 1)}})
	}
	return &onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: g}
}

func TestConvReluFusion(t *testing.T) {
	// Seed (9, 9) puts a Conv output within eps of 0, a Relu kink the
	// finite differences straddle; (9, 10) keeps them clear.
	rng := rand.New(rand.NewPCG(9, 10))
	ctx := context.Background()
	w, b := distinct(rng, 4*3*3*3), distinct(rng, 4)
	x := distinct(rng, 3*6*5)
	for _, pooled := range []bool{false, true} {
		m, err := Load(convReluModel(pooled))
		if err != nil {
			t.Fatal(err)
		}
		plan := func(targets ...string) *Plan {
			p, err := m.Plan(Spec{
				Inputs:   []InputSpec{{Name: "x", Shape: Shape{1, 3, 6, 5}, Grad: true}},
				Consts:   map[string]*Value{"w": FloatValue(Shape{4, 3, 3, 3}, w), "b": FloatValue(Shape{4}, b)},
				Targets:  targets,
				Backward: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			copy(p.Data("x"), x)
			return p
		}
		targets := []string{"s"}
		if pooled {
			targets = append(targets, "q")
		}
		fused := plan(targets...)
		// A target on the pair keeps it apart: the reference.
		apart := plan(append(targets, "c")...)
		if fused.Steps() != len(targets)+1 || apart.Steps() != len(targets)+2 {
			t.Fatalf("pooled %v: %d steps fused, %d apart; want the Relu fused away", pooled, fused.Steps(), apart.Steps())
		}
		for _, p := range []*Plan{fused, apart} {
			if err := p.Forward(ctx); err != nil {
				t.Fatal(err)
			}
			for _, name := range targets {
				g := p.Grad(name)
				for i := range g {
					g[i] = float32(i%7) - 3
				}
			}
			clear(apart.Grad("c"))
			if err := p.Backward(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range append(targets, "r") {
			if !slices.Equal(fused.Data(name), apart.Data(name)) {
				t.Errorf("pooled %v: %s fused %v, apart %v", pooled, name, fused.Data(name), apart.Data(name))
			}
		}
		if !slices.Equal(fused.Grad("x"), apart.Grad("x")) {
			t.Errorf("pooled %v: dx fused %v, apart %v", pooled, fused.Grad("x"), apart.Grad("x"))
		}
		for _, name := range targets {
			clear(fused.Grad(name)) // checkPlanGradient seeds the last one
		}
		checkPlanGradient(t, rng, fused, targets[len(targets)-1], []string{"x"}, "fused Conv+Relu")
	}
}
