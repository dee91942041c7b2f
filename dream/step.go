package dream

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/parallel"
)

// Stepper runs the notebook's make_step at one image size; its plan is
// made once (per octave, in Dream) and reused for every iteration. A
// tiled Stepper (Tiling) plans a window of the image, and runs it over
// the image's windows every step (tile.go).
type Stepper struct {
	plan  *graph.Plan
	input string
	h, w  int // the image
	// th and tw are the plan's input: the image's size, or a window's;
	// tiles lays the windows out, nil when untiled.
	th, tw int
	tiles  *tileGrid
	// grad is the image's gradient, assembled from the windows' (tiled;
	// untiled it is the plan's). strides are the terms' tensors' strides
	// in pixels, and cells the number of cells of each over the whole
	// image: a class's mean is over those (tiled).
	grad    []float32
	strides []int
	cells   []int
	obj     Objective
	// lo and hi are the input range of each channel, pixels 0 and 255;
	// unit is one pixel level in the channel's input units (Scale/Std).
	lo, hi, unit [3]float32
	scratch      scratch
	// classScale multiplies the gradient of the class terms of an
	// objective that has others too, so that a class of weight 1 moves
	// the image as much as those together, once balanced (see balance);
	// layers (untiled) or classes (tiled) holds one of the two gradients
	// while it is measured.
	classScale      float32
	balanced        bool
	layers, classes []float32

	look   look       // what the request asks of each step beyond the notebook's
	shaped []float32  // the gradient shaped (look.shapes), or nil
	lap    *laplacian // for look.laplacian > 0
	blur   *gaussian  // for look.smooth > 0
	// grids holds, per term with a mask or of a tiled step, the weight of
	// each of its cells this step (gridSizes: height and width): the mask
	// over the cell, times 1 for a cell of the window's core and 0 for one
	// of its halo; nil when untiled without layer masks.
	grids     [][]float32
	gridSizes [][2]int
}

// Tiling says how a Stepper cuts an image into windows: an image of more
// than Tile x Tile pixels is dreamed in windows of at most that, each
// seeing Halo pixels beyond its core (see tile.go); Tile 0 never tiles.
type Tiling struct {
	Tile, Halo int
}

// NewStepper plans make_step for h x w images and the objective obj (its
// layers named by tensor, as Network.Resolve returns them), with the
// engine options opts (the zero value: the fastest plan), tiled as t
// says.
func (n *Network) NewStepper(h, w int, obj Objective, opts graph.Options, t Tiling) (*Stepper, error) {
	return n.newStepper(h, w, obj, nil, opts, t)
}

// newStepper is NewStepper with the plan's buffers lent by mem (nil: its
// own).
func (n *Network) newStepper(h, w int, obj Objective, mem *graph.Memory, opts graph.Options, t Tiling) (*Stepper, error) {
	s := &Stepper{input: n.Input, h: h, w: w, th: h, tw: w, obj: obj, classScale: 1, balanced: !obj.mixed()}
	if t.tiled(h, w) {
		strides, align, untileable, err := n.strides(obj)
		if err != nil {
			return nil, fmt.Errorf("dream: %w", err)
		}
		if untileable != "" {
			return nil, &TileError{Tile: t.Tile, Untileable: untileable}
		}
		g := t.grid(h, w, align)
		s.tiles, s.th, s.tw = &g, g.y.t, g.x.t
		for _, l := range obj {
			s.strides = append(s.strides, strides[l.Name])
		}
	}
	p, err := n.plan(s.th, s.tw, obj, mem, opts)
	if err != nil {
		return nil, err
	}
	s.plan = p
	if s.tiles != nil {
		if err := s.tile(n); err != nil {
			return nil, err
		}
	}
	pre := n.Preprocess
	for c := range 3 {
		s.lo[c] = (0*pre.Scale - pre.Mean[c]) / pre.Std[c]
		s.hi[c] = (255*pre.Scale - pre.Mean[c]) / pre.Std[c]
		s.unit[c] = pre.Scale / pre.Std[c]
	}
	return s, nil
}

// plan plans make_step's forward and backward passes for h x w inputs,
// its buffers lent by mem (nil: its own).
func (n *Network) plan(h, w int, obj Objective, mem *graph.Memory, opts graph.Options) (*graph.Plan, error) {
	p, err := n.Model.Plan(n.stepSpec(h, w, obj, mem, opts))
	if err != nil {
		return nil, fmt.Errorf("dream: %dx%d: %w", w, h, err)
	}
	if err := obj.check(p); err != nil {
		return nil, err
	}
	return p, nil
}

