package graph

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestDepthToSpace(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 41))
	// 4 channels of one pixel become a 2x2 block: DCR reads them as
	// [b, b, C'], CRD as [C', b, b]; with one output channel both agree.
	x := TestInput{Name: "x", Shape: Shape{1, 8, 1, 1}, F: []float32{0, 1, 2, 3, 4, 5, 6, 7}}
	for _, c := range []struct {
		mode string
		want []float32
	}{
		{"DCR", []float32{0, 2, 4, 6, 1, 3, 5, 7}},
		{"CRD", []float32{0, 1, 2, 3, 4, 5, 6, 7}},
	} {
		p := planNode(t, rng, 13, shapeNode("DepthToSpace", []string{"x"}, attrInt("blocksize", 2), attrString("mode", c.mode)), []TestInput{x}, false)
		if got := p.Data("y"); !slices.Equal(got, c.want) || !p.Shape("y").Equal(Shape{1, 2, 2, 2}) {
			t.Errorf("DepthToSpace %s: %v %v, want 1x2x2x2 %v", c.mode, p.Shape("y"), got, c.want)
		}
	}
	p := planNode(t, rng, 13, shapeNode("SpaceToDepth", []string{"x"}, attrInt("blocksize", 2)), []TestInput{{Name: "x", Shape: Shape{1, 2, 2, 2}, F: []float32{0, 2, 4, 6, 1, 3, 5, 7}}}, false)
	if got := p.Data("y"); !slices.Equal(got, x.F) || !p.Shape("y").Equal(Shape{1, 8, 1, 1}) {
		t.Errorf("SpaceToDepth: %v %v, want 1x8x1x1 %v", p.Shape("y"), got, x.F)
	}

	x4 := TestInput{Name: "x", Shape: Shape{1, 18, 2, 3}, Grad: true}
	CheckGradient(t, 11, shapeNode("DepthToSpace", []string{"x"}, attrInt("blocksize", 3)), []TestInput{x4})
	CheckGradient(t, 11, shapeNode("DepthToSpace", []string{"x"}, attrInt("blocksize", 3), attrString("mode", "CRD")), []TestInput{x4})
	CheckGradient(t, 13, shapeNode("SpaceToDepth", []string{"x"}, attrInt("blocksize", 2)), []TestInput{{Name: "x", Shape: Shape{2, 3, 4, 6}, Grad: true}})

	for _, c := range []struct {
		op    string
		shape Shape
		b     int64
		want  string
	}{
		{"DepthToSpace", Shape{1, 6, 2, 2}, 2, "not a multiple"},
		{"DepthToSpace", Shape{6, 2, 2}, 2, "want 4-D"},
		{"SpaceToDepth", Shape{1, 1, 3, 4}, 2, "not multiples"},
		{"SpaceToDepth", Shape{1, 1, 4, 4}, 0, "not positive"},
	} {
		err := planError(t, 13, shapeNode(c.op, []string{"x"}, attrInt("blocksize", c.b)), []TestInput{{Name: "x", Shape: c.shape}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s of %v by %d: error %v, want %q", c.op, c.shape, c.b, err, c.want)
		}
	}
}
