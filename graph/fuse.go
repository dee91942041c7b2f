package graph

import (
	"slices"
	"strings"

	"github.com/deepdream-go/deepdream/onnx"
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

// pointwiseConv reports whether n is a 1x1 convolution, stride 1, no
// padding, one group, with constant weights [M, C, 1, 1] w and bias b (nil
// if it has none) among consts: the kind whose siblings (the same input)
// can run as one product (see siblingConvs). Attributes it does not know
// keep it apart.
func pointwiseConv(n *Node, consts map[string]*tensor) (w, b *Value, ok bool) {
	if !plainOp(n, "Conv") || len(n.Outputs) != 1 || len(n.Inputs) < 2 || len(n.Inputs) > 3 {
		return nil, nil, false
	}
	cnst := func(name string) *Value {
		if t := consts[name]; t != nil && t.cnst != nil && !t.cnst.Int {
			return t.cnst
		}
		return nil
	}
	if w = cnst(n.Inputs[1]); w == nil || len(w.Shape) != 4 || w.Shape[2] != 1 || w.Shape[3] != 1 {
		return nil, nil, false
	}
	if len(n.Inputs) == 3 && n.Inputs[2] != "" {
		if b = cnst(n.Inputs[2]); b == nil || !b.Shape.Equal(Shape{w.Shape[0]}) {
			return nil, nil, false
		}
	}
	all := func(v []int64, want int64) bool {
		for _, x := range v {
			if x != want {
				return false
			}
		}
		return true
	}
	for _, a := range n.Attrs {
		switch a.Name {
		case "kernel_shape", "strides", "dilations":
			ok = a.Type == onnx.AttrInts && all(a.Ints, 1)
		case "pads":
			ok = a.Type == onnx.AttrInts && all(a.Ints, 0)
		case "group":
			ok = a.Type == onnx.AttrInt && a.I == 1
		case "auto_pad":
			ok = a.Type == onnx.AttrString && (a.S == "NOTSET" || a.S == "VALID")
		default:
			ok = false
		}
		if !ok {
			return nil, nil, false
		}
	}
	return w, b, true
}

// siblingGroup is a group of sibling pointwise convolutions (see
// siblingConvs), with each one's weights and bias (nil if none), and the
// name of their stacked convolution and its output: their outputs joined
// with "+".
type siblingGroup struct {
	convs []*Node
	w, b  []*Value
	name  string
}

// siblingConvs groups the pointwise convolutions among nodes (see
// pointwiseConv) that read the same input, all with a bias or all
// without, all with a fused Relu or all without, whose outputs are not
// targets: an inception module's 1x1, 3x3_reduce and 5x5_reduce. It maps
// the first of each group of two or more to the group, in node order.
//
// Planned as one convolution with their weights stacked, each output a
// range of its channels (Plan.addSiblings), they share one packing of the
// input and one parallel loop forward, and their input gradients are one
// product backward instead of three added together.
func siblingConvs(nodes []*Node, consts map[string]*tensor, targets []string) map[*Node]*siblingGroup {
	type key struct {
		x          string
		bias, relu bool
	}
	groups := map[key]*siblingGroup{}
	var order []key
	for _, n := range nodes {
		w, b, ok := pointwiseConv(n, consts)
		if !ok || slices.Contains(targets, n.Outputs[0]) || n.Outputs[0] == "" {
			continue
		}
		k := key{n.Inputs[0], b != nil, n.Fused.Relu}
		g := groups[k]
		switch {
		case g == nil:
			g = &siblingGroup{}
			groups[k] = g
			order = append(order, k)
		case g.w[0].Shape[1] != w.Shape[1]:
			continue // the builder will report the mismatch
		}
		g.convs, g.w, g.b = append(g.convs, n), append(g.w, w), append(g.b, b)
	}
	first := map[*Node]*siblingGroup{}
	for _, k := range order {
		if g := groups[k]; len(g.convs) > 1 {
			outs := make([]string, len(g.convs))
			for i, n := range g.convs {
				outs[i] = n.Outputs[0]
			}
			g.name = strings.Join(outs, "+")
			first[g.convs[0]] = g
		}
	}
	return first
}

// stacked returns the group's weights and biases stacked along the output
// channels (the bias nil if they have none), computed once per model
// (kept with the first weights).
func (g *siblingGroup) stacked() (w, b *Value) {
	var key strings.Builder
	key.WriteString("siblings")
	for _, n := range g.convs {
		key.WriteString("|" + strings.Join(n.Inputs[1:], ","))
	}
	pair := g.w[0].Memo(key.String(), func() any {
		var ws, bs []float32
		for i := range g.convs {
			ws = append(ws, g.w[i].F...)
			if g.b[i] != nil {
				bs = append(bs, g.b[i].F...)
			}
		}
		c := g.w[0].Shape[1]
		pair := [2]*Value{FloatValue(Shape{len(ws) / c, c, 1, 1}, ws), nil}
		if g.b[0] != nil {
			pair[1] = FloatValue(Shape{len(bs)}, bs)
		}
		return pair
	}).([2]*Value)
	return pair[0], pair[1]
}
