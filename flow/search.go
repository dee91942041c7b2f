package flow

import (
	"math"
)

// The patch search: DIS's inverse search (Kroeger et al., ECCV 2016) on
// one level of the pyramid. Patches of ps x ps pixels of the first image
// sit on a grid of stride pixels (the last row and column of patches
// flush with the image's edges, so that every pixel is covered); each
// finds where it is in the second image by Gauss-Newton steps on the
// mean-normalised sum of squared differences, starting from the best of
// the flow the coarser level gave at its centre and its neighbours'
// results (spatial propagation). Two passes: forward (left to right, top
// to bottom), then backward.

// grid returns the positions of the patches of side ps along a side of n
// pixels: 0, stride, 2 stride, ..., and n-ps last.
func grid(dst []int, n, ps, stride int) []int {
	dst = dst[:0]
	for p := 0; p < n-ps; p += stride {
		dst = append(dst, p)
	}
	return append(dst, n-ps)
}

// cover fills lo and hi (n values each) with the range of patches
// [lo[x], hi[x]) of the grid pos (side ps) that cover the pixel x.
func cover(lo, hi []int32, pos []int, ps int) {
	k0, k1 := 0, 0
	for x := range lo {
		for k1 < len(pos) && pos[k1] <= x {
			k1++
		}
		for k0 < k1 && pos[k0]+ps <= x {
			k0++
		}
		lo[x], hi[x] = int32(k0), int32(k1)
	}
}

// search is the patch search of one level.
type search struct {
	lv *level
	// coarse is the next coarser level, whose flow the patches start
	// from; nil at the coarsest, where they start from none.
	coarse     *level
	ps, border int
	xs, ys     []int
	// su, sv are the patches' flows, row-major over the grid, and se
	// the cost there.
	su, sv, se []float32
	// hinv holds per patch the inverse of its mean-normalised structure
	// tensor (xx, xy, yy) and the means of its gradients (x, y).
	hinv []float32
	// iters is the number of Gauss-Newton steps per patch and pass, at
	// most.
	iters int
	// stripe is the number of patch rows searched in sequence: stripes
	// run in parallel, and the flow propagates within each only, so
	// that the result does not depend on the number of cores.
	stripe int
	// lambda is added to the structure tensor's diagonal, per pixel of
	// the patch: it bounds the step of a flat or one-edged patch.
	lambda float32
}

// near is the distance, in pixels, below which two flows of a patch are
// one for the search: a neighbour's flow as close to the patch's is not
// tried, and a step shorter ends the Gauss-Newton iterations. On the
// fixtures, 0.05 px (against exact equality and 0.01 px) took a third
// fewer evaluations and changed the errors by 0.003 at most.
const near = 0.05

// stripeRows is the number of patch rows of a stripe: 640x480 at half
// resolution has 80 rows of patches, so 5 stripes.
const stripeRows = 16

// tensors fills s.hinv, one patch per index.
func (s *search) tensors(lo, hi int) {
	lv, ps := s.lv, s.ps
	n := float32(ps * ps)
	for k := lo; k < hi; k++ {
		px, py := s.xs[k%len(s.xs)], s.ys[k/len(s.xs)]
		var sx, sy, sxx, sxy, syy float32
		for r := range ps {
			for _, p := range lv.tex[(py+r)*lv.w+px:][:ps] {
				a, b := p.gx, p.gy
				sx += a
				sy += b
				sxx += a * a
				sxy += a * b
				syy += b * b
			}
		}
		mx, my := sx/n, sy/n
		xx := sxx - sx*mx + s.lambda*n
		xy := sxy - sx*my
		yy := syy - sy*my + s.lambda*n
		det := xx*yy - xy*xy
		h := s.hinv[5*k : 5*k+5 : 5*k+5]
		h[0], h[1], h[2], h[3], h[4] = yy/det, -xy/det, xx/det, mx, my
	}
}

