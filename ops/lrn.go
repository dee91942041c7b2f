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
type LRNParams struct {
	N, C, HW          int
	Size              int
	Alpha, Beta, Bias float32
}

// window returns how many channels before and after c the window of c spans.
func (p *LRNParams) window() (before, after int) {
	before = (p.Size - 1) / 2
	return before, p.Size - 1 - before
}

// LRN: dst = x normalized (see LRNParams); scale receives s, which
// LRNBackward needs. All three are (N, C, HW).
func LRN(dst, scale, x []float32, p *LRNParams) {
	lrnTasks.For(p.N*p.blocks(), p.blockGrain(), lrnTask{y: dst, scale: scale, x: x, p: p})
}

// LRNBackward: dx += the gradient of LRN given dy, from the x, y and scale of
// the forward run:
//
//	dx_i += dy_i * s_i^-Beta - 2*Alpha*Beta/Size * x_i * sum_{j: i in window(j)} dy_j*y_j/s_j
//
// Channel i lies in the window of j exactly when j is in
// i-after .. i+before, so the sum is a running window sum again, with the
// window mirrored.
func LRNBackward(dx, dy, x, y, scale []float32, p *LRNParams) {
	lrnTasks.For(p.N*p.blocks(), p.blockGrain(), lrnTask{backward: true, dx: dx, dy: dy, y: y, scale: scale, x: x, p: p})
}

// lrnBlock is the number of pixels a task normalizes together: the running
// channel sums for a block stay in a stack array.
const lrnBlock = 256

func (p *LRNParams) blocks() int { return (p.HW + lrnBlock - 1) / lrnBlock }

func (p *LRNParams) blockGrain() int {
	return max(1, elementwiseGrain/max(1, p.C*min(p.HW, lrnBlock)))
}

type lrnTask struct {
	backward            bool
	y, scale, x, dx, dy []float32
	p                   *LRNParams
}

var lrnTasks parallel.Tasks[lrnTask, *lrnTask]

// Run processes blocks lo..hi of (image, pixel block) pairs. The window sums
// slide along the channels: each channel's term is added once when it
// enters a window and subtracted once when it leaves. They are float64, so
// the cancellation leaves rounding far below float32 resolution.
func (t *lrnTask) Run(lo, hi int) {
	p := t.p
	nb := p.blocks()
	var acc [lrnBlock]float64
	for b := lo; b < hi; b++ {
		n, p0 := b/nb, (b%nb)*lrnBlock
		sum := acc[:min(lrnBlock, p.HW-p0)]
		clear(sum)
		at := pixels{base: n*p.C*p.HW + p0, hw: p.HW, n: len(sum)}
		before, after := p.window()
		if t.backward {
			// The mirrored window of channel c is c-after .. c+before.
			before, after = after, before
		}
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
				lrnBackwardChannel(at.of(t.dx, c), at.of(t.dy, c), at.of(t.x, c), at.of(t.scale, c), sum, p)
			} else {
				lrnChannel(at.of(t.y, c), at.of(t.scale, c), at.of(t.x, c), sum, p)
			}
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

// slide adds sign times channel j's term to the window sums: x^2 forward,
// dy*y/s backward.
func (t *lrnTask) slide(sum []float64, at pixels, j int, sign float64) {
	if !t.backward {
		for i, v := range at.of(t.x, j) {
			sum[i] += sign * float64(v) * float64(v)
		}
		return
	}
	dy, y, s := at.of(t.dy, j), at.of(t.y, j), at.of(t.scale, j)
	for i := range sum {
		sum[i] += sign * float64(dy[i]) * float64(y[i]) / float64(s[i])
	}
}

func lrnChannel(y, scale, x []float32, sum []float64, p *LRNParams) {
	k, bias, beta := float64(p.Alpha)/float64(p.Size), float64(p.Bias), float64(p.Beta)
	for i, v := range x {
		s := bias + k*max(sum[i], 0)
		scale[i] = float32(s)
		y[i] = float32(float64(v) * powNeg(s, beta))
	}
}

func lrnBackwardChannel(dx, dy, x, scale []float32, sum []float64, p *LRNParams) {
	k2, beta := 2*float64(p.Alpha)*float64(p.Beta)/float64(p.Size), float64(p.Beta)
	for i, g := range dy {
		dx[i] += float32(float64(g)*powNeg(float64(scale[i]), beta) - k2*float64(x[i])*sum[i])
	}
}

// powNeg returns s^-beta, using square roots for the betas networks use
// (GoogLeNet and AlexNet: 0.75), which are far cheaper than math.Pow.
func powNeg(s, beta float64) float64 {
	switch beta {
	case 0.75:
		r := math.Sqrt(s)
		return 1 / (r * math.Sqrt(r))
	case 0.5:
		return 1 / math.Sqrt(s)
	case 1:
		return 1 / s
	}
	return math.Pow(s, -beta)
}
