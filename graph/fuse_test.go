package graph

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

// convReluModel: x -> Conv 3x3 pad 1 -> c -> Relu -> r -> Sigmoid -> s, and
// r -> reader (MaxPool or LRN, unless "") -> q, a second reader of the
// Relu's output; with only, the reader is r's only one: s = Sigmoid(q).
func convReluModel(reader string, only bool) *onnx.Model {
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
	if reader == "" {
		return &onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: g}
	}
	attrs := []*onnx.Attribute{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 0, 0, 1, 1)}
	if reader == "LRN" {
		attrs = []*onnx.Attribute{attrInt("size", 3), {Name: "alpha", Type: onnx.AttrFloat, F: 0.01}}
	}
	g.Nodes = append(g.Nodes, &onnx.Node{Index: 3, Name: "reader", OpType: reader, Inputs: []string{"r"}, Outputs: []string{"q"}, Attrs: attrs})
	if only { // the Sigmoid after the reader, reading q
		sig, rd := g.Nodes[2], g.Nodes[3]
		sig.Inputs[0], sig.Index, rd.Index = "q", 3, 2
		g.Nodes[2], g.Nodes[3] = rd, sig
	}
	return &onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: g}
}

func TestConvReluFusion(t *testing.T) {
	// Seed (9, 9) puts a Conv output within eps of 0, a Relu kink the
	// finite differences straddle; (9, 10) keeps them clear.
	rng := rand.New(rand.NewPCG(9, 10))
	w, b := distinct(rng, 4*3*3*3), distinct(rng, 4)
	x := distinct(rng, 3*6*5)
	for variant, c := range []struct {
		reader string
		only   bool
	}{{"", false}, {"MaxPool", false}, {"MaxPool", true}, {"LRN", false}, {"LRN", true}} {
		// The Relu read by the Sigmoid, by it and a MaxPool or LRN, or by
		// the MaxPool or LRN only, which then applies the Relu's mask.
		pooled, poolOnly := c.reader != "", c.only
		m, err := Load(convReluModel(c.reader, c.only))
		if err != nil {
			t.Fatal(err)
		}
		bias := b
		if c.reader == "MaxPool" && c.only {
			// Negative enough for some windows to hold no positive value.
			bias = make([]float32, len(b))
			for i, v := range b {
				bias[i] = v - 8
			}
		}
		plan := func(targets ...string) *Plan {
			p, err := m.Plan(Spec{
				Inputs:   []InputSpec{{Name: "x", Shape: Shape{1, 3, 6, 5}, Grad: true}},
				Consts:   map[string]*Value{"w": FloatValue(Shape{4, 3, 3, 3}, w), "b": FloatValue(Shape{4}, bias)},
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
		if pooled && !poolOnly {
			targets = append(targets, "q")
		}
		fused := plan(targets...)
		// A target on the pair keeps it apart: the reference.
		apart := plan(append(targets, "c")...)
		steps := len(targets) + 1
		if poolOnly {
			steps++
		}
		if fused.Steps() != steps || apart.Steps() != steps+1 {
			t.Fatalf("variant %d: %d steps fused, %d apart; want the Relu fused away", variant, fused.Steps(), apart.Steps())
		}
		// The MaxPool masks the gradient when it is the only reader.
		for _, st := range fused.steps {
			switch k := st.kernel.(type) {
			case *convKernel:
				if k.masks == poolOnly {
					t.Errorf("variant %d: the Conv keeps a Relu mask: %v", variant, k.masks)
				}
			case *maxPoolKernel:
				if k.positive != poolOnly {
					t.Errorf("variant %d: the MaxPool stores positive taps only: %v", variant, k.positive)
				}
			case *lrnKernel:
				if k.p.Relu != poolOnly {
					t.Errorf("variant %d: the LRN masks its input gradient: %v", variant, k.p.Relu)
				}
			}
		}
		// Values and saved taps are there after Forward (Backward reuses
		// their memory as it is done with them).
		for _, p := range []*Plan{fused, apart} {
			if err := p.Forward(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		for _, st := range fused.steps {
			if k, ok := st.kernel.(*maxPoolKernel); ok && k.positive {
				// Some windows' maxima are 0: the mask is exercised.
				if n := bytes.Count(k.taps(&st.run), []byte{255}); n == 0 {
					t.Errorf("variant %d: no window of the MaxPool has a maximum of 0", variant)
				}
			}
		}
		for _, name := range append(targets, "r") {
			if !slices.Equal(fused.Data(name), apart.Data(name)) {
				t.Errorf("variant %d: %s fused %v, apart %v", variant, name, fused.Data(name), apart.Data(name))
			}
		}
		stepSeeded(t, fused, targets)
		stepSeeded(t, apart, targets, "c")
		if !slices.Equal(fused.Grad("x"), apart.Grad("x")) {
			t.Errorf("variant %d: dx fused %v, apart %v", variant, fused.Grad("x"), apart.Grad("x"))
		}
		if c.reader == "LRN" {
			// Its curvature defeats the finite differences near the
			// Relu's kinks; the apart plan's gradient, equal bit for bit,
			// is the check (the LRN's own is in op_lrn_test.go).
			continue
		}
		checkPlanGradient(t, rng, fused, targets[len(targets)-1], []string{"x"}, fmt.Sprintf("fused Conv+Relu, variant %d", variant))
	}
}

// siblingsModel: x [1,4,5,6] read by three 1x1 convolutions a, b, c (3, 5
// and 2 channels, each followed by a Relu: ra, rb, rc) and a 3x3 one d;
// rb -> 3x3 conv e -> re; s = Sigmoid(Concat(ra, re, rc, d)); fc =
// Flatten(rc). The weights are initializers, as in a model file.
func siblingsModel(rng *rand.Rand) *onnx.Model {
	init := func(name string, dims ...int64) *onnx.Tensor {
		n := int64(1)
		for _, d := range dims {
			n *= d
		}
		return &onnx.Tensor{Name: name, DataType: onnx.Float, Dims: dims, FloatData: distinct(rng, int(n))}
	}
	conv := func(i int, name, w, b, out string, pad int64) *onnx.Node {
		n := &onnx.Node{Index: i, Name: name, OpType: "Conv", Inputs: []string{"x", w, b}, Outputs: []string{out}}
		if pad > 0 {
			n.Attrs = []*onnx.Attribute{attrInts("pads", pad, pad, pad, pad)}
		} else {
			n.Attrs = []*onnx.Attribute{attrInts("kernel_shape", 1, 1), attrInts("strides", 1, 1), attrInts("pads", 0, 0, 0, 0)}
		}
		return n
	}
	relu := func(i int, in, out string) *onnx.Node {
		return &onnx.Node{Index: i, Name: out, OpType: "Relu", Inputs: []string{in}, Outputs: []string{out}}
	}
	e := conv(7, "e", "we", "be", "e", 1)
	e.Inputs[0] = "rb"
	g := &onnx.Graph{
		Inputs: []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Dims: []onnx.Dim{{Value: 1}, {Value: 4}, {Value: 5}, {Value: 6}}}},
		Initializers: []*onnx.Tensor{
			init("wa", 3, 4, 1, 1), init("ba", 3), init("wb", 5, 4, 1, 1), init("bb", 5), init("wc", 2, 4, 1, 1), init("bc", 2),
			init("wd", 2, 4, 3, 3), init("bd", 2), init("we", 4, 5, 3, 3), init("be", 4),
		},
		Nodes: []*onnx.Node{
			conv(0, "a", "wa", "ba", "a", 0), relu(1, "a", "ra"),
			conv(2, "b", "wb", "bb", "b", 0), relu(3, "b", "rb"),
			conv(4, "d", "wd", "bd", "d", 1),
			conv(5, "c", "wc", "bc", "c", 0), relu(6, "c", "rc"),
			e, relu(8, "e", "re"),
			{Index: 9, Name: "cat", OpType: "Concat", Inputs: []string{"ra", "re", "rc", "d"}, Outputs: []string{"cat"}, Attrs: []*onnx.Attribute{attrInt("axis", 1)}},
			{Index: 10, Name: "s", OpType: "Sigmoid", Inputs: []string{"cat"}, Outputs: []string{"s"}},
			{Index: 11, Name: "fc", OpType: "Flatten", Inputs: []string{"rc"}, Outputs: []string{"fc"}},
		},
	}
	return &onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: g}
}

// TestSiblingConvs checks that the three 1x1 convolutions reading x run
// stacked (two steps fewer) and give the values and input gradient of the
// plan that keeps them apart, also with a target (fc) viewing one of their
// outputs; and checks the stacked plan's gradient by finite differences.
func TestSiblingConvs(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	m, err := Load(siblingsModel(rng))
	if err != nil {
		t.Fatal(err)
	}
	x := distinct(rng, 4*5*6)
	for _, targets := range [][]string{{"s"}, {"s", "fc"}} {
		plans, values := map[bool]*Plan{}, map[bool]map[string][]float32{}
		for _, stack := range []bool{true, false} {
			plans[stack], values[stack] = stepSiblings(t, m, x, targets, Options{NoStacking: !stack})
		}
		stacked, apart := plans[true], plans[false]
		if stacked.Steps() != apart.Steps()-2 {
			t.Fatalf("targets %v: %d steps stacked, %d apart; want the three 1x1 convolutions as one", targets, stacked.Steps(), apart.Steps())
		}
		for _, name := range targets {
			compareClose(t, fmt.Sprintf("targets %v: %s", targets, name), values[true][name], values[false][name])
		}
		compareClose(t, fmt.Sprintf("targets %v: dx", targets), stacked.Grad("x"), apart.Grad("x"))
		checkPlanGradient(t, rng, stacked, targets[len(targets)-1], []string{"x"}, "stacked sibling convolutions")
	}
}

// stepSiblings plans siblingsModel m for targets with a gradient to x and
// runs it on x (stepSeeded), returning the targets' values.
func stepSiblings(t *testing.T, m *Model, x []float32, targets []string, opts Options) (*Plan, map[string][]float32) {
	t.Helper()
	p, err := m.Plan(Spec{Inputs: []InputSpec{{Name: "x", Shape: Shape{1, 4, 5, 6}, Grad: true}}, Targets: targets, Backward: true, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	copy(p.Data("x"), x)
	return p, stepSeeded(t, p, targets)
}

// stepSeeded runs p forward, sets the gradients of seeded to a fixed
// pattern and those of zeroed to 0, and runs it backward. It returns the
// values of the targets, which Backward does not keep, as Forward left
// them.
func stepSeeded(t *testing.T, p *Plan, seeded []string, zeroed ...string) map[string][]float32 {
	t.Helper()
	ctx := context.Background()
	if err := p.Forward(ctx); err != nil {
		t.Fatal(err)
	}
	values := map[string][]float32{}
	for _, tt := range p.targets {
		values[tt.name] = slices.Clone(p.Data(tt.name))
	}
	for _, name := range seeded {
		g := p.Grad(name)
		for i := range g {
			g[i] = float32(i%7) - 3
		}
	}
	for _, name := range zeroed {
		clear(p.Grad(name))
	}
	if err := p.Backward(ctx); err != nil {
		t.Fatal(err)
	}
	return values
}

// compareClose fails t unless got and want have the same length and agree
// to 1e-5 of their magnitude (stacking changes the order of sums).
func compareClose(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestSiblingConvsNameTaken checks that siblings stay apart when the model
// already names a tensor as their stacked output would be named.
func TestSiblingConvsNameTaken(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	om := siblingsModel(rng)
	for _, n := range om.Graph.Nodes {
		if n.Name == "fc" {
			n.Outputs = []string{"a+b+c"}
		}
	}
	m, err := Load(om)
	if err != nil {
		t.Fatal(err)
	}
	steps := map[bool]int{}
	for _, stack := range []bool{true, false} {
		p, err := m.Plan(Spec{Inputs: []InputSpec{{Name: "x", Shape: Shape{1, 4, 5, 6}, Grad: true}}, Targets: []string{"s", "a+b+c"}, Backward: true, Options: Options{NoStacking: !stack}})
		if err != nil {
			t.Fatal(err)
		}
		steps[stack] = p.Steps()
	}
	if steps[true] != steps[false] {
		t.Fatalf("%d steps with stacking on, %d off: the siblings were stacked under a name the model uses", steps[true], steps[false])
	}
}
