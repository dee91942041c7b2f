package graph

import (
	"fmt"
	"slices"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("Gather", buildGather)
}

// Gather picks entries of data along axis by constant indices (negative
// counting from the end). The backward scatters dy back, adding where an
// index repeats.
func buildGather(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	data, indices := in[0], in[1]
	axis, err := n.IntAttr("axis", 0)
	if err != nil {
		return nil, err
	}
	if axis, err = axisIn(axis, len(data.Shape), "axis"); err != nil {
		return nil, err
	}
	if indices.Const == nil {
		return nil, fmt.Errorf("indices input %q must be a constant known at plan time", indices.Name)
	}
	dim := data.Shape[axis]
	idx := make([]int, 0, indices.Const.Shape.Size())
	for i, v := range indices.Const.Ints() {
		if v < -int64(dim) || v >= int64(dim) {
			return nil, fmt.Errorf("index %d (element %d of %q) is out of range for axis %d of size %d", v, i, indices.Name, axis, dim)
		}
		if v < 0 {
			v += int64(dim)
		}
		idx = append(idx, int(v))
	}
	out := slices.Concat(data.Shape[:axis], indices.Const.Shape, data.Shape[axis+1:])
	p, err := ops.NewGather(data.Shape, axis, idx)
	if err != nil {
		return nil, err
	}
	return remapBuilt(data, out, p, 0, 1)
}
