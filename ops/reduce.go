package ops

import (
	"fmt"
	"math"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// ReduceOp is a reduction of a set of elements to one, as ONNX's Reduce*
// operators compute it.
type ReduceOp uint8

// The reductions. Sums accumulate in float64.
const (
	ReduceSum       ReduceOp = iota
	ReduceMean               // the sum divided by the count
	ReduceMax                // NaN if any element is NaN
	ReduceMin                // NaN if any element is NaN
	ReduceProd               //
	ReduceSumSquare          // the sum of x²
	ReduceL1                 // the sum of |x|
	ReduceL2                 // the square root of the sum of x²
	ReduceLogSum             // log of the sum
	ReduceLogSumExp          // log of the sum of exp(x), computed as max + log(sum(exp(x - max)))
)

func (op ReduceOp) String() string {
	return [...]string{"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
		"ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp"}[op]
}

// BackwardReads says which forward tensors ReduceBackward reads for op:
// the input x, the output y.
func (op ReduceOp) BackwardReads() (x, y bool) {
	switch op {
	case ReduceSum, ReduceMean:
		return false, false
	case ReduceLogSum:
		return false, true
	case ReduceSumSquare, ReduceL1, ReduceProd:
		return true, false
	}
	return true, true // Max, Min, L2, LogSumExp
}

// ReduceParams lays out a reduction of some axes of a row-major tensor.
// Axes of size 1 are dropped and adjacent axes of one kind merged: reducing
// [N,C,H,W] over H and W is N*C outputs of H*W contiguous elements each,
// over C it is N*H*W outputs of C elements H*W apart. Output j reduces the
// elements base(j) + o + i*stride, for i < n and o over the offsets of the
// other reduced axes; the outputs are the kept axes in their input order.
type ReduceParams struct {
	Count int // input elements reduced into each output element
	Out   int // output elements
	// The kept axes (merged), outer to inner, and their input strides.
	kept, keptStrides []int
	// The reduced axes but the innermost (merged), and their input strides.
	outer, outerStrides []int
	// The innermost reduced axis: n elements stride apart (1 and 0 when
	// nothing is reduced).
	n, stride int
}

// NewReduce lays out the reduction of dims over axes, each in [0, len(dims))
// and listed once.
func NewReduce(dims, axes []int) (*ReduceParams, error) {
	reduced := make([]bool, len(dims))
	for _, a := range axes {
		if a < 0 || a >= len(dims) || reduced[a] {
			return nil, fmt.Errorf("axes %v: axis %d is out of range for rank %d or repeated", axes, a, len(dims))
		}
		reduced[a] = true
	}
	p := &ReduceParams{Count: 1, Out: 1, n: 1}
	strides := contiguousStrides(dims)
	type axis struct {
		size, stride int
		reduced      bool
	}
	var merged []axis
	for a, d := range dims {
		if reduced[a] {
			p.Count *= d
		} else {
			p.Out *= d
		}
		if d == 1 {
			continue
		}
		if k := len(merged) - 1; k >= 0 && merged[k].reduced == reduced[a] {
			merged[k].size *= d // the outer axis's stride is d times this one's
			merged[k].stride = strides[a]
			continue
		}
		merged = append(merged, axis{d, strides[a], reduced[a]})
	}
	innermost := -1
	for k, m := range merged {
		if m.reduced {
			innermost = k
		}
	}
	for k, m := range merged {
		switch {
		case k == innermost:
			p.n, p.stride = m.size, m.stride
		case m.reduced:
			p.outer = append(p.outer, m.size)
			p.outerStrides = append(p.outerStrides, m.stride)
		default:
			p.kept = append(p.kept, m.size)
			p.keptStrides = append(p.keptStrides, m.stride)
		}
	}
	if len(p.kept) > maxRank || len(p.outer) > maxRank {
		return nil, fmt.Errorf("reducing %v over %v needs more than %d merged axes", dims, axes, maxRank)
	}
	return p, nil
}

// outputs calls fn for outputs [lo, hi) with the input offset of each one's
// first element.
func (p *ReduceParams) outputs(lo, hi int, fn func(j, base int)) {
	if lo >= hi {
		return
	}
	k := len(p.kept)
	var coord [maxRank]int
	base, rest := 0, lo
	for d := k - 1; d >= 0; d-- {
		coord[d] = rest % p.kept[d]
		rest /= p.kept[d]
		base += coord[d] * p.keptStrides[d]
	}
	for j := lo; j < hi; j++ {
		fn(j, base)
		for d := k - 1; d >= 0; d-- {
			coord[d]++
			base += p.keptStrides[d]
			if coord[d] < p.kept[d] {
				break
			}
			base -= coord[d] * p.keptStrides[d]
			coord[d] = 0
		}
	}
}

// runs calls fn with the offset of each run of n elements stride apart
// that the output at base reduces, in increasing order.
func (p *ReduceParams) runs(base int, fn func(off int)) {
	k := len(p.outer)
	if k == 0 {
		fn(base)
		return
	}
	var coord [maxRank]int
	off := base
	for {
		fn(off)
		d := k - 1
		for ; d >= 0; d-- {
			coord[d]++
			off += p.outerStrides[d]
			if coord[d] < p.outer[d] {
				break
			}
			off -= coord[d] * p.outerStrides[d]
			coord[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

func (p *ReduceParams) grain() int { return max(1, elementwiseGrain/max(1, p.Count)) }

// Reduce: dst = x reduced by op as p lays out; dst has p.Out elements.
func Reduce(op ReduceOp, dst, x []float32, p *ReduceParams) {
	reduceTasks.For(p.Out, p.grain(), reduceTask{op: op, y: dst, x: x, p: p})
}

// ReduceBackward: dx = dx + dy·∂y/∂x if accumulate, else dx = dy·∂y/∂x,
// where y = Reduce(op, x). x and y are read as op.BackwardReads says (nil
// where not). Max and Min pass dy to the first element equal to y (the
// one Reduce picks), none to the others. Prod divides by no zero: an
// element's gradient is dy times the product of the others.
func ReduceBackward(op ReduceOp, dx, dy, x, y []float32, p *ReduceParams, accumulate bool) {
	reduceTasks.For(p.Out, p.grain(), reduceTask{op: op, backward: true, accumulate: accumulate, dx: dx, dy: dy, x: x, y: y, p: p})
}

// ReduceInts is Reduce on integers, for constants at plan time, with
// float64 arithmetic: exact below 2^53, and Mean truncates toward zero.
func ReduceInts(op ReduceOp, dst, x []int64, p *ReduceParams) {
	p.outputs(0, p.Out, func(j, base int) { dst[j] = int64(reduceOne(op, x, base, p)) })
}

type reduceTask struct {
	op                   ReduceOp
	backward, accumulate bool
	x, y, dx, dy         []float32
	p                    *ReduceParams
}

var reduceTasks parallel.Tasks[reduceTask, *reduceTask]

func (t *reduceTask) Run(lo, hi int) {
	switch {
	case t.byColumns():
		t.columnsRun(lo, hi)
	case t.backward:
		t.p.outputs(lo, hi, t.backwardOne)
	default:
		t.p.outputs(lo, hi, func(j, base int) { t.y[j] = float32(reduceOne(t.op, t.x, base, t.p)) })
	}
}

// reduceInit is the reduction of nothing.
func reduceInit(op ReduceOp) float64 {
	switch op {
	case ReduceMax:
		return math.Inf(-1)
	case ReduceMin:
		return math.Inf(1)
	case ReduceProd:
		return 1
	}
	return 0
}

// reduceFinish turns a sum into the mean, the L2 norm, the log sum.
func reduceFinish(op ReduceOp, acc float64, count int) float64 {
	switch op {
	case ReduceMean:
		return acc / float64(count)
	case ReduceL2:
		return math.Sqrt(acc)
	case ReduceLogSum:
		return math.Log(acc)
	}
	return acc
}

// reduceOne reduces the elements of output base.
func reduceOne[T element](op ReduceOp, x []T, base int, p *ReduceParams) float64 {
	acc := reduceInit(op)
	n, stride := p.n, p.stride
	switch op {
	case ReduceMax:
		p.runs(base, func(off int) {
			for i := range n {
				acc = max(acc, float64(x[off+i*stride]))
			}
		})
	case ReduceMin:
		p.runs(base, func(off int) {
			for i := range n {
				acc = min(acc, float64(x[off+i*stride]))
			}
		})
	case ReduceProd:
		p.runs(base, func(off int) {
			for i := range n {
				acc *= float64(x[off+i*stride])
			}
		})
	case ReduceSumSquare, ReduceL2:
		p.runs(base, func(off int) {
			for i := range n {
				v := float64(x[off+i*stride])
				acc += v * v
			}
		})
	case ReduceL1:
		p.runs(base, func(off int) {
			for i := range n {
				acc += math.Abs(float64(x[off+i*stride]))
			}
		})
	case ReduceLogSumExp:
		m := reduceOne(ReduceMax, x, base, p)
		if math.IsInf(m, 0) || math.IsNaN(m) {
			return m // all -Inf: -Inf; any +Inf: +Inf
		}
		p.runs(base, func(off int) {
			for i := range n {
				acc += math.Exp(float64(x[off+i*stride]) - m)
			}
		})
		return m + math.Log(acc)
	default: // Sum, Mean, LogSum
		p.runs(base, func(off int) { acc += sum64(x[off:], n, stride) })
	}
	return reduceFinish(op, acc, p.Count)
}

// sum64 adds x[0], x[stride], ... (n of them) in float64, in four chains.
func sum64[T element](x []T, n, stride int) float64 {
	var s0, s1, s2, s3 float64
	if stride == 1 {
		x = x[:n]
		for ; len(x) >= 4; x = x[4:] {
			s0 += float64(x[0])
			s1 += float64(x[1])
			s2 += float64(x[2])
			s3 += float64(x[3])
		}
		for _, v := range x {
			s0 += float64(v)
		}
		return (s0 + s1) + (s2 + s3)
	}
	i, k := 0, 0
	for ; i+4 <= n; i, k = i+4, k+4*stride {
		s0 += float64(x[k])
		s1 += float64(x[k+stride])
		s2 += float64(x[k+2*stride])
		s3 += float64(x[k+3*stride])
	}
	for ; i < n; i, k = i+1, k+stride {
		s0 += float64(x[k])
	}
	return (s0 + s1) + (s2 + s3)
}

// backwardOne sets or adds the gradient of the elements of output j.
func (t *reduceTask) backwardOne(j, base int) {
	p, x, dx := t.p, t.x, t.dx
	n, stride := p.n, p.stride
	// zero clears a run that is about to be added to when Backward sets dx.
	zero := func(off int) {
		if !t.accumulate {
			for i := range n {
				dx[off+i*stride] = 0
			}
		}
	}
	if t.dy == nil {
		p.runs(base, zero)
		return
	}
	g := float64(t.dy[j])
	var y float64
	if t.y != nil {
		y = float64(t.y[j])
	}
	switch t.op {
	case ReduceSum, ReduceMean, ReduceLogSum: // dx = c
		cf := float32(constantGrad(t.op, g, y, p.Count))
		p.runs(base, func(off int) {
			switch {
			case stride == 1 && !t.accumulate:
				run := dx[off : off+n]
				for i := range run {
					run[i] = cf
				}
			case stride == 1:
				run := dx[off : off+n]
				for i := range run {
					run[i] += cf
				}
			case !t.accumulate:
				for i := range n {
					dx[off+i*stride] = cf
				}
			default:
				for i := range n {
					dx[off+i*stride] += cf
				}
			}
		})
	case ReduceSumSquare, ReduceL2: // dx = c x
		c := 2 * g
		if t.op == ReduceL2 {
			c = 0
			if y != 0 {
				c = g / y
			}
		}
		cf := float32(c)
		p.runs(base, func(off int) {
			zero(off)
			for i := range n {
				dx[off+i*stride] += cf * x[off+i*stride]
			}
		})
	case ReduceL1:
		gf := float32(g)
		p.runs(base, func(off int) {
			zero(off)
			for i := range n {
				switch v := x[off+i*stride]; {
				case v > 0:
					dx[off+i*stride] += gf
				case v < 0:
					dx[off+i*stride] -= gf
				}
			}
		})
	case ReduceLogSumExp: // dx = g exp(x - y)
		p.runs(base, func(off int) {
			zero(off)
			for i := range n {
				dx[off+i*stride] += float32(g * math.Exp(float64(x[off+i*stride])-y))
			}
		})
	case ReduceMax, ReduceMin:
		found := false
		yf, gf := float32(y), float32(g)
		p.runs(base, func(off int) {
			zero(off)
			for i := range n {
				if !found && x[off+i*stride] == yf {
					dx[off+i*stride] += gf
					found = true
				}
			}
		})
	case ReduceProd:
		// The product of the nonzero elements, and how many are zero:
		// with none, dx = g·prod/x; with one, only that one moves y.
		prod, zeros := 1.0, 0
		p.runs(base, func(off int) {
			for i := range n {
				if v := float64(x[off+i*stride]); v != 0 {
					prod *= v
				} else {
					zeros++
				}
			}
		})
		c := g * prod
		p.runs(base, func(off int) {
			zero(off)
			for i := range n {
				v := x[off+i*stride]
				switch {
				case zeros == 0:
					dx[off+i*stride] += float32(c / float64(v))
				case zeros == 1 && v == 0:
					dx[off+i*stride] += float32(c)
				}
			}
		})
	}
}

// constantGrad is dy·∂y/∂x of the reductions whose derivative is the same
// for every element: Sum, Mean, LogSum.
func constantGrad(op ReduceOp, dy, y float64, count int) float64 {
	switch op {
	case ReduceMean:
		return dy / float64(count)
	case ReduceLogSum:
		return dy * math.Exp(-y) // 1 / sum
	}
	return dy
}

// columns reports whether the innermost input axis is kept: the outputs
// are then rows of consecutive input elements (a mean over the channels
// of NCHW), reduced a row at a time rather than one strided output at a
// time.
func (p *ReduceParams) columns() bool {
	k := len(p.kept) - 1
	return k >= 0 && p.keptStrides[k] == 1
}

// byColumns reports whether columnsRun does the task: where p.columns(),
// the forward pass of every reduction but LogSumExp (two passes), and the
// backward pass of those whose gradient is the same for every element.
func (t *reduceTask) byColumns() bool {
	switch {
	case !t.p.columns():
		return false
	case t.backward:
		return t.op == ReduceSum || t.op == ReduceMean || t.op == ReduceLogSum
	}
	return t.op != ReduceLogSumExp
}

// columnWidth bounds the outputs reduced together by columnsRun.
const columnWidth = 64

// columnsRun reduces (or, for Sum, Mean and LogSum, differentiates)
// outputs [lo, hi) in pieces of up to columnWidth consecutive outputs of
// one row: for each element they reduce, a slice of consecutive inputs.
func (t *reduceTask) columnsRun(lo, hi int) {
	p, op := t.p, t.op
	width := p.kept[len(p.kept)-1]
	n, stride := p.n, p.stride
	for j := lo; j < hi; {
		m := min(hi-j, width-j%width, columnWidth)
		base, rest := 0, j
		for d := len(p.kept) - 1; d >= 0; d-- {
			base += rest % p.kept[d] * p.keptStrides[d]
			rest /= p.kept[d]
		}
		if t.backward {
			var c [columnWidth]float32
			for k := range m {
				var dy, y float64
				if t.dy != nil {
					dy = float64(t.dy[j+k])
				}
				if t.y != nil {
					y = float64(t.y[j+k])
				}
				c[k] = float32(constantGrad(op, dy, y, p.Count))
			}
			p.runs(base, func(off int) {
				for i := range n {
					row := t.dx[off+i*stride:][:m]
					if !t.accumulate {
						copy(row, c[:m])
						continue
					}
					for k, v := range row {
						row[k] = v + c[k]
					}
				}
			})
			j += m
			continue
		}
		var acc [columnWidth]float64
		for k := range m {
			acc[k] = reduceInit(op)
		}
		p.runs(base, func(off int) {
			for i := range n {
				row := t.x[off+i*stride:][:m]
				switch op {
				case ReduceMax:
					for k, v := range row {
						acc[k] = max(acc[k], float64(v))
					}
				case ReduceMin:
					for k, v := range row {
						acc[k] = min(acc[k], float64(v))
					}
				case ReduceProd:
					for k, v := range row {
						acc[k] *= float64(v)
					}
				case ReduceSumSquare, ReduceL2:
					for k, v := range row {
						acc[k] += float64(v) * float64(v)
					}
				case ReduceL1:
					for k, v := range row {
						acc[k] += math.Abs(float64(v))
					}
				default: // Sum, Mean, LogSum
					for k, v := range row {
						acc[k] += float64(v)
					}
				}
			}
		})
		for k := range m {
			t.y[j+k] = float32(reduceFinish(op, acc[k], p.Count))
		}
		j += m
	}
}

// ArgReduce: dst[j] = the index, in the order Reduce visits them, of the
// first (or, with last, the last) largest (or, with !largest, smallest)
// element of output j's: for one reduced axis, the index along it. The
// indices are float32 (exact below 2^24).
func ArgReduce(dst, x []float32, p *ReduceParams, largest, last bool) {
	p.outputs(0, p.Out, func(j, base int) { dst[j] = float32(argOne(x, base, p, largest, last)) })
}

// ArgReduceInts is ArgReduce on integers, for constants at plan time.
func ArgReduceInts(dst, x []int64, p *ReduceParams, largest, last bool) {
	p.outputs(0, p.Out, func(j, base int) { dst[j] = int64(argOne(x, base, p, largest, last)) })
}

func argOne[T element](x []T, base int, p *ReduceParams, largest, last bool) int {
	best, at, k := x[base], 0, 0
	n, stride := p.n, p.stride
	p.runs(base, func(off int) {
		for i := range n {
			v := x[off+i*stride]
			better := v > best
			switch {
			case !largest && last:
				better = v <= best
			case !largest:
				better = v < best
			case last:
				better = v >= best
			}
			if better {
				best, at = v, k
			}
			k++
		}
	})
	return at
}
