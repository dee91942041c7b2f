package graph

import "github.com/deepdream-go/deepdream/ops"

func init() {
	Register("Relu", buildRelu)
}

// Relu: y = max(x, 0); the gradient is masked by y > 0.
func buildRelu(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	return &Built{Out: []Shape{in[0].Shape}, Kernel: reluKernel{}, BackwardReads: &Reads{Out: []int{0}}}, nil
}

type reluKernel struct{}

func (reluKernel) Forward(r *Run) { ops.Relu(r.Out[0], r.In[0]) }

func (reluKernel) Backward(r *Run) {
	if r.DIn[0] != nil && r.DOut[0] != nil {
		ops.ReluBackward(r.DIn[0], r.DOut[0], r.Out[0])
	}
}
