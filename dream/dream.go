package dream

import (
	"context"
	"fmt"
	"image"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/imageio"
)

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

// Profile says how to use a model: how it wants its input image, and the
// names of its layers. The model registry (package models) keeps one per
// known model; a model file's comes from flags and its sidecar.
type Profile struct {
	Preprocess Preprocess
	// DefaultLayer is the layer spec a request without layers dreams; ""
	// lets NewNetwork choose from the graph: the output of the block at
	// about two thirds of its depth.
	DefaultLayer string
	// Aliases maps friendly layer names to tensor names. An exact tensor
	// name always wins over an alias, and an alias whose tensor the model
	// lacks does not apply.
	Aliases map[string]string
	// MainLayers are the layer names worth offering first (the studio's
	// layer explorer), shallow to deep; none: the model's block outputs.
	MainLayers []string
	// InputSize is the square side the model was trained at, 0 if unknown.
	InputSize int
	// Classes names the outputs of the model's classifier, index = class
	// (package models gives every model ImageNet's 1000), for the class
	// specs of a request (ParseClass); none: classes by index only.
	Classes []string
}

// Network is a model ready to dream with: the graph, its image input, and
// its profile, checked against the graph. It is safe for concurrent use;
// each Dream plans its own buffers.
type Network struct {
	Model *graph.Model
	Input string
	// Profile is the profile NewNetwork was given, with the aliases and
	// main layers the model has, and a DefaultLayer chosen when the
	// profile named none.
	Profile
	// Chosen says how NewNetwork chose the default layer, e.g. "the output
	// of block 6 of 8, about two thirds of the way through the network";
	// "" when the profile named it.
	Chosen string

	images map[string]bool // the tensors that carry the image (graph.Model.FromInputs)
	// blocked maps the tensors that depend on an operator the engine lacks
	// to the first such node: they cannot be computed at any size.
	blocked map[string]*graph.NodeError
	w, h    int                    // the size layers are listed and checked at (Size)
	shapes  map[string]graph.Shape // every tensor's shape at that size
	// head finds, once, the classifier that class terms use (Class).
	head func() (*classifier, error)
}

// NewNetwork wraps a model with one image input and its profile p.
func NewNetwork(m *graph.Model, p Profile) (*Network, error) {
	in := m.Inputs()
	if len(in) != 1 {
		names := make([]string, len(in))
		for i, v := range in {
			names[i] = v.Name
		}
		return nil, fmt.Errorf("dream: %smodel has %d inputs (%s), want exactly one image input", where(m), len(in), strings.Join(names, ", "))
	}
	n := &Network{Model: m, Input: in[0].Name, Profile: p, images: m.FromInputs(), blocked: blocked(m)}
	n.w, n.h = n.size()
	shapes, _, err := m.InferShapes([]graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, n.h, n.w}}})
	if err != nil {
		return nil, fmt.Errorf("dream: %s%w", where(m), err)
	}
	n.shapes = shapes
	n.head = sync.OnceValues(func() (*classifier, error) {
		h, err := n.findClassifier()
		if err != nil {
			return nil, fmt.Errorf("no classifier to dream classes with: %w", err)
		}
		return h, nil
	})
	n.Aliases = map[string]string{}
	for alias, t := range p.Aliases {
		if n.isLayer(t) && !n.isLayer(alias) { // else it names nothing, or is shadowed by a tensor
			n.Aliases[alias] = t
		}
	}
	n.MainLayers = nil
	for _, l := range p.MainLayers {
		if _, ok := n.lookup(l); ok {
			n.MainLayers = append(n.MainLayers, l)
		}
	}
	blocks := n.dreamable(m.BlockOutputs())
	if len(p.MainLayers) == 0 {
		for _, t := range blocks {
			n.MainLayers = append(n.MainLayers, n.friendly(t))
		}
	}
	if p.DefaultLayer == "" {
		n.DefaultLayer, n.Chosen = n.chooseDefault(blocks)
	}
	return n, nil
}

// blocked maps every tensor that an unsupported node writes, or that
// depends on one, to the first (in graph order) unsupported node it
// depends on.
func blocked(m *graph.Model) map[string]*graph.NodeError {
	out := map[string]*graph.NodeError{}
	unsupported := m.Unsupported()
	for _, node := range m.Graph.Nodes {
		var cause *graph.NodeError
		if i := slices.IndexFunc(unsupported, func(e *graph.NodeError) bool { return e.Index == node.Index }); i >= 0 {
			cause = unsupported[i]
		}
		for _, in := range node.Inputs {
			if c := out[in]; c != nil && (cause == nil || c.Index < cause.Index) {
				cause = c
			}
		}
		if cause != nil {
			for _, t := range node.Outputs {
				out[t] = cause
			}
		}
	}
	return out
}

// Dream runs DeepDream on img as the original notebook does: an octave
// pyramid dreamed smallest first, carrying only the detail up. The result
// has img's size (or MaxSize's) and is opaque. A request with a guide has
// its layers guided (Guided) before the first step.
func (n *Network) Dream(ctx context.Context, img image.Image, req Request, progress func(Progress)) (image.Image, error) {
	if err := req.Validate(); err != nil {
		return nil, fmt.Errorf("dream: %w", err)
	}
	if err := req.checkImages(); err != nil {
		return nil, err
	}
	obj, err := n.Resolve(&req)
	if err != nil {
		return nil, err
	}
	if req.Guide != "" {
		guide, err := req.image("guide", req.Guide)
		if err != nil {
			return nil, err
		}
		if obj, err = n.Guided(ctx, obj, guide, req.engine()); err != nil {
			return nil, err
		}
	}
	if b := img.Bounds(); req.MaxSize > 0 {
		if w, h := DreamSize(b.Dx(), b.Dy(), req.MaxSize); w != b.Dx() || h != b.Dy() {
			img = imageio.ResizeDeep(img, w, h)
		}
	}
	b := img.Bounds()
	if err := n.checkSize(b.Dy(), b.Dx(), obj); err != nil {
		return nil, err
	}
	base := &tensor{c: 3, h: b.Dy(), w: b.Dx(), data: n.Preprocess.Tensor(img)}
	// The dream has img's depth: a 16-bit photo's keeps its precision.
	// Nothing else of img is needed, so that a caller that holds it no
	// more lets it go while the octaves are dreamed.
	deep := imageio.Depth(img) == 16
	out, err := n.dream(ctx, base, req, obj, progress)
	if err != nil {
		return nil, err
	}
	// The plan's buffers go back to the system before the result is made
	// beside them (a garbage collection would come too late).
	debug.FreeOSMemory()
	if deep {
		return n.Preprocess.Image16(out.data, out.w, out.h), nil
	}
	return n.Preprocess.Image(out.data, out.w, out.h), nil
}

// fits reports whether the network can compute every layer at h x w.
func (n *Network) fits(h, w int, layers Objective) bool {
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

func (n *Network) dream(ctx context.Context, base *tensor, o Request, obj Objective, progress func(Progress)) (*tensor, error) {
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
		if n.fits(t.h, t.w, obj) {
			break
		}
		octaves = octaves[:len(octaves)-1]
	}
	looks, err := octaveLooks(o, obj, octaves)
	if err != nil {
		return nil, err
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
	if _, err := n.newStepper(octaves[0].h, octaves[0].w, obj, mem, o.engine()); err != nil {
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
		s, err := n.newStepper(ob.h, ob.w, obj, mem, o.engine())
		if err != nil {
			return nil, err
		}
		if err := s.setLook(looks[oi]); err != nil {
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
