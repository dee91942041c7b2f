package graph

import (
	"fmt"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("Transpose", buildTranspose)
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
