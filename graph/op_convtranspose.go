package graph

import (
	"fmt"
	"slices"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("ConvTranspose", buildConvTranspose)
}

// ConvTranspose (opsets 1-22): 2-D transposed convolution, or 1-D run as
// 2-D with height 1. Inputs X [N x C x (H x) W], W [C x M/group x (KH x)
// KW], optional B [M]; attributes strides, pads, dilations, group,
// output_padding, output_shape and auto_pad. It runs as the input gradient
// of the convolution it transposes (ops.ConvTranspose). Only X is
// differentiated.
func buildConvTranspose(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 2, 3); err != nil {
		return nil, err
	}
	if err := wantFloat(in, 0); err != nil {
		return nil, err
	}
	xs, ws := in[0].Shape, in[1].Shape
	if len(xs) != 3 && len(xs) != 4 {
		return nil, fmt.Errorf("ConvTranspose: input is %v; only 1-D and 2-D transposed convolutions (rank 3 or 4 input) are supported", xs)
	}
	if len(ws) != len(xs) {
		return nil, fmt.Errorf("ConvTranspose: weights are %v, want rank %d like the input %v", ws, len(xs), xs)
	}
	rank := len(xs) - 2
	group, err := n.IntAttr("group", 1)
	if err != nil {
		return nil, err
	}
	if group < 1 {
		return nil, fmt.Errorf("ConvTranspose: group is %d, want >= 1", group)
	}
	if xs[1] != ws[0] {
		return nil, fmt.Errorf("ConvTranspose: input has %d channels, the weights %v expect %d", xs[1], ws, ws[0])
	}
	if xs[1]%group != 0 {
		return nil, fmt.Errorf("ConvTranspose: %d input channels are not a multiple of group %d", xs[1], group)
	}
	m := ws[1] * group
	if len(in) > 2 && in[2].Present() && !in[2].Shape.Equal(Shape{m}) {
		return nil, fmt.Errorf("ConvTranspose: bias is %v, want %d values (one per output channel)", in[2].Shape, m)
	}
	if kernel, err := n.Ints("kernel_shape", ws[2:]); err != nil {
		return nil, err
	} else if !slices.Equal(kernel, ws[2:]) {
		return nil, fmt.Errorf("ConvTranspose: kernel_shape is %v, the weights are %v", kernel, ws)
	}
	g, err := readTransposeGeometry(n, rank)
	if err != nil {
		return nil, err
	}
	out := Shape{xs[0], m}
	var starts, lengths []int // per spatial axis: padding before, output length
	for i := range rank {
		begin, length, err := g.axis(i, xs[2+i], ws[2+i])
		if err != nil {
			return nil, err
		}
		starts, lengths = append(starts, begin), append(lengths, length)
		out = append(out, length)
	}
	// The convolution this transposes maps the output to the input. Its
	// end padding is whatever makes it map back exactly; output rows past
	// the taps' reach (output_padding) are rows its floor ignores.
	in2, k2 := xs[2:], ws[2:]
	strides, dilations := g.strides, g.dilations
	if rank == 1 {
		in2, k2, starts, lengths = []int{1, xs[2]}, []int{1, ws[2]}, []int{0, starts[0]}, []int{1, lengths[0]}
		strides, dilations = []int{1, strides[0]}, []int{1, dilations[0]}
	}
	var ends [2]int
	for i := range 2 {
		reach := strides[i]*(in2[i]-1) + dilations[i]*(k2[i]-1) + 1 // the taps' output rows, from -start
		ends[i] = reach - starts[i] - lengths[i]
		if ends[i] <= -strides[i] {
			return nil, fmt.Errorf("ConvTranspose: output size %d on spatial axis %d leaves %d rows past the taps' reach, want fewer than the stride %d (output_padding %v, output_shape %v)",
				lengths[i], i, -ends[i], strides[i], g.outputPadding, g.outputShape)
		}
		ends[i] = max(ends[i], 0)
	}
	p := ops.ConvParams{
		N: xs[0], C: m, H: lengths[0], W: lengths[1],
		M: xs[1], KH: k2[0], KW: k2[1], Group: group,
		StrideH: strides[0], StrideW: strides[1],
		DilationH: dilations[0], DilationW: dilations[1],
		PadTop: starts[0], PadLeft: starts[1], PadBottom: ends[0], PadRight: ends[1],
		Kernel: n.kernel,
	}
	if p.OutH() != in2[0] || p.OutW() != in2[1] {
		panic(fmt.Sprintf("graph: ConvTranspose %v -> %v: the convolution maps back to %dx%d", xs, out, p.OutH(), p.OutW()))
	}
	// Each input element costs M/group * KH * KW multiply-adds.
	b := &Built{
		Out:    []Shape{out},
		Kernel: &convTransposeKernel{p: p},
		NoGrad: []int{1, 2},
		// The input gradient needs the weights only.
		BackwardReads: &Reads{In: []int{1}},
		CanSet:        []int{0},
		Scratch:       ops.ConvTransposeScratchSize(&p),
		FLOPs:         2 * int64(xs.Size()) * int64(ws.Size()/ws[0]),
	}
	if in[1].Const != nil {
		key := fmt.Sprintf("convtranspose-packed/%s/group=%d", p.Kernel.Name(), group)
		b.Kernel.(*convTransposeKernel).packed, _ = n.memo(in[1].Const, key, ops.ConvFilterSize(&p, false), func() any {
			return ops.NewConvFilter(in[1].Const.F, nil, &p)
		}).(*ops.ConvFilter)
	}
	return b, nil
}

