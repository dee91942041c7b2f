package graph

import (
	"fmt"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("MaxPool", buildMaxPool)
	Register("AveragePool", buildAveragePool)
	Register("GlobalMaxPool", buildGlobalMaxPool)
	Register("GlobalAveragePool", buildGlobalAveragePool)
}

// MaxPool: 1-D or 2-D windows; the gradient goes to each window's first
// maximum. The optional Indices output holds
// int64 indices as floats. An integer input (uint8 maps) must be constant
// and is pooled at plan time.
func buildMaxPool(n *Node, in []Input) (*Built, error) {
	p, out, err := poolGeometry(n, in)
	if err != nil {
		return nil, err
	}
	b := newMaxPool(p, out)
	k := b.Kernel.(*maxPoolKernel)
	if len(n.Outputs) > 1 && n.Outputs[1] != "" {
		order, err := n.Int("storage_order", 0)
		if err != nil {
			return nil, err
		}
		if order != 0 && order != 1 {
			return nil, fmt.Errorf("attribute storage_order = %d, want 0 or 1", order)
		}
		k.indices, k.columnMajor = true, order == 1
		b.Out = append(b.Out, out)
	}
	if x := in[0].Const; x != nil && x.Int {
		return foldInts(b, x)
	}
	if n.Fused.ReluInput {
		if !k.storesTaps() { // fuseConvRelu checked the window
			return nil, fmt.Errorf("the Relu before it is fused, but the window %dx%d is too large to store its taps", p.KH, p.KW)
		}
		k.positive = true
	}
	return b, nil
}

// GlobalMaxPool is MaxPool with one window over all spatial dimensions.
func buildGlobalMaxPool(n *Node, in []Input) (*Built, error) {
	p, out, err := globalPoolGeometry(in)
	if err != nil {
		return nil, err
	}
	return newMaxPool(p, out), nil
}

// newMaxPool returns the MaxPool kernel of geometry p and output shape out.
// Its Backward reads neither input nor output (they need not outlive the
// forward pass) when the window is small enough for its first maximum to
// be stored, else only the input.
//
// With stored taps, Backward can set the input gradient, a plane at a time
// while it is in cache.
func newMaxPool(p ops.PoolParams, out Shape) *Built {
	k := &maxPoolKernel{p: p}
	if !k.storesTaps() {
		return &Built{Out: []Shape{out}, Kernel: k, BackwardReads: &Reads{In: []int{0}}}
	}
	return &Built{Out: []Shape{out}, Kernel: k, BackwardReads: &Reads{}, CanSet: []int{0}, Saved: []SavedSpec{{Bytes: out.Size()}}}
}

type maxPoolKernel struct {
	p ops.PoolParams
	// indices makes output 1 ONNX's Indices, column-major if columnMajor.
	indices, columnMajor bool
	// positive stores no tap for maxima that are not positive: the
	// backward pass of the Relu before it too (Fusion.ReluInput).
	positive bool
}

// storesTaps reports whether the window is small enough for Forward to
// keep each window's first maximum for Backward (Saved[0]); larger ones
// Backward finds again in the input.
func (k *maxPoolKernel) storesTaps() bool { return k.p.KH*k.p.KW <= ops.MaxPoolArgTaps }

// taps returns the stored taps, nil without them or a backward pass.
func (k *maxPoolKernel) taps(r *Run) []uint8 {
	if len(r.Saved) == 0 {
		return nil
	}
	return r.Saved[0].B
}

func (k *maxPoolKernel) Forward(r *Run) {
	if arg := k.taps(r); k.positive && arg != nil {
		ops.MaxPoolPositive(r.Out[0], arg, r.In[0], &k.p)
	} else {
		ops.MaxPool(r.Out[0], arg, r.In[0], &k.p)
	}
	if k.indices {
		ops.MaxPoolIndices(r.Out[1], r.In[0], &k.p, k.columnMajor)
	}
}

func (k *maxPoolKernel) Backward(r *Run) {
	switch {
	case r.DIn[0] == nil:
	case r.DOut[0] == nil:
		clearSet(r)
	default:
		ops.MaxPoolBackward(r.DIn[0], r.DOut[0], k.taps(r), r.In[0], &k.p, r.Accumulate[0])
	}
}

