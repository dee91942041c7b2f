package graph

import (
	"fmt"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("BatchNormalization", buildBatchNorm)
}

// BatchNormalization (opsets 1-15), inference mode only:
// y = scale*(x-mean)/sqrt(var+epsilon) + B over channel axis 1, folded into
// y = a*x + b per channel. Only X is differentiated.
func buildBatchNorm(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 5, 5); err != nil {
		return nil, err
	}
	xs := in[0].Shape
	if len(xs) < 2 {
		return nil, fmt.Errorf("BatchNormalization: input is %v, want rank >= 2 (N x C x ...)", xs)
	}
	c := xs[1]
	for i, name := range []string{"scale", "B", "mean", "var"} {
		if s := in[i+1].Shape; !s.Equal(Shape{c}) {
			return nil, fmt.Errorf("BatchNormalization: %s is %v, want %d values (one per channel of input %v)", name, s, c, xs)
		}
	}
	eps, err := n.Float("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	if n.Opset < 9 {
		if spatial, err := n.Int("spatial", 1); err != nil {
			return nil, err
		} else if spatial != 1 {
			return nil, fmt.Errorf("BatchNormalization: spatial = %d is not supported, only 1 (statistics per channel)", spatial)
		}
	}
	if training, err := n.Int("training_mode", 0); err != nil {
		return nil, err
	} else if training != 0 {
		return nil, fmt.Errorf("BatchNormalization: training_mode = %d is not supported, only inference", training)
	}
	out := []Shape{xs}
	for _, name := range n.Outputs[1:] {
		if name != "" {
			return nil, fmt.Errorf("BatchNormalization: output %q (running or saved statistics) is computed only in training mode, which is not supported", name)
		}
		out = append(out, Shape{c})
	}
	k := &batchNormKernel{
		p:     ops.BatchNormParams{N: xs[0], C: c, Inner: xs[2:].Size()},
		eps:   eps,
		scale: make([]float32, c),
		shift: make([]float32, c),
	}
	if in[1].Const != nil && in[2].Const != nil && in[3].Const != nil && in[4].Const != nil {
		ops.BatchNormFold(k.scale, k.shift, in[1].Const.Floats(), in[2].Const.Floats(), in[3].Const.Floats(), in[4].Const.Floats(), eps)
		k.folded = true
	}
	return &Built{Out: out, Kernel: k, NoGrad: []int{1, 2, 3, 4}}, nil
}

type batchNormKernel struct {
	p            ops.BatchNormParams
	eps          float32
	scale, shift []float32 // y = scale*x + shift per channel
	// folded is set when the parameters are constant and scale and shift
	// were computed at build time; otherwise every Forward computes them.
	folded bool
}

func (k *batchNormKernel) Forward(r *Run) {
	if !k.folded {
		ops.BatchNormFold(k.scale, k.shift, r.In[1], r.In[2], r.In[3], r.In[4], k.eps)
	}
	ops.BatchNorm(r.Out[0], r.In[0], k.scale, k.shift, &k.p)
}

// Backward uses the scale of the Forward run just before it.
func (k *batchNormKernel) Backward(r *Run) {
	if r.DIn[0] == nil || r.DOut[0] == nil {
		return
	}
	ops.BatchNormBackward(r.DIn[0], r.DOut[0], k.scale, &k.p)
}
