package graph

import (
	"fmt"
	"slices"

	"github.com/deepdream-go/deepdream/ops"
)

// Transpose, Gather and Pad move data by a precomputed index map
// (ops.RemapParams); so do Slice, Expand, Tile and DepthToSpace in their own
// files. remapBuilt turns a map into a node.
func init() {
	Register("Transpose", buildTranspose)
	Register("Gather", buildGather)
	Register("Pad", buildPad)
}

// Transpose: output axis i is input axis perm[i] (default: reversed). The
// backward is the inverse permutation, run as the remap's scatter.
func buildTranspose(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	shape := in[0].Shape
	rank := len(shape)
	perm, err := n.Ints("perm", nil)
	if err != nil {
		return nil, err
	}
	if perm == nil {
		for i := range rank {
			perm = append(perm, rank-1-i)
		}
	}
	if len(perm) != rank {
		return nil, fmt.Errorf("perm %v has %d entries for an input of rank %d (%v)", perm, len(perm), rank, shape)
	}
	seen := make([]bool, rank)
	out := make(Shape, rank)
	for i, a := range perm {
		if a < 0 || a >= rank || seen[a] {
			return nil, fmt.Errorf("perm %v is not a permutation of 0..%d", perm, rank-1)
		}
		seen[a] = true
		out[i] = shape[a]
	}
	p, err := ops.NewTranspose(shape, perm)
	if err != nil {
		return nil, err
	}
	return remapBuilt(in[0], out, p, 0)
}

// remapBuilt finishes a builder whose operator is a remap of input 0:
// integer constants are moved at plan time, float tensors by a kernel.
func remapBuilt(data Input, out Shape, p *ops.RemapParams, fill float32, noGrad ...int) (*Built, error) {
	if c := data.Const; c != nil && c.Int {
		v := IntValue(out, make([]int64, out.Size()))
		ops.RemapInts(v.I, c.I, int64(fill), p)
		return &Built{Out: []Shape{out}, Consts: []*Value{v}}, nil
	}
	// The backward scatters the output's gradient: it reads no values.
	return &Built{Out: []Shape{out}, Kernel: &remapKernel{p: p, fill: fill, fillInput: -1}, NoGrad: noGrad, BackwardReads: &Reads{}}, nil
}

type remapKernel struct {
	p    *ops.RemapParams
	fill float32
	// fillInput, when >= 0, is the input whose first element is the fill,
	// read at run time (Pad's constant_value fed as a graph input).
	fillInput int
}

func (k *remapKernel) Forward(r *Run) {
	fill := k.fill
	if k.fillInput >= 0 {
		fill = r.In[k.fillInput][0]
	}
	ops.Remap(r.Out[0], r.In[0], fill, k.p)
}

func (k *remapKernel) Backward(r *Run) {
	if r.DIn[0] != nil && r.DOut[0] != nil {
		ops.RemapBackward(r.DIn[0], r.DOut[0], k.p)
	}
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

var padModes = map[string]ops.PadMode{"constant": ops.PadConstant, "reflect": ops.PadReflect, "edge": ops.PadEdge}

// Pad: pads (negative ones crop) and the constant value are attributes
// before opset 11, constant inputs from then on; opset 18 adds the axes the
// pads apply to. The backward of a constant pad is a crop; edge and reflect
// add each padded element's gradient back onto the element it repeats.
func buildPad(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 4); err != nil {
		return nil, err
	}
	mode, err := n.String("mode", "constant")
	if err != nil {
		return nil, err
	}
	pm, ok := padModes[mode]
	if !ok {
		return nil, fmt.Errorf("mode %q is not supported (constant, reflect, edge are)", mode)
	}
	data := in[0].Shape
	rank := len(data)
	var pads []int
	var fill float32
	if n.Opset < 11 {
		if err := wantInputs(in, 1, 1); err != nil {
			return nil, err
		}
		name := "pads"
		if n.Opset < 2 {
			name = "paddings"
		}
		if pads, err = n.Ints(name, nil); err != nil {
			return nil, err
		}
		if pads == nil {
			return nil, fmt.Errorf("attribute %q is required", name)
		}
		if fill, err = n.Float("value", 0); err != nil {
			return nil, err
		}
	} else {
		if pads, fill, err = padInputs(in, rank); err != nil {
			return nil, err
		}
	}
	if len(pads) != 2*rank {
		return nil, fmt.Errorf("%d pads for an input of rank %d (%v), want %d", len(pads), rank, data, 2*rank)
	}
	p, err := ops.NewPad(data, pads, pm)
	if err != nil {
		return nil, err
	}
	b, err := remapBuilt(in[0], Shape(p.Dims[:rank]), p, fill, 1, 2, 3)
	if err != nil {
		return nil, err
	}
	if k, ok := b.Kernel.(*remapKernel); ok && len(in) > 2 && in[2].Present() && in[2].Const == nil {
		k.fillInput = 2 // a float fill that changes from run to run
	}
	return b, nil
}

// padInputs reads the pads, constant_value and axes inputs of opset 11 on,
// all constant at plan time, and spreads the pads over every axis.
func padInputs(in []Input, rank int) (pads []int, fill float32, err error) {
	if err := wantInputs(in, 2, 4); err != nil {
		return nil, 0, err
	}
	given, err := planTimeInts(in[1], "pads")
	if err != nil {
		return nil, 0, err
	}
	if len(in) > 2 && in[2].Present() {
		if in[2].Shape.Size() != 1 {
			return nil, 0, fmt.Errorf("constant_value input %q has shape %v, want one element", in[2].Name, in[2].Shape)
		}
		if in[2].Const != nil {
			fill = in[2].Const.Floats()[0]
		}
	}
	axes := make([]int64, rank)
	for i := range axes {
		axes[i] = int64(i)
	}
	if len(in) > 3 && in[3].Present() {
		if axes, err = planTimeInts(in[3], "axes"); err != nil {
			return nil, 0, err
		}
	}
	if len(given) != 2*len(axes) {
		return nil, 0, fmt.Errorf("%d pads for %d axes, want %d", len(given), len(axes), 2*len(axes))
	}
	pads = make([]int, 2*rank)
	for i, a := range axes {
		ax, err := axisIn(int(a), rank, "axis")
		if err != nil {
			return nil, 0, err
		}
		before, after := given[i], given[len(axes)+i]
		if max(before, after) > 1<<31 || min(before, after) < -1<<31 {
			return nil, 0, fmt.Errorf("pads %v are out of range", given)
		}
		pads[ax], pads[rank+ax] = int(before), int(after)
	}
	return pads, fill, nil
}