// foldInts runs b's kernel at plan time on an integer constant x, for
// operators whose float arithmetic is exact on integers below 2^24 (max,
// indices), and returns the results as integer constants.
func foldInts(b *Built, x *Value) (*Built, error) {
	in := make([]float32, len(x.I))
	for i, v := range x.I {
		if v < -1<<24 || v > 1<<24 {
			return nil, fmt.Errorf("integer input value %d is too large to pool exactly", v)
		}
		in[i] = float32(v)
	}
	out := runOnce(b, [][]float32{in})
	consts := make([]*Value, len(out))
	for j, o := range out {
		ints := make([]int64, len(o))
		for i, v := range o {
			ints[i] = int64(v)
		}
		consts[j] = IntValue(b.Out[j], ints)
	}
	return &Built{Out: b.Out, Consts: consts}, nil
}

// AveragePool: 1-D or 2-D windows; count_include_pad (opset 7+) chooses
// whether padding counts in the divisor.
func buildAveragePool(n *Node, in []Input) (*Built, error) {
	p, out, err := poolGeometry(n, in)
	if err != nil {
		return nil, err
	}
	if err := wantFloat(in, 0); err != nil {
		return nil, err
	}
	include, err := n.Int("count_include_pad", 0)
	if err != nil {
		return nil, err
	}
	if include != 0 && include != 1 {
		return nil, fmt.Errorf("attribute count_include_pad = %d, want 0 or 1", include)
	}
	p.CountIncludePad = include == 1
	return &Built{Out: []Shape{out}, Kernel: &averagePoolKernel{p}, BackwardReads: &Reads{}}, nil
}

// GlobalAveragePool is AveragePool with one window over all spatial
// dimensions.
func buildGlobalAveragePool(n *Node, in []Input) (*Built, error) {
	p, out, err := globalPoolGeometry(in)
	if err != nil {
		return nil, err
	}
	return &Built{Out: []Shape{out}, Kernel: &averagePoolKernel{p}, BackwardReads: &Reads{}}, nil
}

type averagePoolKernel struct{ p ops.PoolParams }

func (k *averagePoolKernel) Forward(r *Run) { ops.AveragePool(r.Out[0], r.In[0], &k.p) }

func (k *averagePoolKernel) Backward(r *Run) {
	if r.DIn[0] != nil && r.DOut[0] != nil {
		ops.AveragePoolBackward(r.DIn[0], r.DOut[0], &k.p)
	}
}

// poolInput checks the single input of a pooling node and returns its shape.
func poolInput(in []Input, minRank int) (Shape, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0].Shape
	if len(x) < minRank {
		return nil, fmt.Errorf("input shape %v: want N, C and spatial dimensions", x)
	}
	return x, nil
}

// globalPoolGeometry flattens the spatial dimensions into one row and makes
// the window cover it.
func globalPoolGeometry(in []Input) (ops.PoolParams, Shape, error) {
	x, err := poolInput(in, 2)
	if err != nil {
		return ops.PoolParams{}, nil, err
	}
	if err := wantFloat(in, 0); err != nil {
		return ops.PoolParams{}, nil, err
	}
	plane := x[2:].Size()
	out := x.Clone()
	for i := 2; i < len(out); i++ {
		out[i] = 1
	}
	return ops.PoolParams{
		N: x[0], C: x[1], H: 1, W: plane, OutH: 1, OutW: 1, KH: 1, KW: plane,
		StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1,
	}, out, nil
}

