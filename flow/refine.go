package flow

import (
	"math"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// The variational refinement: the energy of Brox et al. (ECCV 2004) as
// DIS uses it (OpenCV's VariationalRefinement), minimised for an
// increment (du, dv) of the level's flow (u, v):
//
//	E = sum delta/2 Psi(|I1w + I.(du,dv) - I0|^2 / N)             brightness
//	  + gamma/2 Psi(|grad I1w + Hess.(du,dv) - grad I0|^2 / N')   gradient
//	  + alpha/2 Psi(|grad(u+du)|^2 + |grad(v+dv)|^2)              smoothness
//
// with Psi(s2) = sqrt(s2 + eps^2) (a robust, L1-like penalty), I1w the
// second image warped by (u, v), the derivatives taken on the mean of
// I1w and I0, and N, N' the squared norms of the derivatives (plus
// zeta^2), which make the data terms measure errors in pixels of motion.
// Each fixed-point iteration fixes the robust weights and solves the
// linear system by red-black SOR.

// refiner holds the refinement's buffers, reused from one call to the
// next.
type refiner struct {
	w, h int
	// Planes (w*h): the mean of the first image and the warped second,
	// and their difference, from which data is made.
	avg, iz []float32
	// Per pixel (w*h): the data terms' normalised derivatives, and the
	// linear system of the increment.
	data []dataTerm
	sys  []system
	// Per pixel, padded by one pixel all round ((w+2)*(h+2)): the
	// increment, and the smoothness weights to the right and lower
	// neighbours, zero across the border.
	d  []increment
	sw []smoothing

	alpha, gamma, delta float32
	omega               float32
	lv                  *level
	colour              int // the SOR sweep's: pixels with (x+y)%2 == colour
}

// dataTerm holds a pixel's derivatives of the brightness term (ix, iy,
// iz) and of the gradient constancy terms of the x gradient (xx, xy, xz)
// and of the y gradient (yx, yy, yz), each triple divided by the norm of
// its first two (and zeta): errors are then in pixels of motion.
type dataTerm struct{ ix, iy, iz, xx, xy, xz, yx, yy, yz float32 }

// system is a pixel's 2x2 linear system for its increment (du, dv):
// [a11 a12; a12 a22] (du, dv) = (b1, b2) plus the neighbours' pull. After
// refineSystem, a11 and a22 hold the inverses of the diagonal with the
// smoothness weights added.
type system struct{ a11, a12, a22, b1, b2 float32 }

// increment is a pixel's increment of the flow.
type increment struct{ u, v float32 }

// smoothing holds the smoothness weights between a pixel and its right
// and lower neighbours.
type smoothing struct{ right, down float32 }

// The refinement's constants, OpenCV's: zeta^2 keeps the normalisations
// and the system's diagonal away from zero, epsilon^2 the robust
// weights finite; sorOmega is the over-relaxation.
const (
	refineZeta2   = 0.1 * 0.1
	refineEpsilon = 0.001 * 0.001
	sorOmega      = 1.6
)

// refineTasks are the stages of a refinement, each a parallel loop over
// rows.
type (
	refineWarp   struct{ *refiner }
	refineData   struct{ *refiner }
	refineTerms  struct{ *refiner }
	refineSystem struct{ *refiner }
	refineSOR    struct{ *refiner }
	refineApply  struct{ *refiner }
)

var (
	warpStage   parallel.Tasks[refineWarp, *refineWarp]
	dataStage   parallel.Tasks[refineData, *refineData]
	termStage   parallel.Tasks[refineTerms, *refineTerms]
	systemStage parallel.Tasks[refineSystem, *refineSystem]
	sorStage    parallel.Tasks[refineSOR, *refineSOR]
	applyStage  parallel.Tasks[refineApply, *refineApply]
)

// grow returns s with length n, reusing its memory when it can.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// refine runs fixed fixed-point iterations of sor SOR sweeps on lv's
// flow (lv.u, lv.v), which it updates.
func (r *refiner) refine(lv *level, fixed, sor int) {
	w, h := lv.w, lv.h
	n, np := w*h, (w+2)*(h+2)
	r.w, r.h, r.lv = w, h, lv
	r.avg, r.iz = grow(r.avg, n), grow(r.iz, n)
	r.data, r.sys = grow(r.data, n), grow(r.sys, n)
	r.d, r.sw = grow(r.d, np), grow(r.sw, np)
	clear(r.d)
	clear(r.sw)
	const grain = 4
	warpStage.For(h, grain, refineWarp{r})
	dataStage.For(h, grain, refineData{r})
	for range fixed {
		termStage.For(h, grain, refineTerms{r})
		systemStage.For(h, grain, refineSystem{r})
		for range sor {
			for c := range 2 {
				r.colour = c
				sorStage.For(h, grain, refineSOR{r})
			}
		}
	}
	applyStage.For(h, grain, refineApply{r})
}

// Run warps the second image by the flow and forms the mean image and the
// temporal difference.
func (t *refineWarp) Run(lo, hi int) {
	r, lv := t.refiner, t.lv
	w := r.w
	pw, ph := w+2*lv.border, r.h+2*lv.border
	b := float32(lv.border)
	for y := lo; y < hi; y++ {
		for x := range w {
			i := y*w + x
			s := bilinear(lv.i1p, pw, ph, float32(x)+b+lv.u[i], float32(y)+b+lv.v[i])
			r.avg[i] = 0.5 * (s + lv.i0[i])
			r.iz[i] = s - lv.i0[i]
		}
	}
}

// Run computes the data terms' derivatives: the first derivatives of
// the mean image and of the difference, and the second derivatives of
// the mean image, each a central difference (halved) of a central
// difference, the border replicated; and divides each term's by its
// norm, which does not change between fixed-point iterations: the
// brightness term's (ix, iy, iz) by sqrt(ix^2 + iy^2 + zeta^2), the x
// gradient's (ixx, ixy, ixz) by sqrt(ixx^2 + ixy^2 + zeta^2), the y
// gradient's (ixy, iyy, iyz) by sqrt(ixy^2 + iyy^2 + zeta^2).
func (t *refineData) Run(lo, hi int) {
	r := t.refiner
	w, h := r.w, r.h
	row := func(img []float32, y int) []float32 { return img[min(max(y, 0), h-1)*w:][:w] }
	for y := lo; y < hi; y++ {
		ym, yp := max(y-1, 0), min(y+1, h-1)
		a, am, ap := row(r.avg, y), row(r.avg, ym), row(r.avg, yp)
		// The rows about ym and yp, for the y derivatives there.
		amm, amp := row(r.avg, ym-1), row(r.avg, ym+1)
		apm, app := row(r.avg, yp-1), row(r.avg, yp+1)
		z, zm, zp := row(r.iz, y), row(r.iz, ym), row(r.iz, yp)
		data := r.data[y*w:][:w]
		for x := range data {
			xm, xp := max(x-1, 0), min(x+1, w-1)
			ix := 0.5 * (a[xp] - a[xm])
			iy := 0.5 * (ap[x] - am[x])
			iz := z[x]
			ixz := 0.5 * (z[xp] - z[xm])
			iyz := 0.5 * (zp[x] - zm[x])
			ixAt := func(row []float32, x int) float32 { return 0.5 * (row[min(x+1, w-1)] - row[max(x-1, 0)]) }
			ixx := 0.5 * (ixAt(a, xp) - ixAt(a, xm))
			ixy := 0.5 * (ixAt(ap, x) - ixAt(am, x))
			iyy := 0.5 * (0.5*(app[x]-apm[x]) - 0.5*(amp[x]-amm[x]))
			n := 1 / sqrt32(ix*ix+iy*iy+refineZeta2)
			nx := 1 / sqrt32(ixx*ixx+ixy*ixy+refineZeta2)
			ny := 1 / sqrt32(iyy*iyy+ixy*ixy+refineZeta2)
			data[x] = dataTerm{ix * n, iy * n, iz * n, ixx * nx, ixy * nx, ixz * nx, ixy * ny, iyy * ny, iyz * ny}
		}
	}
}

// Run computes the data terms' coefficients with the robust weights of
// the current increment, and the smoothness weights.
func (t *refineTerms) Run(lo, hi int) {
	r := t.refiner
	w, pw := r.w, r.w+2
	delta2, gamma2, alpha2 := r.delta/2, r.gamma/2, r.alpha/2
	for y := lo; y < hi; y++ {
		o, mid := y*w, (y+1)*pw+1
		d := r.d[mid:][:w]
		data, sys := r.data[o:][:w], r.sys[o:][:w]
		for x, p := range data {
			du, dv := d[x].u, d[x].v
			// Brightness: the error in pixels of motion, weighted
			// robustly.
			e := p.iz + p.ix*du + p.iy*dv
			wt := delta2 / sqrt32(e*e+refineEpsilon)
			wx, wy := wt*p.ix, wt*p.iy
			a11 := wx*p.ix + refineZeta2
			a12 := wx * p.iy
			a22 := wy*p.iy + refineZeta2
			b1 := -wx * p.iz
			b2 := -wy * p.iz
			// Gradient constancy, of both gradients at once.
			ex := p.xz + p.xx*du + p.xy*dv
			ey := p.yz + p.yx*du + p.yy*dv
			wg := gamma2 / sqrt32(ex*ex+ey*ey+refineEpsilon)
			a11 += wg * (p.xx*p.xx + p.yx*p.yx)
			a12 += wg * (p.xx*p.xy + p.yx*p.yy)
			a22 += wg * (p.xy*p.xy + p.yy*p.yy)
			b1 -= wg * (p.xx*p.xz + p.yx*p.yz)
			b2 -= wg * (p.xy*p.xz + p.yy*p.yz)
			sys[x] = system{a11, a12, a22, b1, b2}
		}
		// The smoothness weight, from the forward differences of the
		// flow plus increment, for the pairs to the right and below;
		// none across the border.
		u, v := r.lv.u[o:][:w], r.lv.v[o:][:w]
		last := y+1 == r.h
		uD, vD, dD := u, v, d // the row below, if any
		if !last {
			uD, vD, dD = r.lv.u[o+w:][:w], r.lv.v[o+w:][:w], r.d[mid+pw:][:w]
		}
		sw := r.sw[mid:][:w]
		for x := range sw {
			cu, cv := u[x]+d[x].u, v[x]+d[x].v
			var ux, vx, uy, vy float32
			if x+1 < w {
				ux, vx = u[x+1]+d[x+1].u-cu, v[x+1]+d[x+1].v-cv
			}
			if !last {
				uy, vy = uD[x]+dD[x].u-cu, vD[x]+dD[x].v-cv
			}
			ws := alpha2 / sqrt32(ux*ux+vx*vx+uy*uy+vy*vy+refineEpsilon)
			sw[x] = smoothing{}
			if x+1 < w {
				sw[x].right = ws
			}
			if !last {
				sw[x].down = ws
			}
		}
	}
}

// Run adds the smoothness terms to the system: the diagonals take the
// sum of the weights (stored inverted, for the sweeps), the right-hand
// sides the weighted differences of the flow to the neighbours.
func (t *refineSystem) Run(lo, hi int) {
	r := t.refiner
	w, pw := r.w, r.w+2
	for y := lo; y < hi; y++ {
		o, mid := y*w, (y+1)*pw+1
		swL, swC, swU := r.sw[mid-1:][:w], r.sw[mid:][:w], r.sw[mid-pw:][:w]
		u, v := r.lv.u[o:][:w], r.lv.v[o:][:w]
		// The rows above and below, the row itself where there is none:
		// their weights are zero.
		uU, vU, uD, vD := u, v, u, v
		if y > 0 {
			uU, vU = r.lv.u[o-w:][:w], r.lv.v[o-w:][:w]
		}
		if y+1 < r.h {
			uD, vD = r.lv.u[o+w:][:w], r.lv.v[o+w:][:w]
		}
		sys := r.sys[o:][:w]
		for x := range sys {
			wl, wr, wu, wd := swL[x].right, swC[x].right, swU[x].down, swC[x].down
			cu, cv := u[x], v[x]
			su := wu*(uU[x]-cu) + wd*(uD[x]-cu)
			sv := wu*(vU[x]-cv) + wd*(vD[x]-cv)
			if x > 0 {
				su += wl * (u[x-1] - cu)
				sv += wl * (v[x-1] - cv)
			}
			if x+1 < w {
				su += wr * (u[x+1] - cu)
				sv += wr * (v[x+1] - cv)
			}
			sum := wl + wr + wu + wd
			s := &sys[x]
			s.a11 = 1 / (s.a11 + sum)
			s.a22 = 1 / (s.a22 + sum)
			s.b1 += su
			s.b2 += sv
		}
	}
}

// Run is one half of a red-black SOR sweep: the pixels of one colour,
// whose neighbours all have the other.
func (t *refineSOR) Run(lo, hi int) {
	r := t.refiner
	w, pw := r.w, r.w+2
	omega := r.omega
	for y := lo; y < hi; y++ {
		// The padded rows of increments at, above and below the
		// pixel's, and of weights at and above, as slices indexed by x:
		// dL[x] is the left neighbour's increment, dC[x] the pixel's.
		up, mid, down := y*pw+1, (y+1)*pw, (y+2)*pw+1
		dL, dC, dR := r.d[mid:][:w], r.d[mid+1:][:w], r.d[mid+2:][:w]
		dU, dD := r.d[up:][:w], r.d[down:][:w]
		sL, sC, sU := r.sw[mid:][:w], r.sw[mid+1:][:w], r.sw[up:][:w]
		sys := r.sys[y*w:][:w]
		for x := (y + r.colour) & 1; x < len(sys); x += 2 {
			wl, wr, wu, wd := sL[x].right, sC[x].right, sU[x].down, sC[x].down
			su := wl*dL[x].u + wr*dR[x].u + wu*dU[x].u + wd*dD[x].u
			sv := wl*dL[x].v + wr*dR[x].v + wu*dU[x].v + wd*dD[x].v
			s, c := &sys[x], dC[x]
			du := c.u + omega*((s.b1+su-s.a12*c.v)*s.a11-c.u)
			dv := c.v + omega*((s.b2+sv-s.a12*du)*s.a22-c.v)
			dC[x] = increment{du, dv}
		}
	}
}

// Run adds the increment to the flow.
func (t *refineApply) Run(lo, hi int) {
	r := t.refiner
	w, pw := r.w, r.w+2
	for y := lo; y < hi; y++ {
		u, v := r.lv.u[y*w:][:w], r.lv.v[y*w:][:w]
		for x, d := range r.d[(y+1)*pw+1:][:w] {
			u[x] += d.u
			v[x] += d.v
		}
	}
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
