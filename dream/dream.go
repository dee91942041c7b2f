package dream

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"time"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/imageio"
)

// Layer is one term of the objective: the L2 norm of a tensor, or of some
// of its channels, times a weight.
type Layer struct {
	Name     string  // tensor name in the model (after alias resolution)
	Weight   float32 // 0 means 1
	Channels []int   // empty: every channel
}

// Options are the dream parameters, the flags of `deepdream dream`.
type Options struct {
	Layers      []Layer
	Octaves     int     // number of scales, smallest dreamed first
	OctaveScale float64 // size ratio between octaves
	Iterations  int     // gradient steps per octave
	Step        float32 // pixel levels (0..255) a step moves the pixels by on average
	Jitter      int     // random roll of up to this many pixels per step
	Seed        uint64  // seeds the jitter
	MaxSize     int     // if > 0, dream a copy whose longer side is at most this
}

// Defaults are the original notebook's parameters.
func Defaults() Options {
	return Options{Octaves: 4, OctaveScale: 1.4, Iterations: 10, Step: 1.5, Jitter: 32}
}

func (o Options) validate() error {
	switch {
	case len(o.Layers) == 0:
		return errors.New("dream: no layer to dream with")
	case o.Octaves < 1:
		return fmt.Errorf("dream: octaves is %d, want at least 1", o.Octaves)
	case o.OctaveScale < 1 || math.IsNaN(o.OctaveScale) || math.IsInf(o.OctaveScale, 0):
		return fmt.Errorf("dream: octave scale is %v, want at least 1", o.OctaveScale)
	case o.Iterations < 0:
		return fmt.Errorf("dream: iterations is %d, want 0 or more", o.Iterations)
	case o.Jitter < 0:
		return fmt.Errorf("dream: jitter is %d, want 0 or more", o.Jitter)
	case math.IsNaN(float64(o.Step)) || math.IsInf(float64(o.Step), 0):
		return fmt.Errorf("dream: step is %v", o.Step)
	}
	return nil
}

// Progress is reported after every gradient step.
type Progress struct {
	Octave, Octaves       int // 1-based
	Iteration, Iterations int // 1-based, within the octave
	Step, Steps           int // 1-based, over the whole dream
	Width, Height         int // of this octave
	Objective             float64
	Elapsed, ETA          time.Duration
	// Preview renders the dream as it stands (at this octave's size). It
	// is valid only during the callback.
	Preview func() image.Image
}

// Network is a model ready to dream with: the graph, its input and its
// preprocessing. It is safe for concurrent use; each Dream plans its own
// buffers.
type Network struct {
	Model      *graph.Model
	Input      string
	Preprocess Preprocess
}

// NewNetwork wraps a model with one image input.
func NewNetwork(m *graph.Model, pre Preprocess) (*Network, error) {
	in := m.Inputs()
	if len(in) != 1 {
		names := make([]string, len(in))
		for i, v := range in {
			names[i] = v.Name
		}
		return nil, fmt.Errorf("dream: model has %d inputs (%s), want exactly one image input", len(in), strings.Join(names, ", "))
	}
	return &Network{Model: m, Input: in[0].Name, Preprocess: pre}, nil
}

// Dream runs DeepDream on img as the original notebook does: an octave
// pyramid dreamed smallest first, carrying only the detail up. The result
// has img's size (or MaxSize's) and is opaque.
func (n *Network) Dream(ctx context.Context, img image.Image, o Options, progress func(Progress)) (image.Image, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.MaxSize > 0 {
		b := img.Bounds()
		if s := max(b.Dx(), b.Dy()); s > o.MaxSize {
			f := float64(o.MaxSize) / float64(s)
			img = imageio.Resize(img, max(1, int(float64(b.Dx())*f+0.5)), max(1, int(float64(b.Dy())*f+0.5)))
		}
	}
	b := img.Bounds()
	base := &tensor{c: 3, h: b.Dy(), w: b.Dx(), data: n.Preprocess.Tensor(img)}
	out, err := n.dream(ctx, base, o, progress)
	if err != nil {
		return nil, err
	}
	return n.Preprocess.Image(out.data, out.w, out.h), nil
}

