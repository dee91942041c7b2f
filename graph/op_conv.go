package graph

import (
	"fmt"
	"slices"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("Conv", buildConv)
}

// Conv (opsets 1-21): 2-D convolution, or 1-D run as 2-D with height 1.
// Inputs X [N x C x (H x) W], W [M x C/group x (KH x) KW], optional B [M];
// only X is differentiated.
func buildConv(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 2, 3); err != nil {
		return nil, err
	}
	xs, ws := in[0].Shape, in[1].Shape
	if len(xs) != 3 && len(xs) != 4 {
		return nil, fmt.Errorf("Conv: input is %v; only 1-D and 2-D convolutions (rank 3 or 4 input) are supported", xs)
	}
	if len(ws) != len(xs) {
		return nil, fmt.Errorf("Conv: weights are %v, want rank %d like the input %v", ws, len(xs), xs)
	}
	rank := len(xs) - 2
	group, err := n.IntAttr("group", 1)
	if err != nil {
		return nil, err
	}
	if group < 1 {
		return nil, fmt.Errorf("Conv: group is %d, want >= 1", group)
	}
	if xs[1] != ws[1]*group {
		return nil, fmt.Errorf("Conv: input has %d channels, weights expect %d (group %d)", xs[1], ws[1]*group, group)
	}
	if ws[0]%group != 0 {
		return nil, fmt.Errorf("Conv: weights have %d output channels, not a multiple of group %d", ws[0], group)
	}
	if len(in) > 2 && in[2].Present() && !in[2].Shape.Equal(Shape{ws[0]}) {
		return nil, fmt.Errorf("Conv: bias is %v, want %d values (one per output channel)", in[2].Shape, ws[0])
	}
	kernel, err := n.Ints("kernel_shape", ws[2:])
	if err != nil {
		return nil, err
	}
	if !slices.Equal(kernel, ws[2:]) {
		return nil, fmt.Errorf("Conv: kernel_shape is %v, the weights are %v", kernel, ws)
	}
	strides, err := convInts(n, "strides", rank, 1)
	if err != nil {
		return nil, err
	}
	dilations, err := convInts(n, "dilations", rank, 1)
	if err != nil {
		return nil, err
	}
	pads, err := convInts(n, "pads", 2*rank, 0)
	if err != nil {
		return nil, err
	}
	autoPad, err := n.String("auto_pad", "NOTSET")
	if err != nil {
		return nil, err
	}
	// A 1-D convolution is a 2-D one of height 1.
	in2, k2 := xs[2:], ws[2:]
	if rank == 1 {
		in2, k2 = []int{1, xs[2]}, []int{1, ws[2]}
		strides, dilations = []int{1, strides[0]}, []int{1, dilations[0]}
		pads = []int{0, pads[0], 0, pads[1]}
	}
	for axis := range 2 {
		if pads[axis], pads[axis+2], err = convPads(autoPad, in2[axis], k2[axis], strides[axis], dilations[axis], pads[axis], pads[axis+2]); err != nil {
			return nil, err
		}
	}
	p := ops.ConvParams{
		N: xs[0], C: xs[1], H: in2[0], W: in2[1],
		M: ws[0], KH: k2[0], KW: k2[1], Group: group,
		StrideH: strides[0], StrideW: strides[1],
		DilationH: dilations[0], DilationW: dilations[1],
		PadTop: pads[0], PadLeft: pads[1], PadBottom: pads[2], PadRight: pads[3],
		Relu: n.Fused.Relu, Kernel: n.kernel,
	}
	if p.OutH() < 1 || p.OutW() < 1 {
		return nil, fmt.Errorf("Conv: input %v with kernel %v, dilations %v and pads %v leaves no output", xs, ws[2:], dilations, pads)
	}
	out := Shape{p.N, p.M, p.OutH(), p.OutW()}
	if rank == 1 {
		out = Shape{p.N, p.M, p.OutW()}
	}
	// Each output element costs C/group * KH * KW multiply-adds.
	flops := 2 * int64(out.Size()) * int64(ws.Size()/max(ws[0], 1))
	k, scratch := &convKernel{p: p}, ops.ConvScratchSize(&p)
	// Winograd needs the weights transformed at plan time: constant ones.
	// Options.NoWinograd keeps im2col, to compare the two. With only
	// shapes wanted, the choice and its scratch are made, but no weights
	// transformed or packed.
	winograd := in[1].Const != nil && ops.WinogradPays(&p) && !n.Options().NoWinograd
	if winograd {
		scratch = ops.WinogradScratchSize(&p)
	}
	if winograd {
		// The transform depends on the weights and their shape only.
		k.wino, _ = n.memo(in[1].Const, "winograd/"+p.Kernel.Name(), ops.WinogradFilterSize(&p), func() any {
			return ops.NewWinogradFilter(in[1].Const.F, &p)
		}).(*ops.WinogradFilter)
	}
	// Other convolutions with constant weights (and bias) have them
	// packed once for the GEMM.
	hasBias := len(in) > 2 && in[2].Present()
	if in[1].Const != nil && !winograd && (!hasBias || in[2].Const != nil) {
		var b []float32
		biasName := ""
		if hasBias {
			b, biasName = in[2].Const.F, in[2].Name
		}
		key := fmt.Sprintf("conv-packed/%s/group=%d/im2col=%v/bias=%q", p.Kernel.Name(), p.Group, scratch > 0, biasName)
		k.packed, _ = n.memo(in[1].Const, key, ops.ConvFilterSize(&p, hasBias), func() any {
			return ops.NewConvFilter(in[1].Const.F, b, &p)
		}).(*ops.ConvFilter)
	}
	// The input gradient needs the weights only (a fused ReLU keeps its
	// mask as bits): neither x nor y stays in memory for it.
	b := &Built{Out: []Shape{out}, Kernel: k, NoGrad: []int{1, 2}, BackwardReads: &Reads{In: []int{1}}, Scratch: scratch, FLOPs: flops}
	// The mask of a fused Relu, unless the node reading its output
	// applies it.
	if p.Relu && !n.Fused.ReluMaskedByReader {
		k.masks = true
		b.Saved = []SavedSpec{{Bits: out.Size()}}
	}
	b.CanSet = []int{0} // Backward sets dx as cheaply as it adds to it
	return b, nil
}

