package dream

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/tinynet"
)

func TestParseLayer(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want Layer
		err  string
	}{
		{"inception_4c/output", Layer{Name: "inception_4c/output", Weight: 1}, ""},
		{"a:97", Layer{Name: "a", Weight: 1, Channels: []int{97}}, ""},
		{"a:1, 5=0.5", Layer{Name: "a", Weight: 0.5, Channels: []int{1, 5}}, ""},
		{"a=x", Layer{}, "weight \"x\" is not a number"},
		{"a=NaN", Layer{}, "is not a number"},
		{"a=-0.5", Layer{Name: "a", Weight: -0.5}, ""},
		{"a=0", Layer{}, "leave the layer out"},
		{"a=-0", Layer{}, "leave the layer out"},
		{"a=1e-50", Layer{}, "leave the layer out"}, // 0 as a float32
		{"a:-1", Layer{}, "not a channel number"},
		{":3", Layer{}, "no layer name"},
	} {
		got, err := ParseLayer(tc.spec)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseLayer(%q) error %v, want one with %q", tc.spec, err, tc.err)
			}
		case err != nil || got.Name != tc.want.Name || got.Weight != tc.want.Weight || !slices.Equal(got.Channels, tc.want.Channels):
			t.Errorf("ParseLayer(%q) = %+v, %v; want %+v", tc.spec, got, err, tc.want)
		}
	}
}

// TestObjectiveValueAndSeed checks the objective of two terms, one on
// chosen channels, and the gradient Seed writes: weight*a on the chosen
// channels, 0 elsewhere.
func TestObjectiveValueAndSeed(t *testing.T) {
	m := tinynet.Model()
	p, err := m.Plan(graph.Spec{
		Inputs:   []graph.InputSpec{{Name: "x", Shape: graph.Shape{1, 3, 5, 4}, Grad: true}},
		Targets:  []string{"c", "r"},
		Backward: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	x := p.Data("x")
	for i := range x {
		x[i] = float32(i%11) - 5
	}
	if err := p.Forward(context.Background()); err != nil {
		t.Fatal(err)
	}
	obj := Objective{{Name: "c", Weight: 2}, {Name: "r", Channels: []int{1, 3}}}
	c, r := p.Data("c"), p.Data("r")
	want := 0.0
	for _, v := range c {
		want += float64(v) * float64(v) // 2 * 0.5 * sum(c^2)
	}
	plane := 5 * 4
	for _, ch := range []int{1, 3} {
		for _, v := range r[ch*plane : (ch+1)*plane] {
			want += float64(v) * float64(v) / 2
		}
	}
	if got := obj.Value(p); math.Abs(got-want) > 1e-9*want {
		t.Errorf("Value = %v, want %v", got, want)
	}
	if got := obj.Seed(p); math.Abs(got-want) > 1e-9*want {
		t.Errorf("Seed = %v, want %v", got, want)
	}
	for i, g := range p.Grad("c") {
		if g != 2*c[i] {
			t.Fatalf("gradient of c[%d] = %v, want 2*%v", i, g, c[i])
		}
	}
	for i, g := range p.Grad("r") {
		want := float32(0)
		if ch := i / plane; ch == 1 || ch == 3 {
			want = r[i]
		}
		if g != want {
			t.Fatalf("gradient of r[%d] = %v, want %v", i, g, want)
		}
	}
}
