package dream

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/parallel"
)

// Layer is one term of an Objective, on a tensor of the network, times a
// weight: the L2 norm of the tensor, or of some of its channels (the
// notebook's objective); with Guide, how well it matches a guide image's
// features there (the notebook's guided objective); with Class, a class's
// score, which the classifier computes from the tensor.
type Layer struct {
	Name string // tensor name in the model (after alias resolution)
	// Weight multiplies the term: a negative weight makes a dream
	// suppress what the layer sees, or the class. 0, a Layer's zero
	// value in Go, means 1; a spec cannot say 0 (ParseLayer and
	// ParseClass refuse it).
	Weight   float32
	Channels []int // empty: every channel
	// Mask names a grey image of the request (Request.Images) that
	// weighs the term per pixel in a dream: 0.5*sum(m*a^2), m the mask
	// averaged over the pixels under each of the layer's cells (a guided
	// term's dot products likewise). "" for none; a class term has none.
	// Value and Seed, given no images, leave it out.
	Mask string
	// Guide, if set, makes the term guided (Network.Guided sets it): the
	// sum over the positions of the tensor of the largest dot product of
	// its feature vector (its chosen channels) with the guide's feature
	// vectors at the same layer.
	Guide *GuideFeatures
	// Class, if set, makes the term a class's score: Name is then the
	// feature map the classifier pools (see Class).
	Class *Class
}

// Objective is what a dream maximises, and what `deepdream probe` prints:
// the sum of its terms (Layer), by default the sum over its layers of
// Weight * 0.5*sum(a^2), a the layer's tensor restricted to its channels.
// Network.Resolve makes one from a request's layer and class specs.
type Objective []Layer

// Targets returns the tensors the objective reads, each once, for
// graph.Spec.Targets.
func (o Objective) Targets() []string {
	var t []string
	for _, l := range o {
		if !slices.Contains(t, l.Name) {
			t = append(t, l.Name)
		}
	}
	return t
}

// Value returns the objective on the tensors of p's last Forward.
func (o Objective) Value(p *graph.Plan) float64 {
	return o.eval(p, 0, 1, new(scratch), nil, nil)
}

// Seed returns the objective on the tensors of p's last Forward and
// writes its gradient into their gradient buffers, for p.Backward: the
// gradient of Weight * 0.5*sum(a^2) is Weight*a on the chosen channels;
// a guided term's is Weight times the best-matching guide feature vector
// at each position; a class's is Weight times the classifier's weights of
// the class over the number of positions, at every position. The
// gradients of terms on one tensor add up. p must be planned with
// Backward.
func (o Objective) Seed(p *graph.Plan) float64 {
	return o.eval(p, allTerms, 1, new(scratch), nil, nil)
}

// terms selects the kinds of terms whose gradients eval seeds.
type terms uint8

const (
	layerTerms terms = 1 << iota // L2 and guided terms
	classTerms
	allTerms = layerTerms | classTerms
)

// kind returns the kind of term l is.
func (l *Layer) kind() terms {
	if l.Class != nil {
		return classTerms
	}
	return layerTerms
}

// scratch is the working memory of an objective's evaluation: a Stepper
// keeps one, so that a step does not allocate.
type scratch struct {
	sums  [sumBlocks]float64 // the parallel sums' blocks
	dots  []float32          // a block of dot products of a guided term
	feats []float32          // the chosen channels of a guided term's tensor
}

// check refuses channels beyond a layer's tensor in plan p.
func (o Objective) check(p *graph.Plan) error {
	for _, l := range o {
		if err := checkChannels(l, p.Shape(l.Name)); err != nil {
			return err
		}
	}
	return nil
}

// checkChannels refuses a layer whose tensor (of this shape) has no
// channels, or fewer than the layer names.
func checkChannels(l Layer, shape graph.Shape) error {
	if len(shape) < 2 {
		return fmt.Errorf("dream: layer %q has shape %v; want a tensor with channels", l.Name, shape)
	}
	for _, c := range l.Channels {
		if c < 0 || c >= shape[1] {
			return fmt.Errorf("dream: layer %q has %d channels (0 to %d); channel %d does not exist", l.Name, shape[1], shape[1]-1, c)
		}
	}
	return nil
}