// transposeGeometry holds ConvTranspose's per-axis attributes.
type transposeGeometry struct {
	strides, dilations, pads, outputPadding, outputShape []int
	autoPad                                              string
}

func readTransposeGeometry(n *Node, rank int) (*transposeGeometry, error) {
	g := &transposeGeometry{}
	for _, a := range []struct {
		name       string
		dst        *[]int
		count, def int
	}{
		{"strides", &g.strides, rank, 1},
		{"dilations", &g.dilations, rank, 1},
		{"pads", &g.pads, 2 * rank, 0},
		{"output_padding", &g.outputPadding, rank, 0},
	} {
		v, err := n.Ints(a.name, slices.Repeat([]int{a.def}, a.count))
		if err != nil {
			return nil, err
		}
		if len(v) != a.count {
			return nil, fmt.Errorf("ConvTranspose: %s is %v, want %d values", a.name, v, a.count)
		}
		for i, x := range v {
			if x < a.def {
				return nil, fmt.Errorf("ConvTranspose: %s[%d] is %d, want >= %d", a.name, i, x, a.def)
			}
		}
		*a.dst = v
	}
	var err error
	if g.outputShape, err = n.Ints("output_shape", nil); err != nil {
		return nil, err
	}
	if len(g.outputShape) == rank+2 { // N and C given too
		g.outputShape = g.outputShape[2:]
	}
	if g.outputShape != nil && len(g.outputShape) != rank {
		return nil, fmt.Errorf("ConvTranspose: output_shape is %v, want %d spatial sizes", g.outputShape, rank)
	}
	if g.autoPad, err = n.String("auto_pad", "NOTSET"); err != nil {
		return nil, err
	}
	switch g.autoPad {
	case "NOTSET", "", "VALID", "SAME_UPPER", "SAME_LOWER":
	default:
		return nil, fmt.Errorf("ConvTranspose: auto_pad is %q, want NOTSET, VALID, SAME_UPPER or SAME_LOWER", g.autoPad)
	}
	return g, nil
}

// axis returns the padding before spatial axis i and the output length,
// for input length size and kernel length k:
//
//	length = stride*(size-1) + output_padding + dilation*(k-1) + 1 - begin - end
//
// with the explicit pads, or, for output_shape (or SAME_*, whose output is
// size*stride), the total padding that gives its length, split as ONNX
// says (SAME_UPPER: the odd one at the end). A negative total (an output
// larger than the taps reach) pads nothing and leaves zeros at the end.
func (g *transposeGeometry) axis(i, size, k int) (begin, length int, err error) {
	rank := len(g.strides)
	natural := g.strides[i]*(size-1) + g.outputPadding[i] + g.dilations[i]*(k-1) + 1
	target := -1
	switch {
	case g.outputShape != nil:
		target = g.outputShape[i]
	case g.autoPad == "SAME_UPPER" || g.autoPad == "SAME_LOWER":
		target = size * g.strides[i]
	case g.autoPad == "VALID":
		return 0, natural, nil
	}
	if target < 0 {
		begin, end := g.pads[i], g.pads[i+rank]
		length = natural - begin - end
		if length < 1 {
			return 0, 0, fmt.Errorf("ConvTranspose: pads %v leave no output on spatial axis %d (%d before padding)", g.pads, i, natural)
		}
		return begin, length, nil
	}
	if target < 1 {
		return 0, 0, fmt.Errorf("ConvTranspose: output_shape %v has a size < 1", g.outputShape)
	}
	total := max(natural-target, 0)
	if g.autoPad == "SAME_UPPER" {
		return total / 2, target, nil
	}
	return total - total/2, target, nil
}

type convTransposeKernel struct {
	p ops.ConvParams // the convolution it transposes
	// packed holds constant weights packed for the GEMMs, nil otherwise
	// (and for depthwise ones, which use none).
	packed *ops.ConvFilter
}

func (k *convTransposeKernel) Forward(r *Run) {
	var bias []float32
	if len(r.In) > 2 {
		bias = r.In[2]
	}
	if k.packed != nil {
		ops.ConvTransposePacked(r.Out[0], r.In[0], k.packed, bias, r.Scratch, &k.p)
	} else {
		ops.ConvTranspose(r.Out[0], r.In[0], r.In[1], bias, r.Scratch, &k.p)
	}
}

func (k *convTransposeKernel) Backward(r *Run) {
	dx, dy, acc := r.DIn[0], r.DOut[0], r.Accumulate[0]
	switch {
	case dx == nil:
	case dy == nil:
		clearSet(r)
	case k.packed != nil:
		ops.ConvTransposePackedBackwardInput(dx, dy, k.packed, r.Scratch, &k.p, acc)
	default:
		ops.ConvTransposeBackwardInput(dx, dy, r.In[1], r.Scratch, &k.p, acc)
	}
}
