package dream

import (
	"cmp"
	"context"
	"fmt"
	"math"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/parallel"
)

// Stepper runs the notebook's make_step at one image size; its plan is
// made once (per octave, in Dream) and reused for every iteration.
type Stepper struct {
	plan  *graph.Plan
	input string
	h, w  int
	obj   Objective
	// lo and hi are the input range of each channel, pixels 0 and 255;
	// unit is one pixel level in the channel's input units (Scale/Std).
	lo, hi, unit [3]float32
	scratch      scratch
	// classScale multiplies the gradient of the class terms of an
	// objective that has others too, so that a class of weight 1 moves
	// the image as much as those together, once balanced (see balance);
	// layers holds their gradient while it is measured.
	classScale float32
	balanced   bool
	layers     []float32

	look   look       // what the request asks of each step beyond the notebook's
	shaped []float32  // the gradient shaped (look.shapes), or nil
	lap    *laplacian // for look.laplacian > 0
	blur   *gaussian  // for look.smooth > 0
	// grids holds, per term with a mask, the mask over its cells this
	// step (gridSizes: height and width); nil without layer masks.
	grids     [][]float32
	gridSizes [][2]int
}

// NewStepper plans make_step for h x w images and the objective obj (its
// layers named by tensor, as Network.Resolve returns them), with the
// engine options opts (the zero value: the fastest plan).
func (n *Network) NewStepper(h, w int, obj Objective, opts graph.Options) (*Stepper, error) {
	return n.newStepper(h, w, obj, nil, opts)
}

// newStepper is NewStepper with the plan's buffers lent by mem (nil: its
// own).
func (n *Network) newStepper(h, w int, obj Objective, mem *graph.Memory, opts graph.Options) (*Stepper, error) {
	p, err := n.Model.Plan(n.stepSpec(h, w, obj, mem, opts))
	if err != nil {
		return nil, fmt.Errorf("dream: %dx%d: %w", w, h, err)
	}
	if err := obj.check(p); err != nil {
		return nil, err
	}
	s := &Stepper{plan: p, input: n.Input, h: h, w: w, obj: obj, classScale: 1, balanced: !obj.mixed()}
	pre := n.Preprocess
	for c := range 3 {
		s.lo[c] = (0*pre.Scale - pre.Mean[c]) / pre.Std[c]
		s.hi[c] = (255*pre.Scale - pre.Mean[c]) / pre.Std[c]
		s.unit[c] = pre.Scale / pre.Std[c]
	}
	return s, nil
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

// Observe passes the time of every node's forward and backward pass in
// later steps to f (nil: stop), for profiling (see graph.Plan.Observe).
func (s *Stepper) Observe(f func(graph.StepTime)) { s.plan.Observe(f) }

// ForwardFLOPs is the arithmetic of the forward pass's convolutions and
// matrix products, counted as 2 per multiply-add; a step costs about twice
// that.
func (s *Stepper) ForwardFLOPs() int64 { return s.plan.FLOPs() }

// Step does one gradient-ascent step on src (a 3xHxW preprocessed image),
// in place: roll by (ox, oy), forward, objective, backward, normalised
// step, roll back, clip to the pixel range. It returns the objective before
// the step. In a Dream, the request's look shapes the gradient before it
// is normalised (keep colors, Laplacian, smooth: see Request), and its
// masks weigh the layers' terms and scale the step.
//
// stepSize is in pixel levels (0..255), whatever the model's input units:
// the gradient divided by its mean absolute value, times stepSize, moves
// the pixels by stepSize levels on average before clipping, which is the
// notebook's step on its 0..255 GoogLeNet. For a model that takes 0..1
// divided by a std of about 0.226, the step in input units is stepSize *
// Scale/Std, some 1/58 of it.
func (s *Stepper) Step(ctx context.Context, src []float32, ox, oy int, stepSize float32) (float64, error) {
	x := s.plan.Data(s.input)
	roll(x, src, s.h, s.w, ox, oy)
	if err := s.plan.Forward(ctx); err != nil {
		return 0, err
	}
	for i, grid := range s.grids {
		if grid != nil {
			gridMask(grid, s.gridSizes[i][0], s.gridSizes[i][1], s.look.layerMasks[i], s.h, s.w, ox, oy)
		}
	}
	var obj float64
	if !s.balanced {
		var err error
		if obj, err = s.balance(ctx, src, ox, oy); err != nil {
			return 0, err
		}
	} else {
		obj = s.obj.eval(s.plan, allTerms, s.classScale, &s.scratch, s.grids)
		if err := s.plan.Backward(ctx); err != nil {
			return 0, err
		}
	}
	g := s.plan.Grad(s.input)
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

// balance runs the backward pass of a step whose objective has class
// terms and others in two, the others' and the classes', and sets
// classScale so that the classes, at weight 1, move the image as much as
// the others together: the mean absolute gradient of the others over the
// classes', times the sum of the classes' |weights| (a class of weight
// 0.5 then moves it half as much). The input's gradient is then the sum
// of the two, scaled, which the steps that follow (of this Stepper: this
// octave) compute in one pass; the classes' pass runs the forward pass
// again, as a plan's Backward runs once per Forward. It returns the
// objective.
func (s *Stepper) balance(ctx context.Context, src []float32, ox, oy int) (float64, error) {
	obj := s.obj.eval(s.plan, layerTerms, 1, &s.scratch, s.grids)
	if err := s.plan.Backward(ctx); err != nil {
		return 0, err
	}
	g := s.plan.Grad(s.input)
	s.layers = append(s.layers[:0], g...)
	// Backward's gradients took the memory of the forward values and of
	// the input: the classes' pass needs them again (the same input, the
	// same values).
	roll(s.plan.Data(s.input), src, s.h, s.w, ox, oy)
	if err := s.plan.Forward(ctx); err != nil {
		return 0, err
	}
	s.obj.eval(s.plan, classTerms, 1, &s.scratch, s.grids)
	if err := s.plan.Backward(ctx); err != nil {
		return 0, err
	}
	weights := 0.0
	for _, l := range s.obj {
		if l.Class != nil {
			weights += math.Abs(float64(cmp.Or(l.Weight, 1)))
		}
	}
	layers, classes := sumAbs(s.layers, &s.scratch.sums), sumAbs(g, &s.scratch.sums)
	s.classScale = 1
	if layers > 0 && classes > 0 {
		s.classScale = float32(layers / classes * weights)
	}
	for i, v := range s.layers {
		g[i] = v + s.classScale*g[i]
	}
	s.balanced = true
	return obj, nil
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
	ox, oy = ((ox%w)+w)%w, ((oy%h)+h)%h
	rollTasks.For(len(src)/w, max(1<<14/w, 1), rollTask{dst, src, h, w, ox, oy})
}

// rollTask rolls rows [lo, hi) of src (row c*h + y is row y of channel c).
type rollTask struct {
	dst, src     []float32
	h, w, ox, oy int
}

var rollTasks parallel.Tasks[rollTask, *rollTask]

func (t *rollTask) Run(lo, hi int) {
	h, w := t.h, t.w
	for r := lo; r < hi; r++ {
		c, y := r/h, r%h
		s := t.src[r*w : (r+1)*w]
		d := t.dst[(c*h+(y+t.oy)%h)*w:][:w]
		copy(d[t.ox:], s[:w-t.ox])
		copy(d[:t.ox], s[w-t.ox:])
	}
}
