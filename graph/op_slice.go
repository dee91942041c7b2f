package graph

import (
	"fmt"
	"slices"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("Slice", buildSlice)
	Register("Split", buildSplit)
}

// Slice takes, along some axes, the elements from starts to ends (end
// excluded) steps apart: attributes before opset 10, constant inputs from
// then on (steps from opset 10, negative ones walking backwards). Starts
// and ends count from the end when negative and are clamped to the axis,
// as the spec says. A slice along one axis with step 1 (a chunk of
// channels) is a contiguous copy; others are remaps. Integer constants
// (shape arithmetic) are sliced at plan time.
func buildSlice(n *Node, in []Input) (*Built, error) {
	var starts, ends, axes, steps []int64
	if n.Opset < 10 {
		if err := wantInputs(in, 1, 1); err != nil {
			return nil, err
		}
		for _, a := range []struct {
			name string
			dst  *[]int64
		}{{"starts", &starts}, {"ends", &ends}, {"axes", &axes}} {
			if attr := n.Attr(a.name); attr != nil {
				*a.dst = attr.Ints
			} else if a.name != "axes" {
				return nil, fmt.Errorf("attribute %q is required", a.name)
			}
		}
	} else {
		if err := wantInputs(in, 3, 5); err != nil {
			return nil, err
		}
		for i, dst := range []*[]int64{&starts, &ends, &axes, &steps} {
			if i+1 >= len(in) || !in[i+1].Present() {
				continue
			}
			v, err := planTimeInts(in[i+1], [...]string{"starts", "ends", "axes", "steps"}[i])
			if err != nil {
				return nil, err
			}
			*dst = v
		}
	}
	shape := in[0].Shape
	rank := len(shape)
	if axes == nil {
		for a := range min(len(starts), rank) {
			axes = append(axes, int64(a))
		}
	}
	if steps == nil {
		steps = slices.Repeat([]int64{1}, len(starts))
	}
	if len(ends) != len(starts) || len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, fmt.Errorf("starts %v, ends %v, axes %v and steps %v differ in length", starts, ends, axes, steps)
	}
	first := make([]int, rank) // per axis: first index, step, count
	step := slices.Repeat([]int{1}, rank)
	out := shape.Clone()
	seen := make([]bool, rank)
	for i, a := range axes {
		if a < int64(-rank) || a >= int64(rank) {
			return nil, fmt.Errorf("axes %v: axis %d is out of range for rank %d", axes, a, rank)
		}
		if a < 0 {
			a += int64(rank)
		}
		if seen[a] {
			return nil, fmt.Errorf("axes %v name axis %d twice", axes, a)
		}
		seen[a] = true
		if steps[i] == 0 {
			return nil, fmt.Errorf("steps %v: step %d is 0", steps, i)
		}
		first[a], step[a], out[a] = sliceAxis(starts[i], ends[i], steps[i], shape[a])
	}
	var changed []int
	for a := range rank {
		if out[a] != shape[a] || step[a] != 1 {
			changed = append(changed, a)
		}
	}
	switch c := in[0].Const; {
	case len(changed) == 0:
		return &Built{Out: []Shape{out}, Alias: true, NoGrad: []int{1, 2, 3, 4}}, nil
	case len(changed) == 1 && step[changed[0]] == 1 && (c == nil || !c.Int):
		// One contiguous block per row of the axes before it: a Split
		// whose other parts are dropped.
		a := changed[0]
		before, after := shape.Clone(), shape.Clone()
		before[a], after[a] = first[a], shape[a]-first[a]-out[a]
		p := ops.NewConcat([][]int{before, out, after}, a)
		return &Built{Out: []Shape{out}, Kernel: newSplitKernel(p, []int{1}), NoGrad: []int{1, 2, 3, 4}, BackwardReads: &Reads{}, CanSet: []int{0}}, nil
	}
	p, err := ops.NewSlice(shape, first, step, out)
	if err != nil {
		return nil, err
	}
	return remapBuilt(in[0], out, p, 0, 1, 2, 3, 4)
}

// sliceAxis clamps start and end (count from the end when negative) to an
// axis of size dim as the spec says, and returns the first index, the step
// and the number of elements taken.
func sliceAxis(start, end, step int64, dim int) (first, stride, count int) {
	d := int64(dim)
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	if step > 0 {
		start, end = min(max(start, 0), d), min(max(end, 0), d)
	} else {
		start, end = min(max(start, 0), d-1), min(max(end, -1), d-1)
	}
	step = min(max(step, -d-1), d+1) // beyond the axis: one element, as with ±(d+1)
	n := int64(0)
	if (step > 0 && end > start) || (step < 0 && end < start) {
		n = (end - start + step - sign(step)) / step
	}
	if n <= 1 {
		step = 1 // it does not matter: one element or none
	}
	return int(start), int(step), int(n)
}