// stepSpec is the plan of a Stepper's step.
func (n *Network) stepSpec(h, w int, obj Objective, mem *graph.Memory, opts graph.Options) graph.Spec {
	return graph.Spec{
		// Step rolls the image into the input before every Forward: the
		// input's memory serves other buffers once the first layer has
		// read it.
		Inputs:   []graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, h, w}, Grad: true, Refilled: true}},
		Targets:  obj.Targets(),
		Backward: true,
		Memory:   mem,
		Options:  opts,
	}
}

// tile makes the buffers of a tiled step: the image's gradient (and the
// classes' while they are balanced), each term's cells, and the number of
// cells of a class's feature map over the whole image.
func (s *Stepper) tile(n *Network) error {
	s.grad = make([]float32, 3*s.h*s.w)
	if !s.balanced {
		s.classes = make([]float32, 3*s.h*s.w)
	}
	if err := s.makeGrids(func(int) bool { return true }); err != nil {
		return err
	}
	shapes, _, err := n.Model.InferShapes([]graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, s.h, s.w}}})
	if err != nil {
		return fmt.Errorf("dream: %dx%d: %w", s.w, s.h, err)
	}
	s.cells = make([]int, len(s.obj))
	for i, l := range s.obj {
		if shape := shapes[l.Name]; len(shape) == 4 {
			s.cells[i] = shape[2] * shape[3]
		}
	}
	return nil
}

// Shuffle moves the boundaries of a tiled step's windows to a random
// place drawn from rng, for the next step; an untiled Stepper draws
// nothing.
func (s *Stepper) Shuffle(rng *rand.Rand) {
	if s.tiles != nil {
		s.tiles.shuffle(rng)
	}
}

// Windows returns the number of windows a step runs the network on, and
// their size: 1 and the image's size when untiled.
func (s *Stepper) Windows() (n, w, h int) {
	if s.tiles == nil {
		return 1, s.w, s.h
	}
	return s.tiles.windows(), s.tw, s.th
}

// Observe passes the time of every node's forward and backward pass in
// later steps to f (nil: stop), for profiling (see graph.Plan.Observe).
func (s *Stepper) Observe(f func(graph.StepTime)) { s.plan.Observe(f) }

// ForwardFLOPs is the arithmetic of the forward pass's convolutions and
// matrix products, counted as 2 per multiply-add; a step costs about twice
// that (times the windows of a tiled step).
func (s *Stepper) ForwardFLOPs() int64 { return s.plan.FLOPs() }

// Step does one gradient-ascent step on src (a 3xHxW preprocessed image),
// in place: roll by (ox, oy), forward, objective, backward, normalised
// step, roll back, clip to the pixel range. It returns the objective before
// the step. In a Dream, the request's look shapes the gradient before it
// is normalised (keep colors, Laplacian, smooth: see Request), and its
// masks weigh the layers' terms and scale the step. A tiled Stepper runs
// forward, objective and backward window by window, and normalises and
// applies the gradient they make together.
//
// stepSize is in pixel levels (0..255), whatever the model's input units:
// the gradient divided by its mean absolute value, times stepSize, moves
// the pixels by stepSize levels on average before clipping, which is the
// notebook's step on its 0..255 GoogLeNet. For a model that takes 0..1
// divided by a std of about 0.226, the step in input units is stepSize *
// Scale/Std, some 1/58 of it.
func (s *Stepper) Step(ctx context.Context, src []float32, ox, oy int, stepSize float32) (float64, error) {
	g, obj, err := s.gradient(ctx, src, ox, oy)
	if err != nil {
		return 0, err
	}
	if s.shaped != nil {
		g = s.shape(g)
	}
	mean := float32(sumAbs(g, &s.scratch.sums) / float64(len(g)))
	if mean == 0 {
		return obj, nil // nothing to follow: a dead layer at this size
	}
	if s.look.keepColors {
		lumaTasks.For(s.h, 8, lumaTask{s, src, g, stepSize / mean, ox, oy})
		return obj, nil
	}
	// src[unrolled j] += scale[c] * g[j]: the update rolled back in one
	// pass. For a 0..255 model without std (unit 1) scale is stepSize/mean
	// exactly, the notebook's arithmetic.
	var scale [3]float32
	for c, u := range s.unit {
		scale[c] = stepSize * u / mean
	}
	updateTasks.For(3*s.h, 8, updateTask{s, src, g, scale, ox, oy})
	return obj, nil
}

