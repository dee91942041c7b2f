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
		{"a:1=2@sky.png", Layer{Name: "a", Weight: 2, Channels: []int{1}, Mask: "sky.png"}, ""},
		{"a@masks/x=1:2@b.png", Layer{Name: "a", Weight: 1, Mask: "masks/x=1:2@b.png"}, ""}, // the mask's name is the rest
		{"a=0.5@", Layer{}, "no mask after @"},
		{"@m.png", Layer{}, "no layer name"},
	} {
		got, err := ParseLayer(tc.spec)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseLayer(%q) error %v, want one with %q", tc.spec, err, tc.err)
			}
		case err != nil || got.Name != tc.want.Name || got.Weight != tc.want.Weight || !slices.Equal(got.Channels, tc.want.Channels) || got.Mask != tc.want.Mask:
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

// TestObjectiveWithLayerMasks checks the terms a layer's mask weighs, on
// every channel and on chosen ones: 0.5*sum(m*a^2) times the weight, m
// the mask's value at the element's place in its plane, and a gradient
// of weight*m*a, which adds to that of an unmasked term on the same
// tensor.
func TestObjectiveWithLayerMasks(t *testing.T) {
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
	const plane = 5 * 4
	mask := make([]float32, plane)
	for i := range mask {
		mask[i] = float32(i%4) / 3 // 0 to 1 from left to right
	}
	obj := Objective{{Name: "c"}, {Name: "c", Weight: 2, Mask: "m"}, {Name: "r", Channels: []int{1, 3}, Mask: "m"}}
	got := obj.eval(p, allTerms, 1, new(scratch), [][]float32{nil, mask, mask}, nil)
	c, r := p.Data("c"), p.Data("r")
	want := 0.0
	for i, v := range c {
		want += float64(v)*float64(v)/2 + float64(mask[i%plane])*float64(v)*float64(v)
		if g := p.Grad("c")[i]; math.Abs(float64(g-v-2*mask[i%plane]*v)) > 1e-6 {
			t.Fatalf("gradient of c[%d] = %v, want %v+2*%v*%v", i, g, v, mask[i%plane], v)
		}
	}
	for i, v := range r {
		wantG := float32(0)
		if ch := i / plane; ch == 1 || ch == 3 {
			want += float64(mask[i%plane]) * float64(v) * float64(v) / 2
			wantG = mask[i%plane] * v
		}
		if g := p.Grad("r")[i]; math.Abs(float64(g-wantG)) > 1e-6 {
			t.Fatalf("gradient of r[%d] = %v, want %v", i, g, wantG)
		}
	}
	if math.Abs(got-want) > 1e-6*want {
		t.Errorf("objective with masks = %v, want %v", got, want)
	}
	if v := obj.Value(p); v <= got {
		t.Errorf("Value, which leaves the masks out, is %v; with masks of at most 1, %v", v, got)
	}
}
