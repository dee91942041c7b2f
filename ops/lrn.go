package ops

import (
	"math"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// LRNParams describes local response normalization across the channels of
// an (N, C, HW) tensor (HW: the product of the spatial dimensions).
//
// Channel c is normalized by the squares of channels
// c-floor((Size-1)/2) .. c+ceil((Size-1)/2) (clipped to [0, C)):
//
//	s_c = Bias + Alpha/Size * sum x_j^2,   y_c = x_c * s_c^-Beta
//
// With Relu, x is the output of a Relu that only the LRN reads, and the
// backward passes apply the Relu's backward too: dx is 0 where x is not
// > 0 (the mask a fused Relu would otherwise keep and apply).
type LRNParams struct {
	N, C, HW          int
	Size              int
	Alpha, Beta, Bias float32
	Relu              bool
}

// window returns how many channels before and after c the window of c spans.
func (p *LRNParams) window() (before, after int) {
	before = (p.Size - 1) / 2
	return before, p.Size - 1 - before
}

// LRN: dst = x normalized (see LRNParams); factor receives s^-Beta, the
// factor y = x * s^-Beta, which LRNBackward needs. All three are (N, C, HW).
// Windows of 5 channels (GoogLeNet's and AlexNet's) take a float32 fast
// path (lrnWith chooses), which computes the factor again where needed,
// exactly: for them factor may be nil, which saves a buffer the size of x
// (78 MB for GoogLeNet's two LRNs at 1352x900). For other windows factor
// is nil when no LRNBackward follows.
func LRN(dst, factor, x []float32, p *LRNParams) {
	lrnWith(dst, factor, x, p, p.Size == 5)
}

func lrnWith(dst, factor, x []float32, p *LRNParams, fast bool) {
	lrnTasks.For(p.N*p.blocks(), p.blockGrain(), lrnTask{fast: fast, y: dst, factor: factor, x: x, p: p})
}

// LRNBackward: dx += the gradient of LRN given dy if accumulate, else dx =
// it whatever dx held, from the x and factor
// of the forward run (a window of 5 computes the factor again and ignores
// factor, which may be nil; see LRN):
//
//	dx_i += dy_i * s_i^-Beta - 2*Alpha*Beta/Size * x_i * sum_{j: i in window(j)} dy_j*y_j/s_j
//
// Channel i lies in the window of j exactly when j is in
// i-after .. i+before: the window mirrored. y = x * factor is computed
// again rather than read, so that the output need not live until the
// backward pass.
//
// Setting dx, a window of 5 writes each row of dx without reading it;
// other windows clear each block row just before adding to it, while it is
// in cache, instead of by a pass of its own over the whole buffer.
//
// Setting dx, a window of 5 may take dx = dy (in place, which spares a
// buffer the size of x): it reads each row of dy, channel c's for its
// term and then for its gradient, before it writes the row of dx over it,
// and never after.
func LRNBackward(dx, dy, x, factor []float32, p *LRNParams, accumulate bool) {
	lrnBackwardWith(dx, dy, x, factor, p, p.Size == 5, !accumulate)
}

func lrnBackwardWith(dx, dy, x, factor []float32, p *LRNParams, fast, set bool) {
	lrnTasks.For(p.N*p.blocks(), p.blockGrain(), lrnTask{backward: true, fast: fast, set: set, dx: dx, dy: dy, factor: factor, x: x, p: p})
}

// lrnBlock is the most pixels a task normalizes together. A block's rows,
// a whole channel apart, are then up to 4 KB (a page) long, enough for the
// hardware prefetchers to stream them: with the assembly kernels this ran
// GoogLeNet's LRNs 1.2-1.5x faster than blocks of 256. The rows of the few
// channels in flight stay in L1 and L2, and the per-pixel sums in stack
// arrays.
const lrnBlock = 1024

// blockLen is the number of pixels in each block but the last: the pixels
// split evenly into as few blocks as lrnBlock allows, which balances the
// tasks, rounded up to whole vectors of the assembly kernels.
func (p *LRNParams) blockLen() int {
	n := max(1, (p.HW+lrnBlock-1)/lrnBlock)
	return ((p.HW+n-1)/n + 7) &^ 7
}

func (p *LRNParams) blocks() int { return (p.HW + p.blockLen() - 1) / p.blockLen() }

func (p *LRNParams) blockGrain() int {
	return max(1, elementwiseGrain/max(1, p.C*min(p.HW, p.blockLen())))
}

type lrnTask struct {
	backward, fast       bool
	set                  bool // backward sets dx instead of adding to it
	y, factor, x, dx, dy []float32
	p                    *LRNParams
}

var lrnTasks parallel.Tasks[lrnTask, *lrnTask]

// Run processes blocks lo..hi of (image, pixel block) pairs.
func (t *lrnTask) Run(lo, hi int) {
	p := t.p
	bl, nb := p.blockLen(), p.blocks()
	for b := lo; b < hi; b++ {
		n, p0 := b/nb, (b%nb)*bl
		at := pixels{base: n*p.C*p.HW + p0, hw: p.HW, n: min(bl, p.HW-p0)}
		switch {
		case t.fast && t.backward:
			t.backwardBlock(at)
		case t.fast:
			t.forwardBlock(at)
		default:
			t.slidingBlock(at)
		}
	}
}

// pixels locates one block of pixels of one image in every channel.
type pixels struct{ base, hw, n int }

// of returns the block's pixels in channel c of s.
func (at pixels) of(s []float32, c int) []float32 {
	off := at.base + c*at.hw
	return s[off : off+at.n]
}

// lrnZeros stands for the channels outside the tensor in a window.
var lrnZeros [lrnBlock]float32

// rows5 returns the block's rows of channels c-2 .. c+2 of s, lrnZeros
// standing for those outside [0, C), all of length n.
func (at pixels) rows5(s []float32, c, channels int) (r0, r1, r2, r3, r4 []float32) {
	row := func(j int) []float32 {
		if j < 0 || j >= channels {
			return lrnZeros[:at.n]
		}
		return at.of(s, j)
	}
	return row(c - 2), row(c - 1), row(c), row(c + 1), row(c + 2)
}

// forwardBlock is the fast forward pass over one block for a window of 5:
// each window sum of squares is added up afresh in float32 from the
// block's five rows of x, which are in L1 (sliding it would take
// subtractions, which cancel), in one pass that keeps it in a register.
func (t *lrnTask) forwardBlock(at pixels) {
	p := t.p
	k := p.Alpha / 5
	var scratch [lrnBlock]float32 // the factors, when not kept
	f := scratch[:at.n]
	for c := range p.C {
		x0, x1, x2, x3, x4 := at.rows5(t.x, c, p.C)
		if t.factor != nil {
			f = at.of(t.factor, c)
		}
		lrnForwardRow(at.of(t.y, c), f, x0, x1, x2, x3, x4, k, p.Bias, p.Beta)
	}
}

// backwardBlock is the fast backward pass over one block for a window of
// 5. Channel j's term dy_j*y_j/s_j (y_j = x_j*factor_j, exactly the
// forward's product, and s_j summed again from x) goes to a ring
// of the last five channels' terms; channel c = j-2's gradient is due then,
// its mirrored window c-2 .. c+2 being in the ring (zeros for the channels
// outside the tensor: the ring starts zeroed, and channels C and C+1 clear
// their slot).
//
// Channel j's factor is computed again, with its term and from the same
// sum (lrnFactorRingRow), the forward's bits, into a ring of its own that
// holds it until channel j's gradient is due; a kept factor is not read.
func (t *lrnTask) backwardBlock(at pixels) {
	p := t.p
	k, k2 := p.Alpha/5, 2*p.Alpha*p.Beta/5
	var ring, fring [5][lrnBlock]float32 // the terms and factors of the window
	for j := 0; j < p.C+2; j++ {
		w := ring[j%5][:at.n]
		if j < p.C {
			x0, x1, x2, x3, x4 := at.rows5(t.x, j, p.C)
			// The factor computed again, exactly, with the term, from
			// one sum: reading a kept factor would save little.
			lrnFactorRingRow(w, fring[j%5][:at.n], at.of(t.dy, j), x0, x1, x2, x3, x4, k, p.Bias, p.Beta)
		} else {
			clear(w) // channel j is outside the tensor
		}
		c := j - 2
		if c < 0 {
			continue
		}
		lrnGradRow(at.of(t.dx, c), at.of(t.dy, c), at.of(t.x, c), fring[c%5][:at.n],
			ring[(c+3)%5][:at.n], ring[(c+4)%5][:at.n], ring[c%5][:at.n], ring[(c+1)%5][:at.n], ring[(c+2)%5][:at.n], k2, t.set, p.Relu)
	}
}

// The row kernels of the fast path and their Go twins, which the
// assembly ones (lrn_amd64.s) match bit for bit: the same operations in
// the same order, each rounded to float32. The float32 conversions keep
// products rounded before they are added (Go may otherwise fuse them into
// multiply-adds, as it does on arm64 and with GOAMD64=v3). Every slice
// has at least len of the first one's elements.

// lrnForwardRowGo normalizes one row: x2 is the row's x and x0 .. x4 the
// rows of its window; f = (bias + k*sum x_j^2)^-beta and y = x2*f.
func lrnForwardRowGo(y, f, x0, x1, x2, x3, x4 []float32, k, bias, beta float32) {
	f, x0, x1, x2, x3, x4 = f[:len(y)], x0[:len(y)], x1[:len(y)], x2[:len(y)], x3[:len(y)], x4[:len(y)]
	for i, v := range x2 {
		s := float32(x0[i]*x0[i]) + float32(x1[i]*x1[i]) + float32(v*v) + float32(x3[i]*x3[i]) + float32(x4[i]*x4[i])
		fi := powNeg32(bias+float32(k*s), beta)
		f[i], y[i] = fi, v*fi
	}
}

// lrnFactorRingRowGo sets f to the forward factor of one row, the bits
// lrnForwardRowGo gives, and w to its backward term dy*y/s, x2 being the
// row's x, x0 .. x4 the rows of its window and s = bias + k*sum x_j^2.
func lrnFactorRingRowGo(w, f, dy, x0, x1, x2, x3, x4 []float32, k, bias, beta float32) {
	f, dy, x0, x1, x2, x3, x4 = f[:len(w)], dy[:len(w)], x0[:len(w)], x1[:len(w)], x2[:len(w)], x3[:len(w)], x4[:len(w)]
	for i := range w {
		s := float32(x0[i]*x0[i]) + float32(x1[i]*x1[i]) + float32(x2[i]*x2[i]) + float32(x3[i]*x3[i]) + float32(x4[i]*x4[i])
		t := bias + float32(k*s)
		fi := powNeg32(t, beta)
		f[i], w[i] = fi, dy[i]*(x2[i]*fi)/t
	}
}

// lrnGradRowGo adds one row's gradient to dx (set: sets dx to it): dy*f
// less k2*x times the terms w0 .. w4 of the row's mirrored window; with
// relu, 0 where x is not > 0.
func lrnGradRowGo(dx, dy, x, f, w0, w1, w2, w3, w4 []float32, k2 float32, set, relu bool) {
	dy, x, f = dy[:len(dx)], x[:len(dx)], f[:len(dx)]
	w0, w1, w2, w3, w4 = w0[:len(dx)], w1[:len(dx)], w2[:len(dx)], w3[:len(dx)], w4[:len(dx)]
	for i := range dx {
		v := float32(dy[i]*f[i]) - float32(float32(k2*x[i])*(w0[i]+w1[i]+w2[i]+w3[i]+w4[i]))
		if relu && !(x[i] > 0) {
			v = 0
		}
		if set {
			dx[i] = v
		} else {
			dx[i] += v
		}
	}
}

// slidingBlock is the generic twin of forwardBlock and backwardBlock, for
// any window: the window sums slide along the channels, each channel's term
// added once when it enters a window and subtracted once when it leaves. They
// are float64, so the cancellation leaves rounding far below float32
// resolution.
func (t *lrnTask) slidingBlock(at pixels) {
	p := t.p
	var acc [lrnBlock]float64
	var factors [lrnBlock]float32
	sum := acc[:at.n]
	before, after := p.window()
	if t.backward {
		// The mirrored window of channel c is c-after .. c+before.
		before, after = after, before
	}
	k, k2 := float64(p.Alpha)/float64(p.Size), 2*float64(p.Alpha)*float64(p.Beta)/float64(p.Size)
	bias, beta := float64(p.Bias), float64(p.Beta)
	for c := -after; c < p.C; c++ {
		if j := c + after; j < p.C {
			t.slide(sum, at, j, 1)
		}
		if j := c - before - 1; j >= 0 {
			t.slide(sum, at, j, -1)
		}
		if c < 0 {
			continue
		}
		if t.backward {
			dx, dy, x, f := at.of(t.dx, c), at.of(t.dy, c), at.of(t.x, c), at.of(t.factor, c)
			if t.set {
				clear(dx)
			}
			for i, g := range dy {
				v := float32(float64(g)*float64(f[i]) - k2*float64(x[i])*sum[i])
				if p.Relu && !(x[i] > 0) {
					v = 0
				}
				dx[i] += v
			}
			continue
		}
		y, x := at.of(t.y, c), at.of(t.x, c)
		f := factors[:at.n] // the factors, when not kept
		if t.factor != nil {
			f = at.of(t.factor, c)
		}
		for i, v := range x {
			fi := math.Pow(bias+k*max(sum[i], 0), -beta)
			f[i], y[i] = float32(fi), float32(float64(v)*fi)
		}
	}
}

// slide adds sign times channel j's term to the window sums: x^2 forward,
// dy*y/s backward, with y = x*factor and s recovered from the forward
// factor as s = factor^(-1/Beta).
func (t *lrnTask) slide(sum []float64, at pixels, j int, sign float64) {
	if !t.backward {
		for i, v := range at.of(t.x, j) {
			sum[i] += sign * float64(v) * float64(v)
		}
		return
	}
	dy, x, f := at.of(t.dy, j), at.of(t.x, j), at.of(t.factor, j)
	inv := 1 / float64(t.p.Beta)
	for i := range sum {
		sum[i] += sign * float64(dy[i]) * float64(x[i]) * float64(f[i]) * math.Pow(float64(f[i]), inv)
	}
}

// powNeg32 returns s^-beta, using square roots for the betas networks use
// (GoogLeNet and AlexNet: 0.75), which are far cheaper than math.Pow.
func powNeg32(s, beta float32) float32 {
	switch beta {
	case 0.75:
		r := sqrt32(s)
		return 1 / (r * sqrt32(r))
	case 0.5:
		return 1 / sqrt32(s)
	case 1:
		return 1 / s
	}
	return float32(math.Pow(float64(s), -float64(beta)))
}

// sqrt32 compiles to a single float32 square root instruction.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
