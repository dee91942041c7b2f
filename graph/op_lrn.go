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
	// applies (reluInputAttr).
	p.Relu = n.Attr(reluInputAttr) != nil
	k := &lrnKernel{p: p}
	if size != 5 && !n.shapesOnly {
		// Other windows than 5 keep the factor for Backward, which
		// recovers the window sums from it (see ops.LRN).
		k.factor = make([]float32, x.Size())
	}
	return &Built{Out: []Shape{x}, Kernel: k, BackwardReads: &Reads{In: []int{0}}}, nil
}

type lrnKernel struct {
	p      ops.LRNParams
	factor []float32 // the forward run's s^-beta, for Backward; nil for a window of 5
	// setDx makes Backward set din[0] instead of adding to it (assign).
	setDx bool
}

// assign: Backward can set the input gradient, a block row at a time
// while it is in cache.
func (k *lrnKernel) assign(i int) bool {
	if i != 0 {
		return false
	}
	k.setDx = true
	return true
}

func (k *lrnKernel) Forward(out, in [][]float32) { ops.LRN(out[0], k.factor, in[0], &k.p) }

func (k *lrnKernel) Backward(din, dout, in, out [][]float32) {
	switch {
	case din[0] == nil:
	case dout[0] == nil:
		clearIfSet(k.setDx, din[0])
	case k.setDx:
		ops.LRNInputGradient(din[0], dout[0], in[0], k.factor, &k.p)
	default:
		ops.LRNBackward(din[0], dout[0], in[0], k.factor, &k.p)
	}
}