// cost returns the mean-normalised SSD between the patch at (px, py) of
// the first image and the second image at (px+u, py+v), and the
// Gauss-Newton gradient: the sums of (g - mean g) * difference, g being
// the first image's gradient, whose means over the patch are mx, my.
func (s *search) cost(px, py int, u, v float32, mx, my float32) (ssd, bx, by float32) {
	lv, ps := s.lv, s.ps
	pw := lv.w + 2*s.border
	fx := float32(px+s.border) + u
	fy := float32(py+s.border) + v
	ix, iy := int(fx), int(fy) // fx, fy > 0: see clampFlow
	ax, ay := fx-float32(ix), fy-float32(iy)
	// above holds the second image's row above the current one,
	// interpolated along x; each row's is computed once.
	var above [maxPatch + 1]float32
	first := above[:ps]
	src := lv.i1p[iy*pw+ix:][:len(first)+1]
	left, right := src[:len(first)], src[1:][:len(first)]
	for c := range first {
		first[c] = left[c] + ax*(right[c]-left[c])
	}
	var sd, sdd, sgx, sgy float32
	for r := range ps {
		t := lv.tex[(py+r)*lv.w+px:][:ps]
		src := lv.i1p[(iy+r+1)*pw+ix:][:len(t)+1]
		left, right := src[:len(t)], src[1:][:len(t)]
		a := above[:len(t)]
		for c, p := range t {
			b := left[c] + ax*(right[c]-left[c])
			d := a[c] + ay*(b-a[c]) - p.v
			a[c] = b
			sd += d
			sdd += d * d
			sgx += d * p.gx
			sgy += d * p.gy
		}
	}
	ssd = sdd - sd*sd/float32(ps*ps)
	return ssd, sgx - sd*mx, sgy - sd*my
}

// maxPatch is the largest patch side.
const maxPatch = 64

// clampFlow keeps the patch at (px, py) moved by (u, v) overlapping the
// level by a pixel or more, within the padded second image.
func (s *search) clampFlow(px, py int, u, v float32) (float32, float32) {
	u = min(max(u, float32(1-s.ps-px)), float32(s.lv.w-1-px))
	v = min(max(v, float32(1-s.ps-py)), float32(s.lv.h-1-py))
	return u, v
}

// Run searches the stripes [lo, hi).
func (s *search) Run(lo, hi int) {
	for st := lo; st < hi; st++ {
		r0, r1 := st*s.stripe, min((st+1)*s.stripe, len(s.ys))
		s.pass(r0, r1, true)
		s.pass(r0, r1, false)
	}
}

// pass searches the patch rows [r0, r1), forward or backward.
func (s *search) pass(r0, r1 int, forward bool) {
	nx := len(s.xs)
	dir, ra, rb, ca, cb := 1, r0, r1, 0, nx
	if !forward {
		dir, ra, rb, ca, cb = -1, r1-1, r0-1, nx-1, -1
	}
	ps := s.ps
	for r := ra; r != rb; r += dir {
		py := s.ys[r]
		for c := ca; c != cb; c += dir {
			px := s.xs[c]
			k := r*nx + c
			h := s.hinv[5*k : 5*k+5 : 5*k+5]
			var u, v, e, bx, by float32
			if forward {
				if c := s.coarse; c != nil {
					// The coarser level's flow at the patch's centre,
					// in this level's pixels.
					cx := (float32(px+ps/2)+0.5)/2 - 0.5
					cy := (float32(py+ps/2)+0.5)/2 - 0.5
					u = 2 * bilinear(c.u, c.w, c.h, cx, cy)
					v = 2 * bilinear(c.v, c.w, c.h, cx, cy)
				}
				u, v = s.clampFlow(px, py, u, v)
				e, bx, by = s.cost(px, py, u, v, h[3], h[4])
			} else {
				u, v, e = s.su[k], s.sv[k], s.se[k]
			}
			// The neighbours already searched in this pass. The
			// backward pass starts where the forward one converged: it
			// steps only from a neighbour's flow that fits better.
			moved := forward
			try := func(j int) {
				cu, cv := s.clampFlow(px, py, s.su[j], s.sv[j])
				if (cu-u)*(cu-u)+(cv-v)*(cv-v) <= near*near {
					return
				}
				if ce, cbx, cby := s.cost(px, py, cu, cv, h[3], h[4]); ce < e {
					u, v, e, bx, by = cu, cv, ce, cbx, cby
					moved = true
				}
			}
			if c != ca {
				try(k - dir)
			}
			if r != ra {
				try(k - dir*nx)
			}
			su, sv, se := u, v, e
			for t := 0; moved && t < s.iters; t++ {
				du := h[0]*bx + h[1]*by
				dv := h[1]*bx + h[2]*by
				nu, nv := s.clampFlow(px, py, u-du, v-dv)
				ne, nbx, nby := s.cost(px, py, nu, nv, h[3], h[4])
				if !(ne < e) {
					break
				}
				u, v, e, bx, by = nu, nv, ne, nbx, nby
				if du*du+dv*dv < near*near {
					break
				}
			}
			// A patch that went further than its side from where it
			// started has most likely lost its way (a flat patch, a
			// repeated texture): it keeps its start.
			if (u-su)*(u-su)+(v-sv)*(v-sv) > float32(ps*ps) {
				u, v, e = su, sv, se
			}
			s.su[k], s.sv[k], s.se[k] = u, v, e
		}
	}
}

