package graph

import (
	"fmt"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("LRN", buildLRN)
}

// LRN: local response normalization across channels (size required; alpha
// 1e-4, beta 0.75, bias 1 by default).
func buildLRN(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if err := wantFloat(in, 0); err != nil {
		return nil, err
	}
	x := in[0].Shape
	if len(x) < 2 {
		return nil, fmt.Errorf("input shape %v: want N, C and spatial dimensions", x)
	}
	if n.Attr("size") == nil {
		return nil, fmt.Errorf("attribute size is required")
	}
	size, err := n.IntAttr("size", 0)
	if err != nil {
		return nil, err
	}
	if size < 1 {
		return nil, fmt.Errorf("attribute size = %d, want at least 1", size)
	}
	p := ops.LRNParams{N: x[0], C: x[1], HW: x[2:].Size(), Size: size}
	if p.Alpha, err = n.Float("alpha", 1e-4); err != nil {
		return nil, err
	}
	if p.Beta, err = n.Float("beta", 0.75); err != nil {
		return nil, err
	}
	if p.Bias, err = n.Float("bias", 1); err != nil {
		return nil, err
	}
	// The input is a fused Relu's output, whose mask the backward pass
	// applies.
	p.Relu = n.Fused.ReluInput
	// A window of 5 sets its input gradient in place of its output's
	// (ops.LRNBackward).
	b := &Built{Out: []Shape{x}, Kernel: &lrnKernel{p: p}, BackwardReads: &Reads{In: []int{0}}, CanSet: []int{0}, GradInPlace: size == 5}
	if size != 5 {
		// Other windows than 5 keep the factor for Backward, which
		// recovers the window sums from it (see ops.LRN).
		b.Saved = []SavedSpec{{Floats: x.Size()}}
	}
	return b, nil
}

type lrnKernel struct{ p ops.LRNParams }

// factor is the forward run's s^-beta, kept for Backward (Saved[0]); nil
// for a window of 5, or without a backward pass.
func (k *lrnKernel) factor(r *Run) []float32 {
	if len(r.Saved) == 0 {
		return nil
	}
	return r.Saved[0].F
}

func (k *lrnKernel) Forward(r *Run) { ops.LRN(r.Out[0], k.factor(r), r.In[0], &k.p) }

// Backward can set the input gradient, a block row at a time while it is
// in cache.
func (k *lrnKernel) Backward(r *Run) {
	switch {
	case r.DIn[0] == nil:
	case r.DOut[0] == nil:
		clearSet(r)
	default:
		ops.LRNBackward(r.DIn[0], r.DOut[0], r.In[0], k.factor(r), &k.p, r.Accumulate[0])
	}
}
