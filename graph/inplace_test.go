package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"
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
	defer func() { concatInPlace, stackSiblings = true, true }()
	for _, c := range []struct {
		targets []string
		stack   bool
		inPlace []string // the inputs of cat that must be views of it
	}{
		{[]string{"s"}, true, []string{"re", "d"}},
		{[]string{"s"}, false, []string{"ra", "re", "rc", "d"}},
		{[]string{"s", "fc"}, false, []string{"ra", "re", "d"}}, // fc reads rc
		{[]string{"s", "re"}, true, []string{"d"}},
		{[]string{"cat"}, true, nil},
	} {
		what := fmt.Sprintf("targets %v, stacked %v", c.targets, c.stack)
		stackSiblings = c.stack
		plans := map[bool]*Plan{}
		for _, in := range []bool{true, false} {
			concatInPlace = in
			plans[in] = stepSiblings(t, m, x, c.targets)
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
		for _, name := range c.targets {
			compareClose(t, what+": "+name, in.Data(name), apart.Data(name))
		}
		compareClose(t, what+": dx", in.Grad("x"), apart.Grad("x"))
		for _, name := range c.targets {
			clear(in.Grad(name))
		}
		checkPlanGradient(t, rng, in, c.targets[len(c.targets)-1], []string{"x"}, what)
	}
}