func sign(v int64) int64 {
	if v < 0 {
		return -1
	}
	return 1
}

// Split cuts input 0 along axis into the node's outputs: by the split
// sizes (an attribute before opset 13, input 1 from then on, also
// accepted as input 1 at opset 1), else into equal parts (from opset 18,
// num_outputs parts of ceil(size/num_outputs), the last one smaller).
// Integer constants are split at plan time.
func buildSplit(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 2); err != nil {
		return nil, err
	}
	shape := in[0].Shape
	axis, err := n.IntAttr("axis", 0)
	if err != nil {
		return nil, err
	}
	if axis, err = axisIn(axis, len(shape), "axis"); err != nil {
		return nil, err
	}
	dim, outs := shape[axis], len(n.Outputs)
	var sizes []int64
	if len(in) > 1 && in[1].Present() {
		if n.Opset >= 2 && n.Opset < 13 {
			return nil, fmt.Errorf("opset %d takes the split sizes as an attribute, not as input 1", n.Opset)
		}
		if sizes, err = planTimeInts(in[1], "split"); err != nil {
			return nil, err
		}
	} else if a := n.Attr("split"); a != nil && n.Opset < 13 {
		sizes = a.Ints
	}
	if num := n.Attr("num_outputs"); num != nil && n.Opset >= 18 {
		if sizes != nil {
			return nil, fmt.Errorf("both the split sizes and num_outputs are given")
		}
		if num.I != int64(outs) {
			return nil, fmt.Errorf("num_outputs %d, but the node has %d outputs", num.I, outs)
		}
		part := (dim + outs - 1) / outs
		for k := range outs {
			sizes = append(sizes, int64(max(min(part, dim-k*part), 0)))
		}
	}
	if sizes == nil {
		if dim%outs != 0 {
			return nil, fmt.Errorf("axis %d of %v (size %d) cannot be split into %d equal parts", axis, shape, dim, outs)
		}
		sizes = slices.Repeat([]int64{int64(dim / outs)}, outs)
	}
	if len(sizes) != outs {
		return nil, fmt.Errorf("%d split sizes %v for %d outputs", len(sizes), sizes, outs)
	}
	shapes := make([][]int, outs)
	outShapes := make([]Shape, outs)
	total := int64(0)
	for k, s := range sizes {
		if s < 0 || s > int64(dim) {
			return nil, fmt.Errorf("split sizes %v: %d is out of range for axis %d of size %d", sizes, s, axis, dim)
		}
		total += s
		outShapes[k] = shape.Clone()
		outShapes[k][axis] = int(s)
		shapes[k] = outShapes[k]
	}
	if total != int64(dim) {
		return nil, fmt.Errorf("split sizes %v add up to %d, not to the size %d of axis %d of %v", sizes, total, dim, axis, shape)
	}
	if c := in[0].Const; c != nil && c.Int {
		vals := make([]*Value, outs)
		first, steps := make([]int, len(shape)), slices.Repeat([]int{1}, len(shape))
		for k, s := range outShapes {
			p, err := ops.NewSlice(shape, first, steps, s)
			if err != nil {
				return nil, err
			}
			vals[k] = IntValue(s, make([]int64, s.Size()))
			ops.RemapInts(vals[k].I, c.I, 0, p)
			first[axis] += s[axis]
		}
		return &Built{Out: outShapes, Consts: vals}, nil
	}
	at := make([]int, outs)
	for k := range at {
		at[k] = k
	}
	p := ops.NewConcat(shapes, axis)
	return &Built{Out: outShapes, Kernel: newSplitKernel(p, at), NoGrad: []int{1}, BackwardReads: &Reads{}, CanSet: []int{0}}, nil
}

// splitKernel copies parts of input 0 along an axis into the outputs:
// output j is part at[j] of p, the others are dropped.
type splitKernel struct {
	p  *ops.ConcatParams
	at []int
	// parts holds one buffer per part of p for a call, nil for a dropped
	// one (made at plan time: the kernels do not allocate).
	parts [][]float32
}

func newSplitKernel(p *ops.ConcatParams, at []int) *splitKernel {
	return &splitKernel{p: p, at: at, parts: make([][]float32, len(p.Widths))}
}

func (k *splitKernel) Forward(r *Run) {
	for j, out := range r.Out {
		k.parts[k.at[j]] = out
	}
	ops.Split(k.parts, r.In[0], k.p)
}

func (k *splitKernel) Backward(r *Run) {
	if r.DIn[0] == nil {
		return
	}
	for j, dout := range r.DOut {
		k.parts[k.at[j]] = dout
	}
	ops.SplitBackward(r.DIn[0], k.parts, k.p, r.Accumulate[0])
}
