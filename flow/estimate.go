package flow

import (
	"context"
	"fmt"
	"math"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// Options tune Estimate; the zero value is a good default for video (like
// OpenCV's DIS medium preset). A zero field takes its default; doc.go
// says why each default is what it is.
type Options struct {
	// PatchSize is the side of the patches the search matches, in pixels
	// (default 8).
	PatchSize int
	// PatchStride is the distance between neighbouring patches, in
	// pixels (default 4): smaller is slower and a little more precise.
	PatchStride int
	// FinestScale is the pyramid level the search ends at: 0, the
	// default, is full resolution, 1 half (about 3 times faster), 2 a
	// quarter; the flow is then scaled up to the images.
	FinestScale int
	// Iterations bounds the Gauss-Newton steps of a patch in each of the
	// search's two passes (default 3).
	Iterations int
	// Refine is the number of fixed-point iterations of the variational
	// refinement at the finest level (default 1); negative turns the
	// refinement off.
	Refine int
	// SOR is the number of SOR sweeps of each fixed-point iteration
	// (default 5).
	SOR int
	// Alpha, Gamma and Delta weigh the refinement's smoothness, gradient
	// constancy and brightness constancy terms (defaults 20, 10 and 5,
	// OpenCV's).
	Alpha, Gamma, Delta float32
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	deff := func(v *float32, d float32) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.PatchSize, 8)
	def(&o.PatchStride, 4)
	def(&o.Iterations, 3)
	def(&o.Refine, 1)
	def(&o.SOR, 5)
	deff(&o.Alpha, 20)
	deff(&o.Gamma, 10)
	deff(&o.Delta, 5)
	return o
}

// check refuses options out of their bounds, naming the field.
func (o Options) check() error {
	ints := []struct {
		name      string
		v, lo, hi int
	}{
		{"PatchSize", o.PatchSize, 0, maxPatch},
		{"PatchStride", o.PatchStride, 0, maxPatch},
		{"FinestScale", o.FinestScale, 0, 16},
		{"Iterations", o.Iterations, 0, 1000},
		{"Refine", o.Refine, -1, 1000},
		{"SOR", o.SOR, 0, 1000},
	}
	for _, f := range ints {
		if f.v < f.lo || f.v > f.hi {
			return fmt.Errorf("flow: Options.%s %d: want %d to %d", f.name, f.v, f.lo, f.hi)
		}
	}
	floats := []struct {
		name string
		v    float32
	}{{"Alpha", o.Alpha}, {"Gamma", o.Gamma}, {"Delta", o.Delta}}
	for _, f := range floats {
		if !(f.v >= 0 && f.v <= 1e6) {
			return fmt.Errorf("flow: Options.%s %v: want 0 to 1e6", f.name, f.v)
		}
	}
	return nil
}

// level is one level of the pyramid.
type level struct {
	w, h   int
	border int
	i0, i1 []float32
	// i1p is i1 with a border of border pixels all round, repeating the
	// edge: a patch may move partly outside the image.
	i1p []float32
	// tex is i0 with its derivatives, for the search.
	tex []texel
	// u, v is the flow at this level, row-major.
	u, v []float32
}

// workspace holds the buffers of one estimation; Estimate recycles them.
type workspace struct {
	levels   []level
	search   search
	dens     densify
	ref      refiner
	xs, ys   []int
	ylo, yhi []int32
	shifts   []shift
	weights  [][]float32
	ux0, uy0 []int32
	uax, uay []float32
}

var workspaces parallel.FreeList[workspace]

// Estimate computes the dense flow from a to b (same size).
func Estimate(ctx context.Context, a, b *Image, o Options) (*Field, error) {
	f := &Field{}
	if err := EstimateTo(ctx, f, a, b, o); err != nil {
		return nil, err
	}
	return f, nil
}

// EstimateTo is Estimate into dst, whose memory it reuses when it is
// large enough: after a first call with images of a size, later ones of
// that size allocate nothing.
func EstimateTo(ctx context.Context, dst *Field, a, b *Image, o Options) error {
	if err := o.check(); err != nil {
		return err
	}
	if a.W != b.W || a.H != b.H {
		return fmt.Errorf("flow: the images differ in size: %dx%d and %dx%d", a.W, a.H, b.W, b.H)
	}
	for _, im := range []*Image{a, b} {
		if im.W < 1 || im.H < 1 || len(im.Pix) != im.W*im.H {
			return fmt.Errorf("flow: a %dx%d image with %d pixels", im.W, im.H, len(im.Pix))
		}
	}
	o = o.withDefaults()
	ws := workspaces.Get()
	defer workspaces.Put(ws)
	dst.W, dst.H = a.W, a.H
	if cap(dst.D) >= 2*a.W*a.H {
		dst.D = dst.D[:2*a.W*a.H]
	} else {
		dst.D = make([]float32, 2*a.W*a.H)
	}
	return ws.estimate(ctx, dst, a, b, o)
}

