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
