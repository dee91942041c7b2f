package graph

import (
	"fmt"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("LayerNormalization", buildLayerNorm)
	Register("InstanceNormalization", buildInstanceNorm)
}

// LayerNormalization (opset 17): Y = (X - mean)/sqrt(var + epsilon) *
// Scale + B, the statistics over the axes from axis (default -1) to the
// last; the optional outputs Mean and InvStdDev are the statistics, of
// shape X[:axis] with ones after. Scale and the optional B have the
// normalized shape X[axis:] (leading ones aside). Only X is
// differentiated, through Y and through Mean and InvStdDev.
func buildLayerNorm(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 2, 3); err != nil {
		return nil, err
	}
	if n.Opset < 17 {
		return nil, fmt.Errorf("LayerNormalization: the operator exists from opset 17, the model imports opset %d", n.Opset)
	}
	if err := wantFloat(in, 0); err != nil {
		return nil, err
	}
	xs := in[0].Shape
	if len(xs) == 0 {
		return nil, fmt.Errorf("LayerNormalization: input X is a scalar, want rank >= 1")
	}
	a, err := n.IntAttr("axis", -1)
	if err != nil {
		return nil, err
	}
	axis, err := axisIn(a, len(xs), "LayerNormalization: axis")
	if err != nil {
		return nil, err
	}
	stash, err := n.Int("stash_type", 1)
	if err != nil {
		return nil, err
	}
	if stash != 1 {
		return nil, fmt.Errorf("LayerNormalization: stash_type = %d is not supported, only 1 (float32 statistics)", stash)
	}
	normalized := xs[axis:]
	for i, name := range []string{"Scale", "B"} {
		if i+1 < len(in) && in[i+1].Present() && !sameUpToLeadingOnes(in[i+1].Shape, normalized) {
			return nil, fmt.Errorf("LayerNormalization: %s is %v, want the normalized shape %v (input %v from axis %d)", name, in[i+1].Shape, normalized, xs, axis)
		}
	}
	stat := xs.Clone()
	for i := axis; i < len(stat); i++ {
		stat[i] = 1
	}
	out := []Shape{xs}
	for range n.Outputs[1:] {
		out = append(out, stat)
	}
	if len(out) > 3 {
		return nil, fmt.Errorf("LayerNormalization: the node has %d outputs, want at most 3 (Y, Mean, InvStdDev)", len(out))
	}
	return newNorm(n, ops.NormParams{Rows: xs[:axis].Size(), Size: normalized.Size()}, out)
}

// sameUpToLeadingOnes reports whether s and t are equal once leading
// dimensions of 1 are dropped from both.
func sameUpToLeadingOnes(s, t Shape) bool {
	for len(s) > 0 && s[0] == 1 {
		s = s[1:]
	}
	for len(t) > 0 && t[0] == 1 {
		t = t[1:]
	}
	return s.Equal(t)
}

// InstanceNormalization (opsets 1-22): y = scale*(x - mean)/sqrt(var +
// epsilon) + B, the statistics of each channel of each instance over its
// spatial dimensions; scale and B have one value per channel. Only x is
// differentiated.
func buildInstanceNorm(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 3, 3); err != nil {
		return nil, err
	}
	if err := wantFloat(in, 0); err != nil {
		return nil, err
	}
	xs := in[0].Shape
	if len(xs) < 3 {
		return nil, fmt.Errorf("InstanceNormalization: input is %v, want rank >= 3 (N x C x spatial dimensions)", xs)
	}
	c := xs[1]
	for i, name := range []string{"scale", "B"} {
		if s := in[i+1].Shape; !s.Equal(Shape{c}) {
			return nil, fmt.Errorf("InstanceNormalization: %s is %v, want %d values (one per channel of input %v)", name, s, c, xs)
		}
	}
	return newNorm(n, ops.NormParams{Rows: xs[0] * c, Size: xs[2:].Size(), Channels: c}, []Shape{xs})
}

// newNorm finishes the Built of a normalization of geometry p (the
// epsilon attribute read here) with outputs out: Y, and for
// LayerNormalization the optional Mean and InvStdDev.
func newNorm(n *Node, p ops.NormParams, out []Shape) (*Built, error) {
	var err error
	if p.Epsilon, err = n.Float("epsilon", 1e-5); err != nil {
		return nil, err
	}
	if p.Epsilon < 0 {
		return nil, fmt.Errorf("%s: epsilon = %g, want >= 0", n.OpType, p.Epsilon)
	}
	stats := SavedSpec{Floats: p.Rows}
	return &Built{
		Out:    out,
		Kernel: &normKernel{p: p},
		NoGrad: []int{1, 2},
		// Backward recomputes x - mean from x, and takes the
		// statistics from Forward (Saved); without a backward pass
		// Forward writes them to scratch.
		BackwardReads: &Reads{In: []int{0, 1}},
		Saved:         []SavedSpec{stats, stats},
		Scratch:       2 * p.Rows,
		CanSet:        []int{0},
	}, nil
}

type normKernel struct{ p ops.NormParams }

// stats returns where Forward keeps each row's mean and inverse standard
// deviation: the saved buffers for Backward, or scratch.
func (k *normKernel) stats(r *Run) (mean, invStd []float32) {
	if r.Saved[0].F != nil {
		return r.Saved[0].F, r.Saved[1].F
	}
	return r.Scratch[:k.p.Rows], r.Scratch[k.p.Rows:][:k.p.Rows]
}

func (k *normKernel) Forward(r *Run) {
	var bias []float32
	if len(r.In) > 2 {
		bias = r.In[2]
	}
	mean, invStd := k.stats(r)
	ops.Normalize(r.Out[0], mean, invStd, r.In[0], r.In[1], bias, &k.p)
	if len(r.Out) > 1 {
		copy(r.Out[1], mean)
	}
	if len(r.Out) > 2 {
		copy(r.Out[2], invStd)
	}
}

func (k *normKernel) Backward(r *Run) {
	if r.DIn[0] == nil {
		return
	}
	var dmean, dinvStd []float32
	if len(r.DOut) > 1 {
		dmean = r.DOut[1]
	}
	if len(r.DOut) > 2 {
		dinvStd = r.DOut[2]
	}
	if r.DOut[0] == nil && dmean == nil && dinvStd == nil {
		clearSet(r)
		return
	}
	mean, invStd := k.stats(r)
	ops.NormalizeBackwardInput(r.DIn[0], r.DOut[0], dmean, dinvStd, r.In[0], r.In[1], mean, invStd, &k.p, r.Accumulate[0])
}
