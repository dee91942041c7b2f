package ops

import (
	"fmt"
	"slices"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// RemapParams describes a data movement in which each output element is a
// copy of one source element or a fill value: for output coordinates
// (o_0, ..., o_k), dst = src[Src[0][o_0] + ... + Src[k][o_k]], or fill when
// any of those entries is -1. Transpose, Gather and Pad are remaps; the
// tables have one entry per output index along each axis, with the source
// stride already applied.
type RemapParams struct {
	Dims []int   // output dimensions, at least one
	Src  [][]int // per output axis, the source offset of each index, or -1
	// Injective: no two output elements read the same source element, so
	// the backward scatter can run in parallel.
	Injective bool

	// The layout the kernels walk (see merge): Dims and Src with axes of
	// one entry folded into a neighbour and axes that read the source at
	// one stride merged; contiguous when its innermost axis reads
	// consecutive source elements, which then move as a copy.
	dims       []int
	src        [][]int
	contiguous bool
}

// NewTranspose: the output's axis i is the input's axis perm[i]. The
// caller checks that perm is a permutation of the input's axes.
func NewTranspose(dims, perm []int) (*RemapParams, error) {
	strides := contiguousStrides(dims)
	p := &RemapParams{Injective: true}
	for _, a := range perm {
		p.Dims = append(p.Dims, dims[a])
		p.Src = append(p.Src, axisTable(dims[a], func(i int) int { return i * strides[a] }))
	}
	return p.normalized()
}

// NewGather: output = input with axis replaced by the entries indices
// (each in [0, dims[axis])), the index tensor flattened; the caller reshapes.
func NewGather(dims []int, axis int, indices []int) (*RemapParams, error) {
	outer, inner := 1, 1
	for _, d := range dims[:axis] {
		outer *= d
	}
	for _, d := range dims[axis+1:] {
		inner *= d
	}
	sorted := slices.Sorted(slices.Values(indices))
	p := &RemapParams{
		Dims: []int{outer, len(indices), inner},
		Src: [][]int{
			axisTable(outer, func(i int) int { return i * dims[axis] * inner }),
			axisTable(len(indices), func(i int) int { return indices[i] * inner }),
			axisTable(inner, func(i int) int { return i }),
		},
		Injective: len(slices.Compact(sorted)) == len(indices),
	}
	return p.normalized()
}

// PadMode says what a pad reads outside its input.
type PadMode uint8

// The ONNX Pad modes.
const (
	PadConstant PadMode = iota // the fill value
	PadReflect                 // the input mirrored about its edge, edge excluded
	PadEdge                    // the nearest edge element
)

// NewPad pads (or, for negative pads, crops) each axis a of dims by
// pads[a] elements before and pads[rank+a] after, as ONNX lays them out.
func NewPad(dims, pads []int, mode PadMode) (*RemapParams, error) {
	rank := len(dims)
	if len(pads) != 2*rank {
		return nil, fmt.Errorf("%d pads for %d axes, want %d", len(pads), rank, 2*rank)
	}
	strides := contiguousStrides(dims)
	p := &RemapParams{Injective: true}
	for a, n := range dims {
		before, after := pads[a], pads[rank+a]
		out := n + before + after
		if out < 0 {
			return nil, fmt.Errorf("axis %d: pads %d and %d crop more than its %d elements", a, before, after, n)
		}
		if mode != PadConstant && (before > 0 || after > 0) {
			if n == 0 {
				return nil, fmt.Errorf("axis %d is empty: nothing to repeat at its edge", a)
			}
			p.Injective = false
		}
		p.Dims = append(p.Dims, out)
		p.Src = append(p.Src, axisTable(out, func(i int) int {
			j := i - before
			switch {
			case j >= 0 && j < n:
			case mode == PadConstant:
				return -1
			case mode == PadEdge:
				j = min(max(j, 0), n-1)
			case n == 1:
				j = 0
			default: // mirror with period 2(n-1), as numpy's reflect does for wide pads
				period := 2 * (n - 1)
				j = (j%period + period) % period
				if j >= n {
					j = period - j
				}
			}
			return j * strides[a]
		}))
	}
	return p.normalized()
}

func axisTable(n int, at func(i int) int) []int {
	t := make([]int, n)
	for i := range t {
		t[i] = at(i)
	}
	return t
}

// normalized gives a scalar output one axis of one element, makes the
// layout the kernels walk and checks the rank they support.
func (p *RemapParams) normalized() (*RemapParams, error) {
	if len(p.Dims) == 0 {
		p.Dims, p.Src = []int{1}, [][]int{{0}}
	}
	p.merge()
	if len(p.dims) > maxRank {
		return nil, fmt.Errorf("rank %d: at most %d axes are supported", len(p.dims), maxRank)
	}
	return p, nil
}

// maxMergedTable bounds the table of merged axes: beyond a few thousand
// elements a longer run gains nothing, and tables cost 8 bytes an entry.
const maxMergedTable = 1 << 14

// merge makes p.dims and p.src: going outwards from the innermost axis, an
// axis of one entry is folded into its neighbour's table, and two axes
// whose tables step through the source at one stride (the inner axis's
// entries s apart, the outer's s times the inner size apart: H and W of a
// channel shuffle) become one. A transposed or sliced image then moves in
// runs of whole rows or planes rather than of one row each.
func (p *RemapParams) merge() {
	dims := []int{p.Dims[len(p.Dims)-1]}
	src := [][]int{p.Src[len(p.Src)-1]}
	for d := len(p.Dims) - 2; d >= 0; d-- {
		k := len(dims) - 1
		if t := mergedTable(p.Dims[d], p.Src[d], dims[k], src[k]); t != nil {
			dims[k], src[k] = len(t), t
			continue
		}
		dims, src = append(dims, p.Dims[d]), append(src, p.Src[d])
	}
	slices.Reverse(dims)
	slices.Reverse(src)
	p.dims, p.src = dims, src
	step, ok := tableStep(src[len(src)-1])
	p.contiguous = ok && (step == 1 || dims[len(dims)-1] == 1)
}

// mergedTable is the table of an outer axis (no entries to) and an inner
// one (ni entries ti) seen as one axis, or nil when they do not merge.
func mergedTable(no int, to []int, ni int, ti []int) []int {
	shifted := func(t []int, by int) []int {
		return axisTable(len(t), func(i int) int {
			if t[i] < 0 {
				return -1 // fill stays fill
			}
			return t[i] + by
		})
	}
	switch {
	case ni == 1 && ti[0] >= 0:
		return shifted(to, ti[0])
	case no == 1 && to[0] >= 0:
		return shifted(ti, to[0])
	case no*ni > maxMergedTable:
		return nil
	}
	si, okInner := tableStep(ti)
	so, okOuter := tableStep(to)
	if !okInner || !okOuter || so != si*ni {
		return nil
	}
	return axisTable(no*ni, func(i int) int { return to[0] + ti[0] + i*si })
}

// tableStep reports whether t reads the source at one stride (no fill)
// and that stride.
func tableStep(t []int) (step int, ok bool) {
	if len(t) > 1 {
		step = t[1] - t[0]
	}
	for i, s := range t {
		if s < 0 || s != t[0]+i*step {
			return 0, false
		}
	}
	return step, true
}

// Size is the number of output elements.
func (p *RemapParams) Size() int {
	n := 1
	for _, d := range p.Dims {
		n *= d
	}
	return n
}

// Remap: dst = src moved as p says, fill where p reads outside src.
func Remap(dst, src []float32, fill float32, p *RemapParams) {
	remapTasks.For(len(dst), elementwiseGrain, remapTask{dst: dst, src: src, fill: fill, p: p})
}

// RemapBackward: dsrc[i] += the sum of ddst over the output elements that
// read source element i.
func RemapBackward(dsrc, ddst []float32, p *RemapParams) {
	t := remapTask{dst: ddst, src: dsrc, p: p, backward: true}
	if !p.Injective { // several outputs read one source element: no parallel +=
		t.Run(0, len(ddst))
		return
	}
	remapTasks.For(len(ddst), elementwiseGrain, t)
}

// RemapInts is Remap on integers, for constants at plan time.
func RemapInts(dst, src []int64, fill int64, p *RemapParams) {
	remapRange(dst, src, fill, p, 0, len(dst))
}

type remapTask struct {
	dst, src []float32
	fill     float32
	p        *RemapParams
	backward bool // src += dst moved back
}

var remapTasks parallel.Tasks[remapTask, *remapTask]

func (t *remapTask) Run(lo, hi int) {
	if !t.backward {
		remapRange(t.dst, t.src, t.fill, t.p, lo, hi)
		return
	}
	t.p.rows(lo, hi, func(pos, base int, idx []int) {
		if base < 0 {
			return
		}
		dy := t.dst[pos : pos+len(idx)]
		if t.p.contiguous {
			axpy(t.src[base+idx[0]:base+idx[0]+len(dy)], dy, 1) // 1*dy is dy: dx += dy
			return
		}
		for i, s := range idx {
			if s >= 0 {
				t.src[base+s] += dy[i]
			}
		}
	})
}

func remapRange[T element](dst, src []T, fill T, p *RemapParams, lo, hi int) {
	p.rows(lo, hi, func(pos, base int, idx []int) {
		out := dst[pos : pos+len(idx)]
		switch {
		case base < 0:
			for i := range out {
				out[i] = fill
			}
			return
		case p.contiguous:
			copy(out, src[base+idx[0]:])
			return
		}
		for i, s := range idx {
			if s < 0 {
				out[i] = fill
			} else {
				out[i] = src[base+s]
			}
		}
	})
}

// rows calls fn for each run along the innermost axis within output
// elements [lo, hi): pos is the output offset of the run, base the source
// offset contributed by the outer axes (-1 when one of them reads fill),
// idx the innermost table entries of the run.
func (p *RemapParams) rows(lo, hi int, fn func(pos, base int, idx []int)) {
	if lo >= hi {
		return
	}
	k := len(p.dims) - 1
	inner := p.dims[k]
	var coord [maxRank]int
	rest := lo / inner
	for d := k - 1; d >= 0; d-- {
		coord[d] = rest % p.dims[d]
		rest /= p.dims[d]
	}
	for pos := lo; pos < hi; {
		i := pos % inner
		n := min(inner-i, hi-pos)
		base := 0
		for d := range k {
			s := p.src[d][coord[d]]
			if s < 0 {
				base = -1
				break
			}
			base += s
		}
		fn(pos, base, p.src[k][i:i+n])
		pos += n
		for d := k - 1; d >= 0; d-- {
			if coord[d]++; coord[d] < p.dims[d] {
				break
			}
			coord[d] = 0
		}
	}
}

// ConcatParams lays out a concatenation: viewed as Outer rows, the output
// row is the inputs' rows side by side, input k contributing Widths[k]
// elements (its extent along the axis times the size of the axes after it).
type ConcatParams struct {
	Outer  int
	Widths []int
}

// NewConcat joins tensors of the given shapes along axis; the caller checks
// that they agree on every other axis.
func NewConcat(shapes [][]int, axis int) *ConcatParams {
	p := &ConcatParams{Outer: 1}
	for _, d := range shapes[0][:axis] {
		p.Outer *= d
	}
	for _, s := range shapes {
		w := 1
		for _, d := range s[axis:] {
			w *= d
		}
		p.Widths = append(p.Widths, w)
	}
	return p
}

func (p *ConcatParams) rowSize() int {
	n := 0
	for _, w := range p.Widths {
		n += w
	}
	return n
}

// Concat: dst = srcs joined as p says; the parts of dst whose srcs entry
// is nil are left alone (an input already in place there).
func Concat(dst []float32, srcs [][]float32, p *ConcatParams) {
	concatTasks.For(len(dst), elementwiseGrain, concatTask{out: dst, parts: srcs, p: p})
}

// ConcatBackward: dsrcs[k] += its part of ddst where accumulate[k] (or
// accumulate is nil), else dsrcs[k] = it, whatever it held: a gradient
// buffer whose life starts here is copied into rather than cleared and
// added to. nil entries are skipped. An input joined more than once (x
// with itself) repeats its buffer in dsrcs; the parts then add into it one
// after the other, on one core (such a buffer must be accumulated).
func ConcatBackward(dsrcs [][]float32, accumulate []bool, ddst []float32, p *ConcatParams) {
	t := concatTask{out: ddst, parts: dsrcs, p: p, backward: true, accumulate: accumulate}
	if repeatsBuffer(dsrcs) {
		t.Run(0, len(ddst))
		return
	}
	concatTasks.For(len(ddst), elementwiseGrain, t)
}

func repeatsBuffer(bufs [][]float32) bool {
	for i, a := range bufs {
		for _, b := range bufs[i+1:] {
			if len(a) > 0 && len(b) > 0 && &a[0] == &b[0] {
				return true
			}
		}
	}
	return false
}

// ConcatInts is Concat on integers, for constants at plan time.
func ConcatInts(dst []int64, srcs [][]int64, p *ConcatParams) {
	p.segments(0, len(dst), func(pos, k, off, n int) {
		copy(dst[pos:pos+n], srcs[k][off:off+n])
	})
}

type concatTask struct {
	out      []float32
	parts    [][]float32
	p        *ConcatParams
	backward bool // parts += out split
	// accumulate, in backward: parts[k] += its split where accumulate[k]
	// (or accumulate is nil), else parts[k] = it.
	accumulate []bool
}

var concatTasks parallel.Tasks[concatTask, *concatTask]

func (t *concatTask) Run(lo, hi int) {
	t.p.segments(lo, hi, func(pos, k, off, n int) {
		switch part := t.parts[k]; {
		case !t.backward:
			if part != nil {
				copy(t.out[pos:pos+n], part[off:off+n])
			}
		case part != nil && t.accumulate != nil && !t.accumulate[k]:
			copy(part[off:off+n], t.out[pos:pos+n])
		case part != nil:
			axpy(part[off:off+n], t.out[pos:pos+n], 1) // 1*dy is dy: dx += dy
		}
	})
}

// segments splits output elements [lo, hi) into runs that come from one
// input: output offset pos, input k, offset off in it, length n. The
// output is split rather than the inputs so that a concatenation of a
// single row (the channel axis at batch 1) still uses every core.
func (p *ConcatParams) segments(lo, hi int, fn func(pos, k, off, n int)) {
	row := p.rowSize()
	for pos := lo; pos < hi; {
		r, c := pos/row, pos%row
		k, start := 0, 0
		for c >= start+p.Widths[k] {
			start += p.Widths[k]
			k++
		}
		n := min(start+p.Widths[k]-c, hi-pos)
		fn(pos, k, r*p.Widths[k]+c-start, n)
		pos += n
	}
}