// gradient returns the objective on src rolled by (ox, oy), and its
// gradient with respect to the rolled image: the plan's, or, tiled, the
// windows' added up. A step of an objective with classes and other
// terms that is not balanced yet runs the backward pass in two and
// balances them (balance).
func (s *Stepper) gradient(ctx context.Context, src []float32, ox, oy int) ([]float32, float64, error) {
	seed := allTerms
	if !s.balanced {
		seed = layerTerms
	}
	g := s.plan.Grad(s.input)
	if s.tiles != nil {
		g = s.grad
		clear(g)
		clear(s.classes)
	}
	obj := 0.0
	for k := range s.windowCount() {
		y0, x0 := s.window(k)
		rollWindow(s.plan.Data(s.input), s.th, s.tw, src, s.h, s.w, y0, x0, ox, oy)
		if err := s.plan.Forward(ctx); err != nil {
			return nil, 0, err
		}
		s.cellWeights(k, y0, x0, ox, oy)
		obj += s.obj.eval(s.plan, seed, s.classScale, &s.scratch, s.grids, s.cells)
		if err := s.plan.Backward(ctx); err != nil {
			return nil, 0, err
		}
		s.collect(g, y0, x0)
		if s.balanced {
			continue
		}
		if s.tiles == nil { // the plan's gradient is g: keep the layers' aside
			s.layers = append(s.layers[:0], g...)
		}
		// Backward's gradients took the memory of the forward values and
		// of the input: the classes' pass runs the forward pass again, as
		// a plan's Backward runs once per Forward.
		rollWindow(s.plan.Data(s.input), s.th, s.tw, src, s.h, s.w, y0, x0, ox, oy)
		if err := s.plan.Forward(ctx); err != nil {
			return nil, 0, err
		}
		s.obj.eval(s.plan, classTerms, 1, &s.scratch, s.grids, s.cells)
		if err := s.plan.Backward(ctx); err != nil {
			return nil, 0, err
		}
		s.collect(s.classes, y0, x0)
	}
	if !s.balanced {
		if s.tiles == nil {
			s.balance(s.layers, g, g)
		} else {
			s.balance(g, s.classes, g)
		}
		s.layers, s.classes = nil, nil // balanced once: neither is read again
	}
	return g, obj, nil
}

// windowCount is the number of windows of a step, 1 when untiled.
func (s *Stepper) windowCount() int {
	if s.tiles == nil {
		return 1
	}
	return s.tiles.windows()
}

// window returns window k's origin in the rolled image: (0, 0), the
// whole image, when untiled.
func (s *Stepper) window(k int) (y0, x0 int) {
	if s.tiles == nil {
		return 0, 0
	}
	return s.tiles.window(k)
}

// cellWeights sets the weight of every term's cells for window k, at
// (y0, x0) (see grids), the image rolled by (ox, oy).
func (s *Stepper) cellWeights(k, y0, x0, ox, oy int) {
	for i, grid := range s.grids {
		if grid == nil {
			continue
		}
		gh, gw := s.gridSizes[i][0], s.gridSizes[i][1]
		var m []float32
		if s.look.layerMasks != nil {
			m = s.look.layerMasks[i]
		}
		if m != nil {
			gridMask(grid, gh, gw, m, s.h, s.w, s.th, s.tw, y0, x0, ox, oy)
		}
		if s.tiles != nil {
			s.tiles.cellWeights(grid, gh, gw, s.strides[i], k, m != nil)
		}
	}
}

// collect adds the plan's input gradient, of the window at (y0, x0), into
// dst, the image's (tiled; untiled the plan's gradient is the image's).
func (s *Stepper) collect(dst []float32, y0, x0 int) {
	if s.tiles != nil {
		addWindow(dst, s.h, s.w, s.plan.Grad(s.input), s.th, s.tw, y0, x0)
	}
}

