package graph

// Sibling pointwise convolutions (an inception module's 1x1 branches),
// planned as one stacked convolution.

import (
	"slices"
	"strings"

	"github.com/deepdream-go/deepdream/onnx"
)

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
// (kept with the first weights, under memoKey).
func (g *siblingGroup) stacked() (w, b *Value) {
	pair := g.w[0].Memo(g.memoKey(), func() any {
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

// memoKey names the group's stacked weights among its first weights'
// memos: every convolution's weights and bias.
func (g *siblingGroup) memoKey() string {
	var key strings.Builder
	key.WriteString("siblings")
	for _, n := range g.convs {
		key.WriteString("|" + strings.Join(n.Inputs[1:], ","))
	}
	return key.String()
}

// stackable reports whether the sibling convolutions group (see
// siblingConvs) can run stacked here: their input is one image (so that
// each output is a contiguous range of the stacked output), their
// weights and biases are the model's own (not replaced by Spec.Consts),
// and the model names no tensor as the stacked one would be named.
func (p *Plan) stackable(g *siblingGroup) bool {
	x := p.tensors[g.convs[0].Inputs[0]]
	if x == nil || x.cnst != nil || len(x.shape) != 4 || x.shape[0] != 1 {
		return false
	}
	for _, taken := range []string{g.name, g.name + "#weights", g.name + "#bias"} {
		if p.model.Producer(taken) != nil || p.model.consts[taken] != nil || p.model.isInput(taken) {
			return false
		}
	}
	for _, n := range g.convs {
		for _, name := range n.Inputs[1:] {
			if name != "" && p.tensors[name].cnst != p.model.consts[name] {
				return false
			}
		}
	}
	return true
}

// addSiblings plans a group of sibling pointwise convolutions (see
// siblingConvs) as one convolution with their weights stacked, named
// g.name, and each output as a view of its range of channels, its
// gradient likewise a view of the stacked gradient.
func (p *Plan) addSiblings(g *siblingGroup) error {
	w, b := g.stacked()
	if p.sizing {
		floats := w.Shape.Size()
		if b != nil {
			floats += b.Shape.Size()
		}
		p.derive(g.w[0], g.memoKey(), floats)
	}
	name := g.name
	wName, bName := name+"#weights", ""
	p.tensors[wName] = &tensor{name: wName, shape: w.Shape, cnst: w}
	if b != nil {
		bName = name + "#bias"
		p.tensors[bName] = &tensor{name: bName, shape: b.Shape, cnst: b}
	}
	first := *g.convs[0].Node
	first.Name, first.Inputs, first.Outputs = name, []string{first.Inputs[0], wName, bName}, []string{name}
	if b == nil {
		first.Inputs = first.Inputs[:2]
	}
	if err := p.add(&Node{Node: &first, Opset: g.convs[0].Opset, Fused: g.convs[0].Fused}); err != nil {
		return err
	}
	stack := p.tensors[name]
	off := 0
	for i, n := range g.convs {
		shape := Shape{1, g.w[i].Shape[0], stack.shape[2], stack.shape[3]}
		t := &tensor{name: n.Outputs[0], shape: shape, root: stack.root, off: stack.off + off}
		if sg := stack.grad; sg != nil {
			t.grad = &gradBuf{size: shape.Size(), parent: sg, off: off, firstWriter: -1, reader: -1}
			sg.split = true
		}
		p.tensors[n.Outputs[0]] = t
		off += shape.Size()
	}
	return nil
}
