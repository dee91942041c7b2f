package dream

import (
	"context"
	"fmt"
	"math"

	"github.com/deepdream-go/deepdream/graph"
)

// Stepper runs the notebook's make_step at one image size; its plan is
// made once (per octave, in Dream) and reused for every iteration.
type Stepper struct {
	plan   *graph.Plan
	input  string
	h, w   int
	layers []Layer
	lo, hi [3]float32 // valid range of each input channel
}

// NewStepper plans make_step for h x w images and the given layers.
func (n *Network) NewStepper(h, w int, layers []Layer) (*Stepper, error) {
	targets := make([]string, len(layers))
	for i, l := range layers {
		targets[i] = l.Name
	}
	p, err := n.Model.Plan(graph.Spec{
		Inputs:   []graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, h, w}, Grad: true}},
		Targets:  targets,
		Backward: true,
	})
	if err != nil {
		return nil, fmt.Errorf("dream: %dx%d: %w", w, h, err)
	}
	s := &Stepper{plan: p, input: n.Input, h: h, w: w, layers: layers}
	for _, l := range layers {
		shape := p.Shape(l.Name)
		if len(shape) < 2 {
			return nil, fmt.Errorf("dream: layer %q has shape %v; want a tensor with channels", l.Name, shape)
		}
		for _, c := range l.Channels {
			if c < 0 || c >= shape[1] {
				return nil, fmt.Errorf("dream: layer %q has %d channels; channel %d does not exist", l.Name, shape[1], c)
			}
		}
	}
	pre := n.Preprocess
	for c := range 3 {
		s.lo[c] = (0*pre.Scale - pre.Mean[c]) / pre.Std[c]
		s.hi[c] = (255*pre.Scale - pre.Mean[c]) / pre.Std[c]
	}
	return s, nil
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
// step, roll back, clip. It returns the objective before the step.
func (s *Stepper) Step(ctx context.Context, src []float32, ox, oy int, stepSize float32) (float64, error) {
	x := s.plan.Data(s.input)
	roll(x, src, s.h, s.w, ox, oy)
	if err := s.plan.Forward(ctx); err != nil {
		return 0, err
	}
	obj := s.seed()
	if err := s.plan.Backward(ctx); err != nil {
		return 0, err
	}
	g := s.plan.Grad(s.input)
	sum := 0.0
	for _, v := range g {
		sum += math.Abs(float64(v))
	}
	mean := float32(sum / float64(len(g)))
	if mean == 0 {
		return obj, nil // nothing to follow: a dead layer at this size
	}
	scale := stepSize / mean
	// src[unrolled j] += scale * g[j]: the update rolled back in one pass.
	hw := s.h * s.w
	for c := range 3 {
		lo, hi := s.lo[c], s.hi[c]
		for y := range s.h {
			sy := ((y-oy)%s.h + s.h) % s.h
			grow := g[c*hw+y*s.w : c*hw+(y+1)*s.w]
			drow := src[c*hw+sy*s.w : c*hw+(sy+1)*s.w]
			for xx := range s.w {
				sx := ((xx-ox)%s.w + s.w) % s.w
				drow[sx] = min(max(drow[sx]+scale*grow[xx], lo), hi)
			}
		}
	}
	return obj, nil
}

// seed writes the objective's gradient into the targets' gradient buffers
// and returns the objective: sum over layers of weight * 0.5*sum(a^2),
// over the chosen channels.
func (s *Stepper) seed() float64 {
	obj := 0.0
	for _, l := range s.layers {
		a := s.plan.Data(l.Name)
		g := s.plan.Grad(l.Name)
		w := l.Weight
		if w == 0 {
			w = 1
		}
		if len(l.Channels) == 0 {
			sum := 0.0
			for i, v := range a {
				sum += float64(v) * float64(v)
				g[i] = w * v
			}
			obj += float64(w) * sum / 2
			continue
		}
		clear(g)
		shape := s.plan.Shape(l.Name)
		plane := shape.Size() / (shape[0] * shape[1])
		sum := 0.0
		for n := range shape[0] {
			for _, c := range l.Channels {
				off := (n*shape[1] + c) * plane
				for i, v := range a[off : off+plane] {
					sum += float64(v) * float64(v)
					g[off+i] = w * v
				}
			}
		}
		obj += float64(w) * sum / 2
	}
	return obj
}

// roll writes src rolled by (ox, oy) into dst, numpy.roll's way: element
// (y, x) moves to ((y+oy) mod h, (x+ox) mod w), per channel.
func roll(dst, src []float32, h, w, ox, oy int) {
	hw := h * w
	ox, oy = ((ox%w)+w)%w, ((oy%h)+h)%h
	for c := range len(src) / hw {
		for y := range h {
			s := src[c*hw+y*w : c*hw+(y+1)*w]
			d := dst[c*hw+((y+oy)%h)*w : c*hw+((y+oy)%h+1)*w]
			copy(d[ox:], s[:w-ox])
			copy(d[:ox], s[w-ox:])
		}
	}
}
