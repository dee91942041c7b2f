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

// refiner holds one level's refinement buffers; every slice is sized for
// the finest level and reused at the coarser ones.
type refiner struct {
	w, h int
	// per pixel, unpadded (w*h): the mean image and the temporal
	// difference, their derivatives, and the linear system.
	avg, iz, ix, iy, ixx, ixy, iyy, ixz, iyz []float32
	a11, a12, a22, b1, b2                    []float32
	// padded by one pixel of zeros all round ((w+2)*(h+2)): the
	// increment and the smoothness weights between a pixel and its
	// right (wh) and lower (wv) neighbours, zero across the border.
	du, dv, wh, wv []float32

	alpha, gamma, delta float32
	omega               float32
	lv                  *level
	colour              int // the SOR sweep's: pixels with (x+y)%2 == colour
}

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
	refineDerivs struct{ *refiner }
	refineSecond struct{ *refiner }
	refineNorm   struct{ *refiner }
	refineTerms  struct{ *refiner }
	refineSystem struct{ *refiner }
	refineSOR    struct{ *refiner }
	refineApply  struct{ *refiner }
)

var (
	warpStage   parallel.Tasks[refineWarp, *refineWarp]
	derivStage  parallel.Tasks[refineDerivs, *refineDerivs]
	secondStage parallel.Tasks[refineSecond, *refineSecond]
	normStage   parallel.Tasks[refineNorm, *refineNorm]
	termStage   parallel.Tasks[refineTerms, *refineTerms]
	systemStage parallel.Tasks[refineSystem, *refineSystem]
	sorStage    parallel.Tasks[refineSOR, *refineSOR]
	applyStage  parallel.Tasks[refineApply, *refineApply]
)

// grow returns s with length n, reusing its memory when it can.
func grow(s []float32, n int) []float32 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float32, n)
}

