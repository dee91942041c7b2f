package graph

import (
	"slices"

	"github.com/deepdream-go/deepdream/onnx"
)

// fusedReluAttr marks a Conv node that applies the Relu after it (see
// fuseConvRelu). The name cannot come from an ONNX file's Conv, whose
// attributes are all spelled without a colon.
const fusedReluAttr = "deepdream:fused_relu"

// fuseConvRelu returns the nodes to plan, with each Conv whose output only
// a Relu reads fused with that Relu: the Conv, marked with fusedReluAttr,
// applies max(0, .) to each output tile while it is in cache, and masks
// its output gradient by y > 0 before its own backward pass; the Relu
// becomes an Identity, whose output shares the Conv's buffer and gradient.
// That saves a pass over the tensor each way, and a buffer and gradient
// buffer. Only the needed nodes count as readers. A pair whose tensors
// include a target stays apart: a target's value and gradient seed are the
// caller's to read as they are.
func fuseConvRelu(nodes []*Node, needed map[int]bool, targets []string) []*Node {
	readers := map[string][]*Node{}
	for _, n := range nodes {
		if needed[n.Index] {
			for _, in := range n.Inputs {
				readers[in] = append(readers[in], n)
			}
		}
	}
	fused := slices.Clone(nodes)
	for i, n := range nodes {
		if !needed[n.Index] || !plainOp(n, "Conv") || len(n.Outputs) != 1 {
			continue
		}
		r := readers[n.Outputs[0]]
		if len(r) != 1 || !plainOp(r[0], "Relu") || len(r[0].Inputs) != 1 || len(r[0].Outputs) != 1 ||
			slices.Contains(targets, n.Outputs[0]) || slices.Contains(targets, r[0].Outputs[0]) {
			continue
		}
		conv := *n.Node
		conv.Attrs = append(slices.Clip(conv.Attrs), &onnx.Attribute{Name: fusedReluAttr, Type: onnx.AttrInt, I: 1})
		fused[i] = &Node{Node: &conv, Opset: n.Opset}
		relu := *r[0].Node
		relu.OpType, relu.Attrs = "Identity", nil
		j := slices.Index(nodes, r[0])
		fused[j] = &Node{Node: &relu, Opset: r[0].Opset}
	}
	return fused
}

func plainOp(n *Node, opType string) bool {
	return n.OpType == opType && (n.Domain == "" || n.Domain == "ai.onnx")
}
