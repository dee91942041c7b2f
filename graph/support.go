package graph

import (
	"fmt"
	"slices"
)

// Model-level queries for the commands that help a user with a model
// file: which of its operators the engine lacks, which tensors carry the
// image (and so can be dreamed), and where its blocks end.

// Unsupported returns a *NodeError for every node whose operator the engine
// does not implement (an operator outside SupportedOps, or outside the
// default ONNX domain), in graph order. A model with such nodes can still
// be planned up to the tensors before them.
func (m *Model) Unsupported() []*NodeError {
	known := SupportedOps()
	var out []*NodeError
	for _, n := range m.nodes {
		var err error
		switch {
		case n.Domain != "" && n.Domain != "ai.onnx":
			err = fmt.Errorf("operator domain %q is not supported", n.Domain)
		case !slices.Contains(known, n.OpType):
			err = fmt.Errorf("unsupported operator %q", n.OpType)
		default:
			continue
		}
		out = append(out, n.wrap(err).(*NodeError))
	}
	return out
}

// FromInputs returns the tensors whose values change with the graph's
// inputs: the inputs, and every output of a node that reads one of them,
// except through Shape or Size, which see only a shape (fixed when a plan
// is made). Weights, Constant nodes, copies of weights (an exporter's
// Identity nodes) and arithmetic on shapes are left out: they are no
// layers to dream with.
func (m *Model) FromInputs() map[string]bool {
	from := map[string]bool{}
	for _, in := range m.Graph.Inputs {
		if m.consts[in.Name] == nil { // old exporters list initializers as inputs too
			from[in.Name] = true
		}
	}
	for _, n := range m.nodes {
		if n.OpType == "Shape" || n.OpType == "Size" || !slices.ContainsFunc(n.Inputs, func(in string) bool { return from[in] }) {
			continue
		}
		for _, out := range n.Outputs {
			if out != "" {
				from[out] = true
			}
		}
	}
	return from
}

// joinOps combine branches of a network into one tensor: the Concat of an
// inception or fire module, the Add of a residual block. (A Mul of two
// image tensors is a gate or an activation such as x*sigmoid(x), inside
// a block.)
var joinOps = []string{"Add", "Sum", "Concat"}

// pointwiseOps take one image tensor to another of the same shape; a block
// output is taken after them (ResNet's block ends with the Relu after its
// Add).
var pointwiseOps = []string{
	"Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish",
	"Softplus", "Gelu", "Identity", "Dropout", "BatchNormalization",
}

// BlockOutputs returns, in graph order, the tensors where the network's
// branches have joined back into one tensor that every path from the
// inputs to the outputs goes through: the outputs of inception or fire
// modules (their Concat) and of residual blocks (their Add), each taken
// after the pointwise operators (a Relu) that follow it alone. In a graph
// without joins (VGG) every tensor all paths go through counts, taken the
// same way. These are the usual layers to dream with.
func (m *Model) BlockOutputs() []string {
	from := m.FromInputs()
	uses := map[string]int{} // readers of each image tensor, a graph output counting as one
	readers := map[string][]*Node{}
	for _, n := range m.nodes {
		for _, in := range n.Inputs {
			if from[in] {
				uses[in]++
				readers[in] = append(readers[in], n)
			}
		}
	}
	for _, out := range m.Graph.Outputs {
		uses[out.Name]++
	}
	// Walk the nodes in order, keeping the image tensors written and still
	// to be read: where one alone is left, every path goes through it.
	live := map[string]bool{}
	var cuts []string
	joined := map[string]bool{}
	for _, n := range m.nodes {
		images := 0
		for _, in := range n.Inputs {
			if from[in] {
				images++
				if uses[in]--; uses[in] == 0 {
					delete(live, in)
				}
			}
		}
		for _, out := range n.Outputs {
			if from[out] && uses[out] > 0 {
				live[out] = true
			}
		}
		if len(live) != 1 {
			continue
		}
		for t := range live {
			if !slices.Contains(cuts, t) {
				cuts = append(cuts, t)
				joined[t] = images >= 2 && slices.Contains(joinOps, n.OpType)
			}
		}
	}
	anyJoin := slices.ContainsFunc(cuts, func(t string) bool { return joined[t] })
	var out []string
	for _, t := range cuts {
		if anyJoin && !joined[t] {
			continue
		}
		// Follow t through the pointwise operators that alone read it.
		for len(readers[t]) == 1 {
			r := readers[t][0]
			if !slices.Contains(pointwiseOps, r.OpType) || len(r.Outputs) == 0 || !from[r.Outputs[0]] {
				break
			}
			t = r.Outputs[0]
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