// refine runs fixed fixed-point iterations of sor SOR sweeps on lv's
// flow (lv.u, lv.v), which it updates.
func (r *refiner) refine(lv *level, fixed, sor int) {
	w, h := lv.w, lv.h
	n, np := w*h, (w+2)*(h+2)
	r.w, r.h, r.lv = w, h, lv
	for _, p := range []*[]float32{&r.avg, &r.ix, &r.iy, &r.iz, &r.ixx, &r.ixy, &r.iyy, &r.ixz, &r.iyz, &r.a11, &r.a12, &r.a22, &r.b1, &r.b2} {
		*p = grow(*p, n)
	}
	for _, p := range []*[]float32{&r.du, &r.dv, &r.wh, &r.wv} {
		*p = grow(*p, np)
		clear(*p)
	}
	const grain = 4
	warpStage.For(h, grain, refineWarp{r})
	derivStage.For(h, grain, refineDerivs{r})
	secondStage.For(h, grain, refineSecond{r})
	normStage.For(h, grain, refineNorm{r})
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

// central writes the central differences of src along x and y, halved,
// the border replicated.
func central(dx, dy, src []float32, w, h, lo, hi int) {
	for y := lo; y < hi; y++ {
		up, mid, down := src[max(y-1, 0)*w:][:w], src[y*w:][:w], src[min(y+1, h-1)*w:][:w]
		ox, oy := dx[y*w:][:w], dy[y*w:][:w]
		for x := range w {
			ox[x] = 0.5 * (mid[min(x+1, w-1)] - mid[max(x-1, 0)])
			oy[x] = 0.5 * (down[x] - up[x])
		}
	}
}

// Run takes the first derivatives.
func (t *refineDerivs) Run(lo, hi int) {
	r := t.refiner
	central(r.ix, r.iy, r.avg, r.w, r.h, lo, hi)
	central(r.ixz, r.iyz, r.iz, r.w, r.h, lo, hi)
}

// Run takes the second derivatives: ixy from ix along y, iyy from iy
// (whose x difference, ixy again, goes to avg, free now).
func (t *refineSecond) Run(lo, hi int) {
	r := t.refiner
	central(r.ixx, r.ixy, r.ix, r.w, r.h, lo, hi)
	central(r.avg, r.iyy, r.iy, r.w, r.h, lo, hi)
}

// Run divides the derivatives of each data term by their norm, which
// does not change between fixed-point iterations: the brightness term's
// (ix, iy, iz) by sqrt(ix^2 + iy^2 + zeta^2), the x gradient's (ixx,
// ixy, ixz) by sqrt(ixx^2 + ixy^2 + zeta^2), the y gradient's (ixy, iyy,
// iyz) by sqrt(ixy^2 + iyy^2 + zeta^2). ixy is needed divided by either:
// avg, free now, takes it divided by the second.
func (t *refineNorm) Run(lo, hi int) {
	r := t.refiner
	for i := lo * r.w; i < hi*r.w; i++ {
		ix, iy, iz := r.ix[i], r.iy[i], r.iz[i]
		n := 1 / sqrt32(ix*ix+iy*iy+refineZeta2)
		r.ix[i], r.iy[i], r.iz[i] = ix*n, iy*n, iz*n
		ixx, ixy, iyy, ixz, iyz := r.ixx[i], r.ixy[i], r.iyy[i], r.ixz[i], r.iyz[i]
		nx := 1 / sqrt32(ixx*ixx+ixy*ixy+refineZeta2)
		ny := 1 / sqrt32(iyy*iyy+ixy*ixy+refineZeta2)
		r.ixx[i], r.ixy[i], r.ixz[i] = ixx*nx, ixy*nx, ixz*nx
		r.avg[i], r.iyy[i], r.iyz[i] = ixy*ny, iyy*ny, iyz*ny
	}
}

// Run computes the data terms' coefficients with the robust weights of
// the current increment, and the smoothness weights.
func (t *refineTerms) Run(lo, hi int) {
	r := t.refiner
	w, pw := r.w, r.w+2
	delta2, gamma2, alpha2 := r.delta/2, r.gamma/2, r.alpha/2
	lv := r.lv
	for y := lo; y < hi; y++ {
		for x := range w {
			i := y*w + x
			p := (y+1)*pw + x + 1
			du, dv := r.du[p], r.dv[p]
			// Brightness: the error in pixels of motion (the derivatives
			// are normalised), weighted robustly.
			ix, iy, iz := r.ix[i], r.iy[i], r.iz[i]
			e := iz + ix*du + iy*dv
			wt := delta2 / sqrt32(e*e+refineEpsilon)
			a11 := wt*ix*ix + refineZeta2
			a12 := wt * ix * iy
			a22 := wt*iy*iy + refineZeta2
			b1 := -wt * iz * ix
			b2 := -wt * iz * iy
			// Gradient constancy: x gradient (xx, xy, xz), y gradient
			// (yx, yy, yz), each normalised.
			xx, xy, xz := r.ixx[i], r.ixy[i], r.ixz[i]
			yx, yy, yz := r.avg[i], r.iyy[i], r.iyz[i]
			ex := xz + xx*du + xy*dv
			ey := yz + yx*du + yy*dv
			wg := gamma2 / sqrt32(ex*ex+ey*ey+refineEpsilon)
			a11 += wg * (xx*xx + yx*yx)
			a12 += wg * (xx*xy + yx*yy)
			a22 += wg * (xy*xy + yy*yy)
			b1 -= wg * (xx*xz + yx*yz)
			b2 -= wg * (xy*xz + yy*yz)
			r.a11[i], r.a12[i], r.a22[i], r.b1[i], r.b2[i] = a11, a12, a22, b1, b2

			// The smoothness weight from the forward differences of
			// the flow plus increment, for the pairs to the right and
			// below.
			u, v := lv.u[i]+du, lv.v[i]+dv
			var ux, vx, uy, vy float32
			if x+1 < w {
				ux, vx = lv.u[i+1]+r.du[p+1]-u, lv.v[i+1]+r.dv[p+1]-v
			}
			if y+1 < r.h {
				uy, vy = lv.u[i+w]+r.du[p+pw]-u, lv.v[i+w]+r.dv[p+pw]-v
			}
			ws := alpha2 / sqrt32(ux*ux+vx*vx+uy*uy+vy*vy+refineEpsilon)
			r.wh[p], r.wv[p] = 0, 0
			if x+1 < w {
				r.wh[p] = ws
			}
			if y+1 < r.h {
				r.wv[p] = ws
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
	u, v := r.lv.u, r.lv.v
	for y := lo; y < hi; y++ {
		for x := range w {
			i := y*w + x
			p := (y+1)*pw + x + 1
			wl, wr, wu, wd := r.wh[p-1], r.wh[p], r.wv[p-pw], r.wv[p]
			sw := wl + wr + wu + wd
			var su, sv float32
			if x > 0 {
				su += wl * (u[i-1] - u[i])
				sv += wl * (v[i-1] - v[i])
			}
			if x+1 < w {
				su += wr * (u[i+1] - u[i])
				sv += wr * (v[i+1] - v[i])
			}
			if y > 0 {
				su += wu * (u[i-w] - u[i])
				sv += wu * (v[i-w] - v[i])
			}
			if y+1 < r.h {
				su += wd * (u[i+w] - u[i])
				sv += wd * (v[i+w] - v[i])
			}
			r.a11[i] = 1 / (r.a11[i] + sw)
			r.a22[i] = 1 / (r.a22[i] + sw)
			r.b1[i] += su
			r.b2[i] += sv
		}
	}
}

// Run is one half of a red-black SOR sweep: the pixels of one colour,
// whose neighbours all have the other.
func (t *refineSOR) Run(lo, hi int) {
	r := t.refiner
	w, pw := r.w, r.w+2
	omega := r.omega
	du, dv, wh, wv := r.du, r.dv, r.wh, r.wv
	for y := lo; y < hi; y++ {
		for x := (y + r.colour) & 1; x < w; x += 2 {
			i := y*w + x
			p := (y+1)*pw + x + 1
			wl, wr, wu, wd := wh[p-1], wh[p], wv[p-pw], wv[p]
			su := wl*du[p-1] + wr*du[p+1] + wu*du[p-pw] + wd*du[p+pw]
			sv := wl*dv[p-1] + wr*dv[p+1] + wu*dv[p-pw] + wd*dv[p+pw]
			a12 := r.a12[i]
			nu := du[p] + omega*((r.b1[i]+su-a12*dv[p])*r.a11[i]-du[p])
			du[p] = nu
			dv[p] += omega * ((r.b2[i]+sv-a12*nu)*r.a22[i] - dv[p])
		}
	}
}

// Run adds the increment to the flow.
func (t *refineApply) Run(lo, hi int) {
	r := t.refiner
	w, pw := r.w, r.w+2
	for y := lo; y < hi; y++ {
		for x := range w {
			r.lv.u[y*w+x] += r.du[(y+1)*pw+x+1]
			r.lv.v[y*w+x] += r.dv[(y+1)*pw+x+1]
		}
	}
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