// eval returns the objective and sets the gradients of the terms seed
// selects, the classes' scaled by classScale: the first of them on a
// tensor sets its gradient, the others add to it, and a target that none
// of them reads gets a zero gradient. grids, if not nil, holds each
// term's mask over its layer's cells (a plane of its height x width), nil
// for a term without. cells, if not nil, holds per term the number of
// cells of its tensor over the whole image, which a class's mean is over
// (a tiled step's window holds a part of them), 0 for the tensor's own.
func (o Objective) eval(p *graph.Plan, seed terms, classScale float32, s *scratch, grids [][]float32, cells []int) float64 {
	obj := 0.0
	seeded := func(name string) func(Layer) bool { // a term seed selects, on the tensor name
		return func(e Layer) bool { return e.kind()&seed != 0 && e.Name == name }
	}
	for i, l := range o {
		a, shape := p.Data(l.Name), p.Shape(l.Name)
		var g []float32
		if l.kind()&seed != 0 {
			g = p.Grad(l.Name)
		}
		first := !slices.ContainsFunc(o[:i], seeded(l.Name))
		w := l.Weight
		if w == 0 {
			w = 1
		}
		var m []float32
		if grids != nil {
			m = grids[i]
		}
		n := 0
		if cells != nil {
			n = cells[i]
		}
		if first && g != nil && (l.Guide != nil || l.Class != nil || len(l.Channels) > 0) {
			clear(g) // these terms add to a part of g only
		}
		switch {
		case l.Class != nil:
			obj += float64(w) * l.Class.eval(a, g, shape, w*classScale, m, n)
		case l.Guide != nil:
			obj += float64(w) * l.Guide.eval(a, g, shape, l.Channels, w, m, s)
		case len(l.Channels) == 0:
			obj += float64(w) * sumSquares(a, g, w, m, !first, &s.sums) / 2
		default:
			plane := shape.Size() / (shape[0] * shape[1])
			sum := 0.0
			for n := range shape[0] {
				for _, c := range l.Channels {
					off := (n*shape[1] + c) * plane
					for i, v := range a[off : off+plane] {
						mv := float32(1)
						if m != nil {
							mv = m[i]
						}
						sum += float64(mv) * float64(v) * float64(v)
						if g != nil {
							g[off+i] += w * mv * v
						}
					}
				}
			}
			obj += float64(w) * sum / 2
		}
	}
	if seed != allTerms && seed != 0 {
		for i, l := range o {
			if !slices.ContainsFunc(o, seeded(l.Name)) && !slices.ContainsFunc(o[:i], func(e Layer) bool { return e.Name == l.Name }) {
				clear(p.Grad(l.Name))
			}
		}
	}
	return obj
}

// mixed reports whether o has both class terms and others, whose
// gradients a Stepper balances.
func (o Objective) mixed() bool {
	return slices.ContainsFunc(o, func(l Layer) bool { return l.Class != nil }) &&
		slices.ContainsFunc(o, func(l Layer) bool { return l.Class == nil })
}

// ParseLayer reads a layer spec NAME[:CH[,CH...]][=WEIGHT][@MASK]; the
// weight is 1 when not given, and may be negative (the dream then
// suppresses what the layer sees) but not 0: a layer that counts for
// nothing is left out, not given. Everything after the first @ is the
// mask's name (it may hold any character, :, = and @ included; a layer
// name cannot hold @). The name is returned as given: Network.Resolve
// maps aliases to tensors.
func ParseLayer(s string) (Layer, error) {
	spec, mask, masked := strings.Cut(s, "@")
	if masked && mask == "" {
		return Layer{Name: spec, Weight: 1}, fmt.Errorf("no mask after @")
	}
	name, w, err := splitWeight(spec, "layer")
	if err != nil {
		return Layer{Name: spec, Weight: 1, Mask: mask}, err
	}
	l := Layer{Name: name, Weight: w, Mask: mask}
	if i := strings.LastIndexByte(l.Name, ':'); i >= 0 {
		for _, c := range strings.Split(l.Name[i+1:], ",") {
			ch, err := strconv.Atoi(strings.TrimSpace(c))
			if err != nil || ch < 0 {
				return l, fmt.Errorf("channel %q is not a channel number", c)
			}
			l.Channels = append(l.Channels, ch)
		}
		l.Name = l.Name[:i]
	}
	if l.Name == "" {
		return l, fmt.Errorf("no layer name")
	}
	return l, nil
}

