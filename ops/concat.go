package ops

import (
	"github.com/deepdream-go/deepdream/internal/parallel"
)

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