// fits reports whether the network can compute every layer at h x w.
func (n *Network) fits(h, w int, layers []Layer) bool {
	shapes, _, err := n.Model.InferShapes([]graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, h, w}}})
	if err != nil {
		return false
	}
	for _, l := range layers {
		if _, ok := shapes[l.Name]; !ok {
			return false
		}
	}
	return true
}

type tensor struct {
	c, h, w int
	data    []float32
}

func (n *Network) dream(ctx context.Context, base *tensor, o Options, progress func(Progress)) (*tensor, error) {
	octaves := []*tensor{base}
	for range o.Octaves - 1 {
		prev := octaves[len(octaves)-1]
		h, w := zoomSize(prev.h, 1/o.OctaveScale), zoomSize(prev.w, 1/o.OctaveScale)
		t := &tensor{c: 3, h: h, w: w, data: make([]float32, 3*h*w)}
		zoom(t.data, h, w, prev.data, 3, prev.h, prev.w, false)
		octaves = append(octaves, t)
	}
	// Octaves smaller than the network can take (its pools would have
	// nothing to pool) are left out, as if fewer had been asked for. A
	// network that takes an image takes any larger one, so only the
	// smallest octave needs checking, usually once.
	for len(octaves) > 1 {
		t := octaves[len(octaves)-1]
		if n.fits(t.h, t.w, o.Layers) {
			break
		}
		octaves = octaves[:len(octaves)-1]
	}
	total, done := 0.0, 0.0 // work in pixels x steps, for the ETA
	for _, t := range octaves {
		total += float64(t.h*t.w) * float64(o.Iterations)
	}
	nOctaves := len(octaves)
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	// Every octave's plan borrows its buffers from mem, made first for
	// the largest octave so that the smaller ones fit in its memory: one
	// set of pages for the whole dream, instead of each octave faulting
	// in fresh ones (its first step took up to twice as long) or two
	// plans' worth being resident at once.
	mem := &graph.Memory{}
	if _, err := n.newStepper(octaves[0].h, octaves[0].w, o.Layers, mem); err != nil {
		return nil, err
	}
	start := time.Now()
	step := 0
	var detail, src *tensor
	for oi := len(octaves) - 1; oi >= 0; oi-- {
		ob := octaves[oi]
		octaves[oi] = nil // what the loop still needs, it holds itself
		// The last (largest) octave is dreamed in place of its base; the
		// others keep the base to take the detail out afterwards.
		src = ob
		if oi > 0 {
			src = &tensor{c: 3, h: ob.h, w: ob.w, data: append([]float32(nil), ob.data...)}
		}
		if detail != nil {
			zoom(src.data, ob.h, ob.w, detail.data, 3, detail.h, detail.w, true)
			detail = nil
		}
		mem.Reset() // the previous octave's plan runs no more
		// Garbage of the previous octave (its images, the model file's
		// bytes after loading) goes back to the system; mem's chunks stay.
		debug.FreeOSMemory()
		s, err := n.newStepper(ob.h, ob.w, o.Layers, mem)
		if err != nil {
			return nil, err
		}
		for it := range o.Iterations {
			ox, oy := 0, 0
			if o.Jitter > 0 {
				ox = rng.IntN(2*o.Jitter+1) - o.Jitter
				oy = rng.IntN(2*o.Jitter+1) - o.Jitter
			}
			obj, err := s.Step(ctx, src.data, ox, oy, o.Step)
			if err != nil {
				return nil, err
			}
			step++
			done += float64(ob.h * ob.w)
			if progress != nil {
				el := time.Since(start)
				cur := src
				progress(Progress{
					Octave: nOctaves - oi, Octaves: nOctaves,
					Iteration: it + 1, Iterations: o.Iterations,
					Step: step, Steps: nOctaves * o.Iterations,
					Width: ob.w, Height: ob.h, Objective: obj,
					Elapsed: el, ETA: time.Duration(float64(el) * (total - done) / done),
					Preview: func() image.Image { return n.Preprocess.Image(cur.data, cur.w, cur.h) },
				})
			}
		}
		if oi > 0 { // the detail, dreamed minus base, goes up; src becomes it
			for i := range src.data {
				src.data[i] -= ob.data[i]
			}
			detail = src
		}
	}
	return src, nil
}
