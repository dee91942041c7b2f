package graph

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func TestExpandAndTile(t *testing.T) {
	rng := rand.New(rand.NewPCG(40, 40))
	x := TestInput{Name: "x", Shape: Shape{2, 1}, F: []float32{1, 2}}
	for _, c := range []struct {
		node   *onnx.Node
		inputs []TestInput
		shape  Shape
		want   []float32
	}{
		{shapeNode("Expand", []string{"x", "s"}), []TestInput{x, ints("s", 2, 3)}, Shape{2, 3}, []float32{1, 1, 1, 2, 2, 2}},
		{shapeNode("Expand", []string{"x", "s"}), []TestInput{x, ints("s", 2, 1, 1)}, Shape{2, 2, 1}, []float32{1, 2, 1, 2}},
		{shapeNode("Expand", []string{"x", "s"}), []TestInput{x, ints("s", 1)}, Shape{2, 1}, []float32{1, 2}}, // the shape may be smaller
		{shapeNode("Tile", []string{"x", "r"}), []TestInput{x, ints("r", 2, 3)}, Shape{4, 3}, []float32{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2}},
	} {
		p := planNode(t, rng, 13, c.node, c.inputs, false)
		if got := p.Data("y"); !slices.Equal(got, c.want) || !p.Shape("y").Equal(c.shape) {
			t.Errorf("%s %v: %v %v, want %v %v", c.node.OpType, c.inputs[1].I, p.Shape("y"), got, c.shape, c.want)
		}
	}
	checkAlias(t, 13, shapeNode("Expand", []string{"x", "s"}), Shape{2, 3}, []TestInput{ints("s", 1, 3)}, Shape{2, 3})
	checkAlias(t, 13, shapeNode("Tile", []string{"x", "r"}), Shape{2, 3}, []TestInput{ints("r", 1, 1)}, Shape{2, 3})

	// Gradients: the copies of an element add up onto it.
	CheckGradient(t, 13, shapeNode("Expand", []string{"x", "s"}), []TestInput{{Name: "x", Shape: Shape{3, 1, 2}, Grad: true}, ints("s", 2, 1, 4, 1)})
	CheckGradient(t, 8, shapeNode("Expand", []string{"x", "s"}), []TestInput{{Name: "x", Shape: Shape{1, 8, 1, 1}, Grad: true}, ints("s", 1, 8, 20, 20)})
	CheckGradient(t, 13, shapeNode("Tile", []string{"x", "r"}), []TestInput{{Name: "x", Shape: Shape{2, 3, 2}, Grad: true}, ints("r", 2, 1, 3)})

	// Integer constants are expanded and tiled at plan time.
	c := ints("x", 4, 5)
	for _, k := range []struct {
		node   *onnx.Node
		inputs []TestInput
		want   []int64
	}{
		{shapeNode("Expand", []string{"x", "s"}), []TestInput{c, ints("s", 2, 2)}, []int64{4, 5, 4, 5}},
		{shapeNode("Tile", []string{"x", "r"}), []TestInput{c, ints("r", 2)}, []int64{4, 5, 4, 5}},
	} {
		v := planNode(t, rng, 13, k.node, k.inputs, false).tensors["y"].cnst
		if v == nil || !v.Int || !slices.Equal(v.I, k.want) {
			t.Errorf("%s of an integer constant = %+v, want the constant %v", k.node.OpType, v, k.want)
		}
	}

	for _, c := range []struct {
		node   *onnx.Node
		inputs []TestInput
		want   string
	}{
		{shapeNode("Expand", []string{"x", "s"}), []TestInput{{Name: "x", Shape: Shape{2, 3}}, ints("s", 4)}, "cannot expand"},
		{shapeNode("Expand", []string{"x", "s"}), []TestInput{{Name: "x", Shape: Shape{2, 3}}, ints("s", -1, 3)}, "is invalid"},
		{shapeNode("Tile", []string{"x", "r"}), []TestInput{{Name: "x", Shape: Shape{2, 3}}, ints("r", 2)}, "rank 2"},
		{shapeNode("Tile", []string{"x", "r"}), []TestInput{{Name: "x", Shape: Shape{2, 3}}, ints("r", 2, -1)}, "out of range"},
		{shapeNode("Tile", []string{"x", "r"}), []TestInput{{Name: "x", Shape: Shape{2, 3}}, {Name: "r", Shape: Shape{2}}}, "known at plan time"},
	} {
		if err := planError(t, 13, c.node, c.inputs); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: error %v, want %q", c.node.OpType, c.inputs[1].I, err, c.want)
		}
	}
}

func TestExpandAndTileDoNotAllocate(t *testing.T) {
	checkNoAllocs(t, 13, shapeNode("Expand", []string{"x", "s"}), []TestInput{{Name: "x", Shape: Shape{1, 16, 1, 1}, Grad: true}, ints("s", 1, 16, 20, 20)})
	checkNoAllocs(t, 13, shapeNode("Tile", []string{"x", "r"}), []TestInput{{Name: "x", Shape: Shape{1, 16, 10, 10}, Grad: true}, ints("r", 1, 1, 2, 2)})
	checkNoAllocs(t, 13, shapeNode("DepthToSpace", []string{"x"}, attrInt("blocksize", 2)), []TestInput{{Name: "x", Shape: Shape{1, 16, 10, 10}, Grad: true}})
}
