package graph

// Conv+Relu fusion, and the MaxPool or LRN after it applying its mask.

import (
	"slices"

	"github.com/deepdream-go/deepdream/ops"
)

// fuseConvRelu returns the nodes to plan, with each Conv whose output only
// a Relu reads fused with that Relu: the Conv, with Fused.Relu set,
// applies max(0, .) to each output tile while it is in cache, and masks
// its output gradient by y > 0 before its own backward pass; the Relu
// becomes an Identity, whose output shares the Conv's buffer and gradient.
// That saves a pass over the tensor each way, and a buffer and gradient
// buffer. Only the needed nodes count as readers. A pair whose tensors
// include a target stays apart: a target's value and gradient seed are the
// caller's to read as they are.
//
// When the Relu's output only goes to a MaxPool with stored taps (conv1
// and pool1 of GoogLeNet) or to an LRN (conv2 and norm2), that node's
// backward pass applies the Relu's mask too: the MaxPool routes the
// gradient only to positive maxima (ops.MaxPoolPositive), the LRN zeroes
// its input gradient where its input is not positive, which it reads
// anyway. The Conv then neither records the mask after its forward pass
// nor applies it before its backward pass, two passes over its output.
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
		conv := *n
		conv.Fused.Relu = true
		fused[i] = &conv
		relu := *r[0].Node
		relu.OpType, relu.Attrs = "Identity", nil
		j := slices.Index(nodes, r[0])
		fused[j] = &Node{Node: &relu, Opset: r[0].Opset}
		if rr := readers[relu.Outputs[0]]; len(rr) == 1 && masksRelu(rr[0]) {
			conv.Fused.ReluMaskedByReader = true
			reader := *rr[0]
			reader.Fused.ReluInput = true
			fused[slices.Index(nodes, rr[0])] = &reader
		}
	}
	return fused
}

// masksRelu reports whether n's backward pass can apply the mask of the
// Relu before it: an LRN, or a MaxPool with one output (no Indices) and a
// window small enough for its taps to be stored.
func masksRelu(n *Node) bool {
	if plainOp(n, "LRN") {
		return len(n.Inputs) == 1
	}
	if !plainOp(n, "MaxPool") || len(n.Inputs) != 1 || len(n.Outputs) > 1 && n.Outputs[1] != "" {
		return false
	}
	k, err := n.Ints("kernel_shape", nil)
	if err != nil || len(k) == 0 {
		return false
	}
	taps := 1
	for _, v := range k {
		if v < 1 || v > ops.MaxPoolArgTaps {
			return false
		}
		taps *= v
	}
	return taps <= ops.MaxPoolArgTaps
}

func plainOp(n *Node, opType string) bool {
	return n.OpType == opType && (n.Domain == "" || n.Domain == "ai.onnx")
}