// scales returns the coarsest level of the pyramid, DIS's choice: a
// patch a quarter of the longer side or less at the coarsest level
// (motions up to about a quarter of the image are found), and the shorter
// side no smaller than a patch.
func scales(w, h, ps int) int {
	c := int(math.Log2(float64(max(w, h))/(4*float64(ps))) + 0.5)
	c = min(c, int(math.Floor(math.Log2(float64(min(w, h))/float64(ps)))))
	return max(c, 0)
}

func (ws *workspace) estimate(ctx context.Context, dst *Field, a, b *Image, o Options) error {
	defer ws.forget()
	coarsest := scales(a.W, a.H, o.PatchSize)
	finest := min(o.FinestScale, coarsest)
	if cap(ws.levels) < coarsest+1 {
		ws.levels = make([]level, coarsest+1)
	}
	ws.levels = ws.levels[:coarsest+1]
	// The pyramid, from the full images down.
	w, h := a.W, a.H
	for l := range ws.levels {
		lv := &ws.levels[l]
		if l > 0 {
			w, h = max(w/2, 1), max(h/2, 1)
		}
		lv.w, lv.h = w, h
		if l == 0 {
			lv.i0, lv.i1 = a.Pix, b.Pix // read only, forgotten on return
		} else {
			up := &ws.levels[l-1]
			lv.i0, lv.i1 = grow(lv.i0, w*h), grow(lv.i1, w*h)
			halve(lv.i0, up.i0, up.w, up.h)
			halve(lv.i1, up.i1, up.w, up.h)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for l := coarsest; l >= finest; l-- {
		lv := &ws.levels[l]
		ps := min(o.PatchSize, lv.w, lv.h)
		lv.border = ps + 2
		n := lv.w * lv.h
		lv.tex = grow(lv.tex, n)
		lv.i1p = grow(lv.i1p, (lv.w+2*lv.border)*(lv.h+2*lv.border))
		prepTasks.For(lv.h+2*lv.border, 16, prepTask{lv})
		lv.u, lv.v = grow(lv.u, n), grow(lv.v, n)
		var coarse *level
		if l < coarsest {
			coarse = &ws.levels[l+1]
		}
		ws.searchLevel(lv, coarse, ps, o)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	lv := &ws.levels[finest]
	if o.Refine > 0 {
		r := &ws.ref
		r.alpha, r.gamma, r.delta, r.omega = o.Alpha, o.Gamma, o.Delta, sorOmega
		r.refine(lv, o.Refine, o.SOR)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	// The finest level's flow, scaled up to the images.
	u, v := lv.u, lv.v
	if finest > 0 {
		top := &ws.levels[0]
		top.u, top.v = grow(top.u, a.W*a.H), grow(top.v, a.W*a.H)
		ws.upsample(top.u, a.W, a.H, lv.u, lv.w, lv.h, finest)
		ws.upsample(top.v, a.W, a.H, lv.v, lv.w, lv.h, finest)
		u, v = top.u, top.v
	}
	interleaveTasks.For(a.H, 16, interleaveTask{dst, u, v})
	return nil
}

// prepTask readies a level for the search: the first image's texels,
// the second image padded. Its indices are the padded rows.
type prepTask struct{ lv *level }

var prepTasks parallel.Tasks[prepTask, *prepTask]

func (t *prepTask) Run(lo, hi int) {
	lv := t.lv
	pad(lv.i1p, lv.i1, lv.w, lv.h, lv.border, lo, hi)
	sobel(lv.tex, lv.i0, lv.w, lv.h, min(lo, lv.h), min(hi, lv.h))
}

// interleaveTask writes the planes u and v into a field's rows.
type interleaveTask struct {
	f    *Field
	u, v []float32
}

var interleaveTasks parallel.Tasks[interleaveTask, *interleaveTask]

func (t *interleaveTask) Run(lo, hi int) {
	w := t.f.W
	d := t.f.D[2*lo*w : 2*hi*w]
	u, v := t.u[lo*w:hi*w], t.v[lo*w:hi*w]
	for i := range u {
		d[2*i], d[2*i+1] = u[i], v[i]
	}
}

// forget drops the references to the images and the field of the last
// estimation, which level 0 and the tasks held.
func (ws *workspace) forget() {
	if len(ws.levels) > 0 {
		ws.levels[0].i0, ws.levels[0].i1 = nil, nil
	}
}

// searchLevel runs the patch search on lv, starting from the flow of
// coarse (nil: none), and makes lv's dense flow.
func (ws *workspace) searchLevel(lv, coarse *level, ps int, o Options) {
	s := &ws.search
	stride := min(o.PatchStride, ps)
	ws.xs = grid(ws.xs, lv.w, ps, stride)
	ws.ys = grid(ws.ys, lv.h, ps, stride)
	np := len(ws.xs) * len(ws.ys)
	*s = search{
		lv: lv, coarse: coarse, ps: ps, border: lv.border, xs: ws.xs, ys: ws.ys,
		su: grow(s.su, np), sv: grow(s.sv, np), se: grow(s.se, np), hinv: grow(s.hinv, 5*np),
		iters: o.Iterations, stripe: stripeRows, lambda: 1,
	}
	tensorTasks.For(np, 64, tensorTask{s})
	stripes := (len(ws.ys) + s.stripe - 1) / s.stripe
	parallel.For(stripes, 1, s)
	ws.ylo, ws.yhi = grow(ws.ylo, lv.h), grow(ws.yhi, lv.h)
	cover(ws.ylo, ws.yhi, ws.ys, ps)
	ws.shifts = grow(ws.shifts, np)
	if len(ws.weights) != parallel.Seats() {
		ws.weights = make([][]float32, parallel.Seats())
	}
	for i := range ws.weights {
		ws.weights[i] = grow(ws.weights[i], lv.w)
	}
	ws.dens = densify{s: s, ylo: ws.ylo, yhi: ws.yhi, shifts: ws.shifts, weights: ws.weights, dstU: lv.u, dstV: lv.v}
	ws.dens.fillShifts()
	parallel.For(lv.h, 4, &ws.dens)
}

type tensorTask struct{ s *search }

var tensorTasks parallel.Tasks[tensorTask, *tensorTask]

func (t *tensorTask) Run(lo, hi int) { t.s.tensors(lo, hi) }

// upsampler scales a level's flow up to a finer level: dst (w x h)
// takes src (sw x sh) sampled bilinearly at the centres of dst's pixels,
// times the scale, so that the flow is in pixels of the finer level.
type upsampler struct {
	dst, src  []float32
	w, sw, sh int
	scale     float32
	x0, y0    []int32
	ax, ay    []float32
}

var upsampleTasks parallel.Tasks[upsampler, *upsampler]

// upsample fills dst (w x h) from src (sw x sh), levels coarser.
func (ws *workspace) upsample(dst []float32, w, h int, src []float32, sw, sh, levels int) {
	scale := float32(int(1) << levels)
	ws.ux0, ws.uax = grow(ws.ux0, w), grow(ws.uax, w)
	ws.uy0, ws.uay = grow(ws.uy0, h), grow(ws.uay, h)
	taps(ws.ux0, ws.uax, sw, scale)
	taps(ws.uy0, ws.uay, sh, scale)
	upsampleTasks.For(h, 16, upsampler{dst: dst, src: src, w: w, sw: sw, sh: sh, scale: scale, x0: ws.ux0, y0: ws.uy0, ax: ws.uax, ay: ws.uay})
}

// taps fills i0 and a with, for each pixel of a side of len(i0) of the
// finer level, the coarser level's pixel to its left (of n) and the
// fraction of the way to the next, scale being the ratio of the sides.
func taps(i0 []int32, a []float32, n int, scale float32) {
	for x := range i0 {
		s := (float32(x)+0.5)/scale - 0.5
		s = min(max(s, 0), float32(n-1))
		k := min(int(s), max(n-2, 0))
		i0[x], a[x] = int32(k), s-float32(k)
	}
}

func (t *upsampler) Run(lo, hi int) {
	sw := t.sw
	for y := lo; y < hi; y++ {
		y0 := int(t.y0[y])
		r0 := t.src[y0*sw:][:sw]
		r1 := r0
		if t.sh > 1 {
			r1 = t.src[(y0+1)*sw:][:sw]
		}
		ay := t.ay[y]
		out := t.dst[y*t.w:][:t.w]
		for x := range out {
			x0 := int(t.x0[x])
			x1 := min(x0+1, sw-1)
			ax := t.ax[x]
			top := r0[x0] + ax*(r0[x1]-r0[x0])
			bot := r1[x0] + ax*(r1[x1]-r1[x0])
			out[x] = t.scale * (top + ay*(bot-top))
		}
	}
}
