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
	Tiles                 int // windows a step of this octave runs the network on: 1 untiled
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
//
// A request of Tile 0 has its tile chosen (Estimate); a dream that does
// not fit the request's MaxMemory fails before its first step
// (*MemoryError).
func (n *Network) Dream(ctx context.Context, img image.Image, req Request, progress func(Progress)) (image.Image, error) {
	out, _, err := n.dreamTiled(ctx, img, req, progress)
	return out, err
}

// dreamTiled is Dream, which also returns its estimate: the tile it used.
func (n *Network) dreamTiled(ctx context.Context, img image.Image, req Request, progress func(Progress)) (image.Image, Estimate, error) {
	if err := req.Validate(); err != nil {
		return nil, Estimate{}, fmt.Errorf("dream: %w", err)
	}
	if err := req.checkImages(); err != nil {
		return nil, Estimate{}, err
	}
	obj, err := n.Resolve(&req)
	if err != nil {
		return nil, Estimate{}, err
	}
	if req.Guide != "" {
		guide, err := req.image("guide", req.Guide)
		if err != nil {
			return nil, Estimate{}, err
		}
		if obj, err = n.Guided(ctx, obj, guide, req.engine()); err != nil {
			return nil, Estimate{}, err
		}
	}
	img = dreamImage(img, req.MaxSize)
	b := img.Bounds()
	if err := n.checkSize(b.Dy(), b.Dx(), obj); err != nil {
		return nil, Estimate{}, err
	}
	est, err := n.estimate(b.Dx(), b.Dy(), req, obj, imageBytes(img))
	if err != nil {
		return nil, est, err
	}
	if req.MaxMemory > 0 && est.Bytes > req.MaxMemory {
		return nil, est, &MemoryError{Estimate: est, MaxMemory: req.MaxMemory, Asked: req.Tile}
	}
	deep := imageio.Depth(img) == 16
	out, err := n.dream(ctx, img, req, obj, est.Tiling(), progress)
	if err != nil {
		return nil, est, err
	}
	if deep { // the dream has img's depth: a 16-bit photo's keeps its precision
		return n.Preprocess.Image16(out.data, out.w, out.h), est, nil
	}
	return n.Preprocess.Image(out.data, out.w, out.h), est, nil
}