// poolGeometry reads the window attributes MaxPool and AveragePool share
// (kernel_shape, strides, pads, auto_pad, ceil_mode, dilations) and derives
// the output shape. A 1-D pool becomes a 2-D one of height 1.
func poolGeometry(n *Node, in []Input) (ops.PoolParams, Shape, error) {
	var p ops.PoolParams
	x, err := poolInput(in, 3)
	if err != nil {
		return p, nil, err
	}
	spatial := len(x) - 2
	if spatial > 2 {
		return p, nil, fmt.Errorf("input shape %v: %d-D pooling is not supported (only 1-D and 2-D)", x, spatial)
	}
	kernel, err := n.Ints("kernel_shape", nil)
	if err != nil {
		return p, nil, err
	}
	if len(kernel) != spatial {
		return p, nil, fmt.Errorf("attribute kernel_shape = %v: want %d values for input shape %v", kernel, spatial, x)
	}
	strides, err := spatialInts(n, "strides", spatial, 1)
	if err != nil {
		return p, nil, err
	}
	dilations, err := spatialInts(n, "dilations", spatial, 1)
	if err != nil {
		return p, nil, err
	}
	pads, err := spatialInts(n, "pads", 2*spatial, 0)
	if err != nil {
		return p, nil, err
	}
	autoPad, err := n.String("auto_pad", "NOTSET")
	if err != nil {
		return p, nil, err
	}
	ceilMode, err := n.Int("ceil_mode", 0)
	if err != nil {
		return p, nil, err
	}
	if ceilMode != 0 && ceilMode != 1 {
		return p, nil, fmt.Errorf("attribute ceil_mode = %d, want 0 or 1", ceilMode)
	}
	out := x.Clone()
	// Index 0 is H, 1 is W; an absent axis keeps size, window and output 1.
	size, ks, ss, ds, outs := [2]int{1, 1}, [2]int{1, 1}, [2]int{1, 1}, [2]int{1, 1}, [2]int{1, 1}
	var begins, ends [2]int
	for i := range spatial {
		a := i + 2 - spatial // a 1-D pool is along W
		size[a], ks[a], ss[a], ds[a] = x[2+i], kernel[i], strides[i], dilations[i]
		if ks[a] < 1 || ss[a] < 1 || ds[a] < 1 {
			return p, nil, fmt.Errorf("axis %d: kernel %d, stride %d, dilation %d: each must be at least 1", 2+i, ks[a], ss[a], ds[a])
		}
		o, b, e, err := poolAxis(size[a], ks[a], ss[a], ds[a], pads[i], pads[i+spatial], autoPad, ceilMode == 1)
		if err != nil {
			return p, nil, fmt.Errorf("axis %d (size %d, kernel_shape %v, strides %v, dilations %v, pads %v, auto_pad %s): %w",
				2+i, size[a], kernel, strides, dilations, pads, autoPad, err)
		}
		outs[a], begins[a], ends[a] = o, b, e
		out[2+i] = o
	}
	p = ops.PoolParams{
		N: x[0], C: x[1], H: size[0], W: size[1], OutH: outs[0], OutW: outs[1],
		KH: ks[0], KW: ks[1], StrideH: ss[0], StrideW: ss[1], DilationH: ds[0], DilationW: ds[1],
		PadTop: begins[0], PadLeft: begins[1], PadBottom: ends[0], PadRight: ends[1],
	}
	return p, out, nil
}

// poolAxis returns the output size and the padding before and after along
// one axis of size in, by the ONNX rules.
func poolAxis(in, k, stride, dil, padBegin, padEnd int, autoPad string, ceilMode bool) (out, begin, end int, err error) {
	extent := (k-1)*dil + 1
	switch autoPad {
	case "NOTSET", "":
		if padBegin < 0 || padEnd < 0 {
			return 0, 0, 0, fmt.Errorf("negative padding")
		}
		span := in + padBegin + padEnd - extent
		if span < 0 {
			return 0, 0, 0, fmt.Errorf("the window (extent %d) is larger than the padded input (%d)", extent, in+padBegin+padEnd)
		}
		out = span/stride + 1
		if ceilMode {
			out = (span+stride-1)/stride + 1
			// The last window must start inside the input or the
			// leading padding (the ONNX and PyTorch rule).
			if (out-1)*stride >= in+padBegin {
				out--
			}
		}
		return out, padBegin, padEnd, nil
	case "VALID":
		if in < extent {
			return 0, 0, 0, fmt.Errorf("the window (extent %d) is larger than the input", extent)
		}
		return (in-extent)/stride + 1, 0, 0, nil
	case "SAME_UPPER", "SAME_LOWER":
		out = (in + stride - 1) / stride
		total := max(0, (out-1)*stride+extent-in)
		begin = total / 2
		if autoPad == "SAME_LOWER" {
			begin = total - total/2
		}
		return out, begin, total - begin, nil
	}
	return 0, 0, 0, fmt.Errorf("unknown auto_pad %q (want NOTSET, VALID, SAME_UPPER or SAME_LOWER)", autoPad)
}

// spatialInts reads an optional ints attribute of count values, each def
// when absent.
func spatialInts(n *Node, name string, count, def int) ([]int, error) {
	v, err := n.Ints(name, nil)
	if err != nil {
		return nil, err
	}
	if v == nil {
		v = make([]int, count)
		for i := range v {
			v[i] = def
		}
	}
	if len(v) != count {
		return nil, fmt.Errorf("attribute %s = %v: want %d values", name, v, count)
	}
	return v, nil
}
