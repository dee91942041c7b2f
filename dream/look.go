package dream

import (
	"fmt"
	"image"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// look is what a request asks of a step beyond the notebook's make_step,
// at one octave: how to shape the gradient, and where and how to apply
// it. Its zero value asks nothing: the notebook's step.
type look struct {
	laplacian  int     // Request.Laplacian
	smooth     float64 // Request.Smooth
	keepColors bool    // Request.KeepColors
	// mask is Request.Mask at the octave's size (h x w, 0 to 1), nil for
	// none; layerMasks, if not nil, the layers' masks, by objective layer
	// (nil for a layer without).
	mask       []float32
	layerMasks [][]float32
}

// octaveLooks returns the look of each octave of a dream of req with the
// objective obj: the shaping the request asks for, and its masks, and its
// layers', at the octave's size (maskPyramid), octaves[0] the largest.
func octaveLooks(req Request, obj Objective, sizes []image.Point) ([]look, error) {
	pyramids := map[string][][]float32{} // by image name: a mask named twice is made once
	pyramid := func(key, name string) ([][]float32, error) {
		if p, ok := pyramids[name]; ok {
			return p, nil
		}
		img, err := req.image(key, name)
		if err != nil {
			return nil, err
		}
		p := maskPyramid(maskPlane(img, sizes[0].X, sizes[0].Y), sizes)
		pyramids[name] = p
		return p, nil
	}
	out := make([]look, len(sizes))
	for k := range out {
		out[k] = look{laplacian: req.Laplacian, smooth: req.Smooth, keepColors: req.KeepColors}
	}
	if req.Mask != "" {
		p, err := pyramid("mask", req.Mask)
		if err != nil {
			return nil, err
		}
		for k := range out {
			out[k].mask = p[k]
		}
	}
	for i, l := range obj {
		if l.Mask == "" {
			continue
		}
		p, err := pyramid("layers", l.Mask)
		if err != nil {
			return nil, err
		}
		for k := range out {
			if out[k].layerMasks == nil {
				out[k].layerMasks = make([][]float32, len(obj))
			}
			out[k].layerMasks[i] = p[k]
		}
	}
	return out, nil
}

// shapes reports whether the look changes the gradient before the step.
func (l *look) shapes() bool { return l.keepColors || l.laplacian > 0 || l.smooth > 0 }

// setLook makes the buffers the look needs, once per octave: the steps
// then allocate nothing.
func (s *Stepper) setLook(l look) error {
	s.look = l
	if l.shapes() {
		c := 3
		if l.keepColors {
			c = 1 // the gradient of the luminance
		}
		s.shaped = make([]float32, c*s.h*s.w)
		if l.laplacian > 0 {
			s.lap = newLaplacian(c, s.h, s.w, l.laplacian)
		}
		if l.smooth > 0 {
			s.blur = newGaussian(c, s.h, s.w, l.smooth)
		}
	}
	if l.layerMasks != nil {
		return s.makeGrids(func(i int) bool { return l.layerMasks[i] != nil })
	}
	return nil
}

// makeGrids makes the grid of every term for which need is true, unless
// it has one (see Stepper.grids).
func (s *Stepper) makeGrids(need func(term int) bool) error {
	if s.grids == nil {
		s.grids, s.gridSizes = make([][]float32, len(s.obj)), make([][2]int, len(s.obj))
	}
	for i, l := range s.obj {
		if !need(i) || s.grids[i] != nil {
			continue
		}
		shape := s.plan.Shape(l.Name)
		if len(shape) != 4 {
			what := "a mask (@" + l.Mask + ")"
			if l.Mask == "" {
				what = "a tiled step"
			}
			return fmt.Errorf("dream: layer %q has shape %v; %s needs a layer with a height and a width", l.Name, shape, what)
		}
		s.grids[i], s.gridSizes[i] = make([]float32, shape[2]*shape[3]), [2]int{shape[2], shape[3]}
	}
	return nil
}

// shape returns the gradient g shaped as the look asks, in s.shaped: the
// luminance's gradient (keepColors), then Laplacian-normalised, then
// smoothed. The Laplacian comes first: the other way round it would give
// back to the finest band what smoothing took from it.
func (s *Stepper) shape(g []float32) []float32 {
	out := s.shaped
	if s.look.keepColors {
		lumaGradTasks.For(s.h, 8, lumaGradTask{out, g, s.unit, s.h * s.w, s.w})
	} else {
		copy(out, g)
	}
	if s.lap != nil {
		s.lap.normalize(out)
	}
	if s.blur != nil {
		s.blur.blur(out)
	}
	return out
}

// lumaGradTask writes rows [lo, hi) of the gradient of the luminance, in
// pixel levels: a step that moves the three channels of a pixel by the
// same d levels moves its input by d*unit[c] in channel c, so the
// objective's gradient along it is the sum of g[c]*unit[c].
type lumaGradTask struct {
	dst, g []float32
	unit   [3]float32
	plane  int
	w      int
}

var lumaGradTasks parallel.Tasks[lumaGradTask, *lumaGradTask]

func (t *lumaGradTask) Run(lo, hi int) {
	out := t.dst[lo*t.w : hi*t.w]
	g0, g1, g2 := t.g[lo*t.w:hi*t.w], t.g[t.plane+lo*t.w:t.plane+hi*t.w], t.g[2*t.plane+lo*t.w:2*t.plane+hi*t.w]
	for i := range out {
		out[i] = g0[i]*t.unit[0] + g1[i]*t.unit[1] + g2[i]*t.unit[2]
	}
}

// lumaTask is updateTask for keepColors: it adds scale*g (g the shaped
// gradient of the luminance, in pixel levels), rolled back by (ox, oy), to
// the three channels of rows [lo, hi) of src alike, in pixel levels. A
// pixel's channels moving alike, its Cb and Cr (BT.601) stay as they are;
// so that clipping to 0..255 keeps them too, the move is cut where the
// first channel reaches 0 or 255, for all three.
type lumaTask struct {
	s      *Stepper
	src, g []float32
	scale  float32
	ox, oy int
}

var lumaTasks parallel.Tasks[lumaTask, *lumaTask]

func (t *lumaTask) Run(lo, hi int) {
	h, w := t.s.h, t.s.w
	ox := ((t.ox % w) + w) % w
	for y := lo; y < hi; y++ {
		sy := ((y-t.oy)%h + h) % h
		grow := t.g[y*w:][:w]
		var d [3][]float32
		for c := range d {
			d[c] = t.src[(c*h+sy)*w:][:w]
		}
		var mrow []float32
		if m := t.s.look.mask; m != nil {
			mrow = m[sy*w:][:w]
		}
		// Column x of the gradient belongs to column x - ox (mod w).
		t.add(d, mrow, 0, grow[ox:])
		t.add(d, mrow, w-ox, grow[:ox])
	}
}

// add moves the pixels [x0, x0+len(g)) of the row d by scale*g levels
// (times the mask row m, if not nil), cut to keep every channel in
// 0..255.
func (t *lumaTask) add(d [3][]float32, m []float32, x0 int, g []float32) {
	lo, unit := t.s.lo, t.s.unit
	inv := [3]float32{1 / unit[0], 1 / unit[1], 1 / unit[2]}
	for i, v := range g {
		x := x0 + i
		move := t.scale * v
		if m != nil {
			move *= m[x]
		}
		p0, p1, p2 := (d[0][x]-lo[0])*inv[0], (d[1][x]-lo[1])*inv[1], (d[2][x]-lo[2])*inv[2] // in levels
		move = min(max(move, -min(p0, p1, p2)), 255-max(p0, p1, p2))
		d[0][x] += move * unit[0]
		d[1][x] += move * unit[1]
		d[2][x] += move * unit[2]
	}
}