// sumBlocks is the number of blocks the sums split a tensor into: fixed,
// so that a sum, and so the dream, is the same whatever the number of
// cores.
const sumBlocks = 64

// sumAbs returns the sum of |x| in float64, in sumBlocks blocks summed in
// parallel, then in order.
func sumAbs(x []float32, sums *[sumBlocks]float64) float64 {
	sumTasks.For(sumBlocks, 1, sumTask{x: x, sums: sums})
	return total(sums)
}

// sumSquares returns the sum of a^2 in float64, in sumBlocks blocks
// summed in parallel, then in order, and sets g = w*a on the way (with
// add, g += w*a) unless g is nil. With a mask m (nil: none), a plane of
// a's planes, each a^2 and g are weighed by its value at the element's
// place in the plane.
func sumSquares(a, g []float32, w float32, m []float32, add bool, sums *[sumBlocks]float64) float64 {
	sumTasks.For(sumBlocks, 1, sumTask{x: a, square: true, g: g, w: w, m: m, add: add, sums: sums})
	return total(sums)
}

// total sums the block sums in order.
func total(sums *[sumBlocks]float64) float64 {
	t := 0.0
	for _, v := range sums {
		t += v
	}
	return t
}

// sumTask sums |x|, or x^2 (square) while setting g = w*x (add: g +=
// w*x) if g is not nil, over blocks [lo, hi) of sumBlocks; with square,
// a mask m weighs them (see sumSquares).
type sumTask struct {
	x, g        []float32
	w           float32
	square, add bool
	m           []float32
	sums        *[sumBlocks]float64
}

var sumTasks parallel.Tasks[sumTask, *sumTask]

func (t *sumTask) Run(lo, hi int) {
	for b := lo; b < hi; b++ {
		i0, i1 := b*len(t.x)/sumBlocks, (b+1)*len(t.x)/sumBlocks
		sum := 0.0
		switch {
		case t.m != nil:
			sum = t.masked(i0, i1)
		case !t.square:
			for _, v := range t.x[i0:i1] {
				sum += math.Abs(float64(v))
			}
		case t.g == nil:
			for _, v := range t.x[i0:i1] {
				sum += float64(v) * float64(v)
			}
		case t.add:
			g := t.g[i0:i1]
			for i, v := range t.x[i0:i1] {
				sum += float64(v) * float64(v)
				g[i] += t.w * v
			}
		default:
			g := t.g[i0:i1]
			for i, v := range t.x[i0:i1] {
				sum += float64(v) * float64(v)
				g[i] = t.w * v
			}
		}
		t.sums[b] = sum
	}
}

// masked returns the sum of m*x^2 over x[i0:i1], setting g = w*m*x (add:
// g += w*m*x) on the way unless g is nil: m is one plane of x's, so it
// repeats.
func (t *sumTask) masked(i0, i1 int) float64 {
	sum, plane := 0.0, len(t.m)
	for i0 < i1 {
		p := i0 % plane
		n := min(i1-i0, plane-p) // to the end of the block or of the plane
		m, x := t.m[p:p+n], t.x[i0:i0+n]
		for i, v := range x {
			sum += float64(m[i]) * float64(v) * float64(v)
		}
		switch {
		case t.g == nil:
		case t.add:
			g := t.g[i0 : i0+n]
			for i, v := range x {
				g[i] += t.w * m[i] * v
			}
		default:
			g := t.g[i0 : i0+n]
			for i, v := range x {
				g[i] = t.w * m[i] * v
			}
		}
		i0 += n
	}
	return sum
}