// balance sets classScale so that the classes, at weight 1, move the
// image as much as the other terms together (layers: their gradient;
// classes: the classes' at weight 1): the mean absolute gradient of the
// others over the classes', times the sum of the classes' |weights| (a
// class of weight 0.5 then moves it half as much). It writes the sum of
// the two, the classes' scaled, into g (which may be either), the
// gradient that the steps that follow (of this Stepper: this octave)
// compute in one pass.
func (s *Stepper) balance(layers, classes, g []float32) {
	weights := 0.0
	for _, l := range s.obj {
		if l.Class != nil {
			weights += math.Abs(float64(cmp.Or(l.Weight, 1)))
		}
	}
	sumLayers, sumClasses := sumAbs(layers, &s.scratch.sums), sumAbs(classes, &s.scratch.sums)
	s.classScale = 1
	if sumLayers > 0 && sumClasses > 0 {
		s.classScale = float32(sumLayers / sumClasses * weights)
	}
	for i, v := range layers {
		g[i] = v + s.classScale*classes[i]
	}
	s.balanced = true
}

// updateTask adds scale[c]*g, rolled back by (ox, oy), to rows [lo, hi) of
// src (row c*h + y is row y of channel c), clipped to each channel's range.
type updateTask struct {
	s      *Stepper
	src, g []float32
	scale  [3]float32
	ox, oy int
}

var updateTasks parallel.Tasks[updateTask, *updateTask]

func (t *updateTask) Run(lo, hi int) {
	h, w := t.s.h, t.s.w
	ox := ((t.ox % w) + w) % w
	for r := lo; r < hi; r++ {
		c, y := r/h, r%h
		sy := ((y-t.oy)%h + h) % h
		grow := t.g[(c*h+y)*w:][:w]
		drow := t.src[(c*h+sy)*w:][:w]
		// Column x of the gradient belongs to column x - ox (mod w).
		if m := t.s.look.mask; m != nil {
			mrow := m[sy*w:][:w]
			clipAddMasked(drow[:w-ox], grow[ox:], mrow[:w-ox], t.scale[c], t.s.lo[c], t.s.hi[c])
			clipAddMasked(drow[w-ox:], grow[:ox], mrow[w-ox:], t.scale[c], t.s.lo[c], t.s.hi[c])
			continue
		}
		clipAdd(drow[:w-ox], grow[ox:], t.scale[c], t.s.lo[c], t.s.hi[c])
		clipAdd(drow[w-ox:], grow[:ox], t.scale[c], t.s.lo[c], t.s.hi[c])
	}
}

// clipAdd sets d = clip(d + scale*g, lo, hi).
func clipAdd(d, g []float32, scale, lo, hi float32) {
	g = g[:len(d)]
	for i, v := range g {
		d[i] = min(max(d[i]+scale*v, lo), hi)
	}
}

// clipAddMasked sets d = clip(d + scale*g*m, lo, hi).
func clipAddMasked(d, g, m []float32, scale, lo, hi float32) {
	g, m = g[:len(d)], m[:len(d)]
	for i, v := range g {
		d[i] = min(max(d[i]+scale*v*m[i], lo), hi)
	}
}

// roll writes src rolled by (ox, oy) into dst, numpy.roll's way: element
// (y, x) moves to ((y+oy) mod h, (x+ox) mod w), per channel, on all
// cores.
func roll(dst, src []float32, h, w, ox, oy int) {
	rollWindow(dst, h, w, src, h, w, 0, 0, ox, oy)
}

// rollWindow writes into dst (C x th x tw) the window at (y0, x0) of src
// (C x h x w) rolled by (ox, oy): dst's (y, x) is the rolled image's
// (y0+y, x0+x), src's ((y0+y-oy) mod h, (x0+x-ox) mod w).
func rollWindow(dst []float32, th, tw int, src []float32, h, w, y0, x0, ox, oy int) {
	rollTasks.For(len(src)/(h*w)*th, max(1<<14/tw, 1), rollTask{dst, src, h, w, th, tw, y0 - ((oy%h)+h)%h, ((x0-ox)%w + w) % w})
}

// rollTask fills rows [lo, hi) of a rollWindow (row c*th + y is row y of
// channel c): row y is src's row y+dy modulo h, from its column sx on,
// wrapped.
type rollTask struct {
	dst, src             []float32
	h, w, th, tw, dy, sx int
}

var rollTasks parallel.Tasks[rollTask, *rollTask]

func (t *rollTask) Run(lo, hi int) {
	for r := lo; r < hi; r++ {
		c, y := r/t.th, r%t.th
		s := t.src[(c*t.h+wrap(y+t.dy, t.h))*t.w:][:t.w]
		d := t.dst[r*t.tw:][:t.tw]
		n := copy(d, s[t.sx:])
		copy(d[n:], s)
	}
}
