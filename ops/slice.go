package ops

import "github.com/deepdream-go/deepdream/internal/parallel"

// NewSlice takes, along each axis a of dims, out[a] elements from
// starts[a] on, steps[a] apart (negative: backwards). The caller clamps
// starts and counts to the axis.
func NewSlice(dims, starts, steps, out []int) (*RemapParams, error) {
	strides := contiguousStrides(dims)
	p := &RemapParams{Injective: true}
	for a := range dims {
		p.Dims = append(p.Dims, out[a])
		p.Src = append(p.Src, axisTable(out[a], func(i int) int { return (starts[a] + i*steps[a]) * strides[a] }))
	}
	return p.normalized()
}

// Split: dsts[k] = part k of x, x viewed as p's concatenation of the dsts
// (the inverse of Concat); a nil dsts[k] is skipped. A Slice along one
// axis with step 1 is a Split whose other parts are skipped.
func Split(dsts [][]float32, x []float32, p *ConcatParams) {
	splitTasks.For(len(x), elementwiseGrain, splitTask{x: x, parts: dsts, p: p})
}

// SplitBackward: dx = dx + the dys joined if accumulate, else dx = the dys
// joined; a nil dys[k] (no gradient) counts as zeros.
func SplitBackward(dx []float32, dys [][]float32, p *ConcatParams, accumulate bool) {
	splitTasks.For(len(dx), elementwiseGrain, splitTask{x: dx, parts: dys, p: p, backward: true, accumulate: accumulate})
}

type splitTask struct {
	x                    []float32 // x forward, dx backward
	parts                [][]float32
	p                    *ConcatParams
	backward, accumulate bool
}

var splitTasks parallel.Tasks[splitTask, *splitTask]

func (t *splitTask) Run(lo, hi int) {
	t.p.segments(lo, hi, func(pos, k, off, n int) {
		x, part := t.x[pos:pos+n], t.parts[k]
		switch {
		case !t.backward:
			if part != nil {
				copy(part[off:off+n], x)
			}
		case part == nil:
			if !t.accumulate {
				clear(x)
			}
		case t.accumulate:
			axpy(x, part[off:off+n], 1) // 1*dy is dy: dx += dy
		default:
			copy(x, part[off:off+n])
		}
	})
}
