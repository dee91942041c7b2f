package dream

import (
	"github.com/deepdream-go/deepdream/graph"
)

// PlanBytes returns the bytes of the buffers Dream plans for req at an
// image of w x h, its largest octave (the smaller octaves' plans fit in
// the same memory): activations, gradients and scratch, lent by one
// graph.Memory. Planning lends the buffers without writing them, so
// planning at a small size is cheap. A plan's buffers grow about linearly
// with the pixels of its input: two small sizes predict a large one.
func (n *Network) PlanBytes(w, h int, req Request) (int64, error) {
	obj, err := n.Resolve(&req)
	if err != nil {
		return 0, err
	}
	mem := &graph.Memory{}
	if _, err := n.newStepper(h, w, obj, mem, req.engine()); err != nil {
		return 0, err
	}
	return 4 * int64(mem.Size()), nil
}

// PyramidBytes bounds the bytes of the images Dream keeps besides its plan
// when it dreams a w x h image as req asks (w x h after MaxSize): the
// octave pyramid, 3 float32s a pixel per octave, all made before the
// first step; the copy of an octave the loop dreams in and the detail it
// carries up, each at most the second octave's size; and the result as
// 8-bit RGBA.
func PyramidBytes(w, h int, req Request) int64 {
	pixels := float64(w) * float64(h)
	octave := 1.0 // pixels of an octave, relative to the first
	sum := 0.0
	for range req.Octaves {
		sum += octave
		octave /= req.OctaveScale * req.OctaveScale
	}
	if req.Octaves > 1 {
		sum += 2 / (req.OctaveScale * req.OctaveScale)
	}
	return int64(12*pixels*sum + 4*pixels)
}
