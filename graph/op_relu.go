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

func (reluKernel) Forward(out, in [][]float32) { ops.Relu(out[0], in[0]) }

func (reluKernel) Backward(din, dout, in, out [][]float32) {
	ops.ReluBackward(din[0], dout[0], out[0])
}