// densify makes the level's dense flow from the patches' flows: each
// pixel takes the mean of the flows of the patches that cover it,
// weighted by 1/max(1, |I1(x + flow) - I0(x)|), as DIS does, so that a
// patch straddling a motion boundary counts less on the side it does not
// fit. It runs by rows of pixels, each row through the rows of patches
// that cover it, each patch's row of pixels at a time (its sampling of
// the second image is the same for all of them).
type densify struct {
	s        *search
	ylo, yhi []int32
	shifts   []shift
	// weights holds a row of sums of weights per seat.
	weights    [][]float32
	dstU, dstV []float32
}

// shift is a patch's flow as a sampling of the padded second image: the
// whole pixels (an offset in the padded image) and the fractions, with
// the flow itself.
type shift struct {
	off    int32
	ax, ay float32
	u, v   float32
}

// fillShifts fills d.shifts from the patches' flows.
func (d *densify) fillShifts() {
	s := d.s
	pw := s.lv.w + 2*s.border
	for k := range d.shifts {
		u, v := s.su[k], s.sv[k]
		fu, fv := float32(math.Floor(float64(u))), float32(math.Floor(float64(v)))
		d.shifts[k] = shift{off: int32(int(fv)*pw + int(fu)), ax: u - fu, ay: v - fv, u: u, v: v}
	}
}

func (d *densify) Run(lo, hi int) { d.RunOn(0, lo, hi) }

func (d *densify) RunOn(seat, lo, hi int) {
	s := d.s
	lv := s.lv
	w, nx, ps := lv.w, len(s.xs), s.ps
	pw := w + 2*s.border
	sw := d.weights[seat][:w]
	for y := lo; y < hi; y++ {
		t := lv.i0[y*w:][:w]
		su, sv := d.dstU[y*w:][:w], d.dstV[y*w:][:w]
		clear(su)
		clear(sv)
		clear(sw)
		base := (y+s.border)*pw + s.border
		for r := d.ylo[y]; r < d.yhi[y]; r++ {
			for c, sh := range d.shifts[int(r)*nx:][:nx] {
				px := s.xs[c]
				// A patch's flow keeps it overlapping the level, so
				// x + flow stays within the padding of ps+2.
				j := base + px + int(sh.off)
				top, bot := d.s.lv.i1p[j:][:ps+1], d.s.lv.i1p[j+pw:][:ps+1]
				topL, topR := top[:ps], top[1:][:ps]
				botL, botR := bot[:ps], bot[1:][:ps]
				seg := t[px:][:ps]
				accU, accV, accW := su[px:][:ps], sv[px:][:ps], sw[px:][:ps]
				for k := range seg {
					a := topL[k] + sh.ax*(topR[k]-topL[k])
					b := botL[k] + sh.ax*(botR[k]-botL[k])
					wt := 1 / max(1, abs32(a+sh.ay*(b-a)-seg[k]))
					accU[k] += wt * sh.u
					accV[k] += wt * sh.v
					accW[k] += wt
				}
			}
		}
		for x := range sw {
			su[x] /= sw[x]
			sv[x] /= sw[x]
		}
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