// convInts reads a per-axis attribute of count values; def is both the
// default of every value and its least valid value (1 for strides and
// dilations, 0 for pads).
func convInts(n *Node, name string, count, def int) ([]int, error) {
	v, err := n.Ints(name, slices.Repeat([]int{def}, count))
	if err != nil {
		return nil, err
	}
	if len(v) != count {
		return nil, fmt.Errorf("Conv: %s has %d values, want %d", name, len(v), count)
	}
	for i, x := range v {
		if x < def {
			return nil, fmt.Errorf("Conv: %s[%d] is %d, want >= %d", name, i, x, def)
		}
	}
	return v, nil
}

// convPads returns the padding before and after one spatial axis of size
// size under auto_pad: SAME_* pad so that the output is ceil(size/stride),
// the odd pixel going after (UPPER) or before (LOWER); VALID pads nothing;
// NOTSET keeps the explicit pads.
func convPads(autoPad string, size, kernel, stride, dilation, begin, end int) (int, int, error) {
	switch autoPad {
	case "NOTSET", "":
		return begin, end, nil
	case "VALID":
		return 0, 0, nil
	case "SAME_UPPER", "SAME_LOWER":
		out := (size + stride - 1) / stride
		total := max((out-1)*stride+dilation*(kernel-1)+1-size, 0)
		if autoPad == "SAME_UPPER" {
			return total / 2, total - total/2, nil
		}
		return total - total/2, total / 2, nil
	}
	return 0, 0, fmt.Errorf("Conv: auto_pad is %q, want NOTSET, VALID, SAME_UPPER or SAME_LOWER", autoPad)
}

type convKernel struct {
	p ops.ConvParams
	// wino holds the Winograd-transformed weights when the kernel runs
	// ConvWinograd; packed, the packed weights (and bias) of other
	// convolutions with constant ones.
	wino   *ops.WinogradFilter
	packed *ops.ConvFilter
	// masks says Forward keeps a bit per output element (Saved[0]), set
	// where the fused ReLU let it through (ops.ReluBits): not when the
	// node reading the output masks its gradient (Fusion.ReluMaskedByReader).
	masks bool
}

// positive returns the fused ReLU's mask, nil without one or a backward
// pass.
func (k *convKernel) positive(r *Run) []uint64 {
	if !k.masks {
		return nil
	}
	return r.Saved[0].Bits
}

// Forward uses the plan's shared scratch for one im2col or Winograd tile
// block.
func (k *convKernel) Forward(r *Run) {
	var bias []float32
	if len(r.In) > 2 {
		bias = r.In[2]
	}
	if k.wino != nil {
		ops.ConvWinograd(r.Out[0], r.In[0], k.wino, bias, r.Scratch, &k.p)
	} else if k.packed != nil {
		ops.ConvPacked(r.Out[0], r.In[0], k.packed, r.Scratch, &k.p)
	} else {
		ops.Conv(r.Out[0], r.In[0], r.In[1], bias, r.Scratch, &k.p)
	}
	if mask := k.positive(r); mask != nil {
		ops.ReluBits(mask, r.Out[0])
	}
}

func (k *convKernel) Backward(r *Run) {
	dx, dy, acc := r.DIn[0], r.DOut[0], r.Accumulate[0]
	switch {
	case dx == nil:
		return
	case dy == nil:
		clearSet(r)
		return
	}
	if mask := k.positive(r); mask != nil {
		// In place: the fused Relu's output gradient is read by no one
		// else (fuseConvRelu leaves targets alone).
		ops.ReluMaskBits(dy, mask)
	}
	switch {
	case k.wino != nil:
		ops.ConvWinogradBackwardInput(dx, dy, k.wino, r.Scratch, &k.p, acc)
	case k.packed != nil:
		ops.ConvPackedBackwardInput(dx, dy, k.packed, r.Scratch, &k.p, acc)
	default:
		ops.ConvBackwardInput(dx, dy, r.In[1], r.Scratch, &k.p, acc)
	}
}
