package graph

import (
	"fmt"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("Expand", buildExpand)
	Register("Tile", buildTile)
}

// Expand broadcasts input 0 with the constant shape input, numpy style
// (the output's size along an axis is the larger of the two). The backward
// adds the gradients of the copies of an element onto it.
func buildExpand(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	target, err := planTimeInts(in[1], "shape")
	if err != nil {
		return nil, err
	}
	dims := make([]int, len(target))
	for i, d := range target {
		if d < 1 || d > 1<<31 {
			return nil, fmt.Errorf("shape %v: dimension %d is invalid", target, d)
		}
		dims[i] = int(d)
	}
	out, _, err := ops.NewBroadcast(in[0].Shape, dims)
	if err != nil {
		return nil, fmt.Errorf("cannot expand %v to shape %v: %w", in[0].Shape, target, err)
	}
	if Shape(out).Equal(in[0].Shape) {
		return &Built{Out: []Shape{out}, Alias: true, NoGrad: []int{1}}, nil
	}
	p, err := ops.NewExpand(in[0].Shape, out)
	if err != nil {
		return nil, err
	}
	return remapBuilt(in[0], out, p, 0, 1)
}

// Tile repeats input 0 repeats[a] times along each axis a (opset 6 on:
// the repeats are a constant input). The backward adds the gradients of
// the copies of an element onto it.
func buildTile(n *Node, in []Input) (*Built, error) {
	if n.Opset < 6 {
		return nil, fmt.Errorf("opset %d Tile (tiles and axis inputs) is not supported; opset 6 and later are", n.Opset)
	}
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	v, err := planTimeInts(in[1], "repeats")
	if err != nil {
		return nil, err
	}
	shape := in[0].Shape
	if len(v) != len(shape) {
		return nil, fmt.Errorf("repeats %v have %d entries for an input of rank %d (%v)", v, len(v), len(shape), shape)
	}
	repeats := make([]int, len(v))
	out := shape.Clone()
	for a, r := range v {
		if r < 0 || r > 1<<31 || int64(shape[a])*r > 1<<31 {
			return nil, fmt.Errorf("repeats %v: %d is out of range for axis %d of size %d", v, r, a, shape[a])
		}
		repeats[a] = int(r)
		out[a] *= repeats[a]
	}
	if out.Equal(shape) {
		return &Built{Out: []Shape{out}, Alias: true, NoGrad: []int{1}}, nil
	}
	p, err := ops.NewTile(shape, repeats)
	if err != nil {
		return nil, err
	}
	return remapBuilt(in[0], out, p, 0, 1)
}