// dreamImage returns img as Dream dreams it: its longer side brought down
// to maxSize if it is longer (0: as it is), in 8 or 16 bits a sample
// (NRGBA or NRGBA64), so that its octaves are made from it without
// converting it each time.
func dreamImage(img image.Image, maxSize int) image.Image {
	b := img.Bounds()
	if w, h := DreamSize(b.Dx(), b.Dy(), maxSize); w != b.Dx() || h != b.Dy() {
		img = imageio.ResizeDeep(img, w, h)
	}
	if imageio.Depth(img) == 16 {
		return imageio.NRGBA64(img)
	}
	return imageio.NRGBA(img)
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

// octaveSizes returns the sizes of the octaves of a dream of an h x w
// image, the image's first: each zoomSize of the one before by
// 1/OctaveScale. Octaves smaller than the network can take at obj's
// layers (its pools would have nothing to pool) are left out, as if fewer
// had been asked for. A network that takes an image takes any larger
// one, so only the smallest octave needs checking, usually once.
func (n *Network) octaveSizes(h, w int, req Request, obj Objective) []image.Point {
	sizes := []image.Point{{w, h}}
	for range req.Octaves - 1 {
		p := sizes[len(sizes)-1]
		sizes = append(sizes, image.Pt(zoomSize(p.X, 1/req.OctaveScale), zoomSize(p.Y, 1/req.OctaveScale)))
	}
	for len(sizes) > 1 && !n.fits(sizes[len(sizes)-1].Y, sizes[len(sizes)-1].X, obj) {
		sizes = sizes[:len(sizes)-1]
	}
	return sizes
}

// pyramid makes the octaves of a dream from its image, each zoomed from
// the one above as the notebook makes them; it keeps none of them, only
// the image: an octave is made again when it is needed, which takes far
// less time than a step and a fraction of the memory the octaves would.
type pyramid struct {
	pre   Preprocess
	img   image.Image
	sizes []image.Point
}

// octave returns octave k, made from the image.
func (p *pyramid) octave(k int) *tensor {
	t := &tensor{c: 3, h: p.sizes[0].Y, w: p.sizes[0].X, data: p.pre.Tensor(p.img)}
	for _, size := range p.sizes[1 : k+1] {
		next := &tensor{c: 3, h: size.Y, w: size.X, data: make([]float32, 3*size.X*size.Y)}
		zoom(next.data, next.h, next.w, t.data, 3, t.h, t.w, false)
		t = next
	}
	return t
}

// dream dreams img (at its dream size, see dreamImage) tiled as t says,
// and returns the result as a tensor. Its memory is what Network.estimate
// counts, stage by stage: the octave pyramid is made again for each
// octave (pyramid), the garbage of each stage is given back to the
// system before the next one's buffers are written, and the image is
// let go once the last octave is made from it.
func (n *Network) dream(ctx context.Context, img image.Image, o Request, obj Objective, t Tiling, progress func(Progress)) (*tensor, error) {
	b := img.Bounds()
	sizes := n.octaveSizes(b.Dy(), b.Dx(), o, obj)
	looks, err := octaveLooks(o, obj, sizes)
	if err != nil {
		return nil, err
	}
	total, done := 0.0, 0.0 // work in pixels x steps, for the ETA
	for _, size := range sizes {
		total += float64(size.X*size.Y) * float64(o.Iterations)
	}
	nOctaves := len(sizes)
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	// The tiles' grid moves by numbers of its own stream of the same
	// seed: a tiled dream is as reproducible as the jitter, and its jitter
	// is the untiled dream's.
	grid := rand.New(rand.NewPCG(o.Seed, gridStream))
	// Every octave's plan borrows its buffers from mem, made first for
	// the largest plan so that the others fit in its memory: one set of
	// pages for the whole dream, instead of each octave faulting in fresh
	// ones (its first step took up to twice as long) or two plans' worth
	// being resident at once.
	mem := &graph.Memory{}
	_, align, _, err := n.strides(obj)
	if err != nil {
		return nil, fmt.Errorf("dream: %w", err)
	}
	// The largest is the one that borrows most (a tiled octave's window
	// may be narrower and taller than another's), not the most pixels.
	var largest image.Point
	lent := int64(-1)
	for _, size := range sizes {
		p := t.planSize(size.Y, size.X, align)
		e, err := n.Model.EstimateMemory(n.stepSpec(p.Y, p.X, obj, nil, o.engine()))
		if err != nil {
			return nil, fmt.Errorf("dream: %dx%d: %w", p.X, p.Y, err)
		}
		if e.Lent > lent {
			largest, lent = p, e.Lent
		}
	}
	if _, err := n.plan(largest.Y, largest.X, obj, mem, o.engine()); err != nil {
		return nil, err
	}
	pyr := &pyramid{pre: n.Preprocess, img: img, sizes: sizes}
	start := time.Now()
	step := 0
	var detail, src *tensor
	for oi := len(sizes) - 1; oi >= 0; oi-- {
		mem.Reset() // the previous octave's plan runs no more
		// Garbage of the previous octave (its images, its plan's own
		// buffers, the model file's bytes after loading) goes back to the
		// system; mem's chunks stay.
		debug.FreeOSMemory()
		ob := pyr.octave(oi)
		if oi == 0 {
			pyr.img = nil // the last octave is made: the image can go
		}
		// The octaves made on the way to this one go back before its
		// copy is made beside it (they are as large as it and larger).
		debug.FreeOSMemory()
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
		debug.FreeOSMemory() // the detail
		s, err := n.newStepper(ob.h, ob.w, obj, mem, o.engine(), t)
		if err != nil {
			return nil, err
		}
		if err := s.setLook(looks[oi]); err != nil {
			return nil, err
		}
		looks[oi] = look{}
		windows, _, _ := s.Windows()
		for it := range o.Iterations {
			ox, oy := 0, 0
			if o.Jitter > 0 {
				ox = rng.IntN(2*o.Jitter+1) - o.Jitter
				oy = rng.IntN(2*o.Jitter+1) - o.Jitter
			}
			s.Shuffle(grid)
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
					Width: ob.w, Height: ob.h, Tiles: windows, Objective: obj,
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
	debug.FreeOSMemory() // the plans and the last octave's buffers: the result is made next
	return src, nil
}
