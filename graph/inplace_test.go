package graph

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

// TestConcatInPlace checks that the inputs of the siblings model's
// concatenation that only it reads (e and d, and a and c when the 1x1
// convolutions run apart) are views of its output, and that the plan gives
// the values and input gradient of the plan that copies them, with its
// gradient checked by finite differences; with the concatenation or one
// of its inputs a target, those stay apart.
func TestConcatInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22)) // TestSiblingConvs's model and point: few kinks
	m, err := Load(siblingsModel(rng))
	if err != nil {
		t.Fatal(err)
	}
	x := distinct(rng, 4*5*6)
	for _, c := range []struct {
		targets []string
		stack   bool
		inPlace []string // the inputs of cat that must be views of it
		// early: cat copies ra and rc right after the stacked
		// convolution, before d and e run
		early bool
	}{
		{[]string{"s"}, true, []string{"re", "d"}, true},
		{[]string{"s"}, false, []string{"ra", "re", "rc", "d"}, false},
		{[]string{"s", "fc"}, false, []string{"ra", "re", "d"}, false}, // fc reads rc
		{[]string{"s", "re"}, true, []string{"d"}, false},              // re, copied, comes last
		{[]string{"cat"}, true, nil, false},
	} {
		what := fmt.Sprintf("targets %v, stacked %v", c.targets, c.stack)
		plans, values := map[bool]*Plan{}, map[bool]map[string][]float32{}
		for _, in := range []bool{true, false} {
			plans[in], values[in] = stepSiblings(t, m, x, c.targets, Options{NoStacking: !c.stack, NoConcatInPlace: !in})
		}
		in, apart := plans[true], plans[false]
		cat := in.tensors["cat"]
		views := 0
		for _, name := range []string{"ra", "re", "rc", "d"} {
			if in.tensors[name].root == cat {
				views++
			}
		}
		for _, name := range c.inPlace {
			if in.tensors[name].root != cat {
				t.Errorf("%s: %s is not in place in cat", what, name)
			}
		}
		if views != len(c.inPlace) {
			t.Errorf("%s: %d inputs of cat in place, want %d (%v)", what, views, len(c.inPlace), c.inPlace)
		}
		at := slices.IndexFunc(in.steps, func(s *step) bool { return s.outT[0] == cat })
		if early := at == 1 && in.steps[0].outT[0] == in.tensors["ra"].root; early != c.early {
			t.Errorf("%s: cat is step %d of %d, right after the stacked convolution %v, want %v", what, at, len(in.steps), early, c.early)
		}
		for _, name := range c.targets {
			compareClose(t, what+": "+name, values[true][name], values[false][name])
		}
		compareClose(t, what+": dx", in.Grad("x"), apart.Grad("x"))
		checkPlanGradient(t, rng, in, c.targets[len(c.targets)-1], []string{"x"}, what)
	}
}

// TestConcatInPlaceNested checks a concatenation of a concatenation:
// the inner one's inputs go in place, and the outer one copies the inner
// output (views of views are not planned) but takes its other input in
// place; the values and gradient are the copying plan's.
func TestConcatInPlaceNested(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	cat := func(i int, out string, ins ...string) *onnx.Node {
		return &onnx.Node{Index: i, Name: out, OpType: "Concat", Inputs: ins, Outputs: []string{out}, Attrs: []*onnx.Attribute{attrInt("axis", 1)}}
	}
	unary := func(i int, op, in, out string) *onnx.Node {
		return &onnx.Node{Index: i, Name: out, OpType: op, Inputs: []string{in}, Outputs: []string{out}}
	}
	m, err := Load(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Inputs: []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Dims: []onnx.Dim{{Value: 1}, {Value: 4}, {Value: 5}, {Value: 6}}}},
		Nodes: []*onnx.Node{
			unary(0, "Relu", "x", "a"), unary(1, "Sigmoid", "x", "b"), unary(2, "LeakyRelu", "x", "c"),
			cat(3, "inner", "a", "b"), cat(4, "outer", "inner", "c"), unary(5, "Sigmoid", "outer", "s"),
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	x := distinct(rng, 4*5*6)
	for i, v := range x { // clear of the kinks at 0, by more than the finite differences' step
		if v > -0.05 && v < 0.05 {
			x[i] += 0.1
		}
	}
	plans, values := map[bool]*Plan{}, map[bool][]float32{}
	for _, in := range []bool{true, false} {
		p, err := m.Plan(Spec{Inputs: []InputSpec{{Name: "x", Shape: Shape{1, 4, 5, 6}, Grad: true}}, Targets: []string{"s"}, Backward: true, Options: Options{NoConcatInPlace: !in}})
		if err != nil {
			t.Fatal(err)
		}
		copy(p.Data("x"), x)
		values[in] = stepSeeded(t, p, []string{"s"})["s"]
		plans[in] = p
	}
	in := plans[true]
	inner, outer := in.tensors["inner"], in.tensors["outer"]
	for name, root := range map[string]*tensor{"a": inner, "b": inner, "inner": inner, "c": outer} {
		if got := in.tensors[name].root; got != root {
			t.Errorf("%s is on %s's buffer, want %s's", name, got.name, root.name)
		}
	}
	compareClose(t, "nested: s", values[true], values[false])
	compareClose(t, "nested: dx", in.Grad("x"), plans[false].Grad("x"))
	checkPlanGradient(t, rng, in, "s", []string{"x"}, "nested concatenations")
}
