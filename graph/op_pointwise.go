package graph

import (
	"fmt"
	"math"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("Clip", buildClip)
	Register("Dropout", buildDropout)
	Register("Identity", buildIdentity)
}

// wantFloat rejects an integer tensor as input i: the kernels are float32.
func wantFloat(in []Input, i int) error {
	if c := in[i].Const; c != nil && c.Int {
		return fmt.Errorf("input %d %q is an integer tensor; this operator runs on float tensors only", i, in[i].Name)
	}
	return nil
}

// Clip: y = min(max(x, min), max). Before opset 11 the bounds are
// attributes; from 11 they are optional scalar inputs, read at every run.
// An integer input (shape arithmetic) must be constant and is clipped at
// plan time.
func buildClip(n *Node, in []Input) (*Built, error) {
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	if n.Opset < 11 {
		if err := wantInputs(in, 1, 1); err != nil {
			return nil, err
		}
		var err error
		if lo, err = n.Float("min", lo); err != nil {
			return nil, err
		}
		if hi, err = n.Float("max", hi); err != nil {
			return nil, err
		}
	} else if err := wantInputs(in, 1, 3); err != nil {
		return nil, err
	}
	for i := 1; i < len(in); i++ {
		if in[i].Present() && in[i].Shape.Size() != 1 {
			return nil, fmt.Errorf("input %d %q (the %s bound) has shape %v, want a scalar", i, in[i].Name, clipBound[i], in[i].Shape)
		}
	}
	if x := in[0].Const; x != nil && x.Int {
		return clipInts(x, in)
	}
	for i := range in {
		if err := wantFloat(in, i); err != nil {
			return nil, err
		}
	}
	return &Built{Out: []Shape{in[0].Shape}, Kernel: clipKernel{lo, hi}, NoGrad: []int{1, 2}}, nil
}

var clipBound = [3]string{1: "min", 2: "max"}

// clipKernel holds the attribute bounds; bound inputs, when given, replace
// them at run time.
type clipKernel struct{ lo, hi float32 }

func (k clipKernel) bounds(in [][]float32) (lo, hi float32) {
	lo, hi = k.lo, k.hi
	if len(in) > 1 && in[1] != nil {
		lo = in[1][0]
	}
	if len(in) > 2 && in[2] != nil {
		hi = in[2][0]
	}
	return lo, hi
}

func (k clipKernel) Forward(r *Run) {
	lo, hi := k.bounds(r.In)
	ops.Clip(r.Out[0], r.In[0], lo, hi)
}

func (k clipKernel) Backward(r *Run) {
	if r.DIn[0] != nil && r.DOut[0] != nil {
		lo, hi := k.bounds(r.In)
		ops.ClipBackward(r.DIn[0], r.DOut[0], r.In[0], lo, hi)
	}
}

func clipInts(x *Value, in []Input) (*Built, error) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	for i := 1; i < len(in); i++ {
		if !in[i].Present() {
			continue
		}
		if in[i].Const == nil {
			return nil, fmt.Errorf("input %d %q (the %s bound) of an integer Clip must be constant", i, in[i].Name, clipBound[i])
		}
		if b := in[i].Const.Ints()[0]; i == 1 {
			lo = b
		} else {
			hi = b
		}
	}
	y := make([]int64, len(x.I))
	for i, v := range x.I {
		y[i] = min(max(v, lo), hi)
	}
	return &Built{Out: []Shape{x.Shape}, Consts: []*Value{IntValue(x.Shape, y)}}, nil
}

// Dropout is the identity at inference. Training mode (opset 12+ input
// training_mode set to true) is refused rather than run without its
// randomness. Before opset 7 the is_test attribute is ignored: this engine
// only infers. The optional mask output is all true (1) at inference; only
// when it is asked for does the node copy instead of sharing its input.
func buildDropout(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 3); err != nil {
		return nil, err
	}
	if err := wantFloat(in, 0); err != nil {
		return nil, err
	}
	if len(in) > 2 && in[2].Present() {
		mode := in[2].Const
		if mode == nil {
			return nil, fmt.Errorf("input 2 %q (training_mode) must be constant", in[2].Name)
		}
		if mode.Ints()[0] != 0 {
			return nil, fmt.Errorf("input 2 %q: training_mode is true; only inference (the identity) is supported", in[2].Name)
		}
	}
	x := in[0].Shape
	if len(n.Outputs) > 1 && n.Outputs[1] != "" {
		return &Built{Out: []Shape{x, x}, Kernel: dropoutMaskKernel{}, NoGrad: []int{1, 2}}, nil
	}
	return &Built{Out: []Shape{x}, Alias: true}, nil
}

type dropoutMaskKernel struct{}

func (dropoutMaskKernel) Forward(r *Run) {
	copy(r.Out[0], r.In[0])
	for i := range r.Out[1] {
		r.Out[1][i] = 1
	}
}

func (dropoutMaskKernel) Backward(r *Run) {
	if r.DIn[0] != nil && r.DOut[0] != nil {
		ops.Accumulate(r.DIn[0], r.DOut[0])
	}
}

// Identity shares its input's storage.
func buildIdentity(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	return &Built{Out: []Shape{in[0].Shape}, Alias: true}, nil
}
