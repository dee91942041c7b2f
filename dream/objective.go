package dream

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/parallel"
)

// Layer is one term of an Objective: the L2 norm of a tensor, or of some
// of its channels, times a weight.
type Layer struct {
	Name string // tensor name in the model (after alias resolution)
	// Weight multiplies the layer's term: a negative weight makes a dream
	// suppress what the layer sees. 0, a Layer's zero value in Go, means
	// 1; a spec cannot say 0 (ParseLayer refuses it).
	Weight   float32
	Channels []int // empty: every channel
	// Mask names a grey image of the request (Request.Images) that
	// weighs the layer's term per pixel in a dream: 0.5*sum(m*a^2), m the
	// mask averaged over the pixels under each of the layer's cells. ""
	// for none. Value and Seed, given no images, leave it out.
	Mask string
}

// Objective is what a dream maximises, and what `deepdream probe` prints:
// the sum over its layers of Weight * 0.5*sum(a^2), a the layer's tensor
// restricted to its channels. Network.Resolve makes one from layer specs.
type Objective []Layer

// Targets returns the tensors the objective reads, for graph.Spec.Targets.
func (o Objective) Targets() []string {
	t := make([]string, len(o))
	for i, l := range o {
		t[i] = l.Name
	}
	return t
}

// Value returns the objective on the tensors of p's last Forward.
func (o Objective) Value(p *graph.Plan) float64 {
	var sums [sumBlocks]float64
	return o.eval(p, false, &sums, nil)
}

// Seed returns the objective on the tensors of p's last Forward and
// writes its gradient into their gradient buffers, for p.Backward: the
// gradient of Weight * 0.5*sum(a^2) is Weight*a on the chosen channels.
// p must be planned with Backward.
func (o Objective) Seed(p *graph.Plan) float64 {
	var sums [sumBlocks]float64
	return o.eval(p, true, &sums, nil)
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

// eval returns the objective and, with seed, sets the targets' gradients;
// sums is the scratch of the parallel sums (a Stepper's own, so that a
// step does not allocate). grids, if not nil, holds each layer's mask
// over its cells (a plane of its height x width), nil for a layer without.
func (o Objective) eval(p *graph.Plan, seed bool, sums *[sumBlocks]float64, grids [][]float32) float64 {
	obj := 0.0
	for li, l := range o {
		a := p.Data(l.Name)
		var g []float32
		if seed {
			g = p.Grad(l.Name)
		}
		w := l.Weight
		if w == 0 {
			w = 1
		}
		var m []float32
		if grids != nil {
			m = grids[li]
		}
		if len(l.Channels) == 0 {
			obj += float64(w) * sumSquares(a, g, w, m, sums) / 2
			continue
		}
		clear(g)
		shape := p.Shape(l.Name)
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
						g[off+i] = w * mv * v
					}
				}
			}
		}
		obj += float64(w) * sum / 2
	}
	return obj
}

// ParseLayer reads a layer spec NAME[:CH[,CH...]][=WEIGHT][@MASK]; the
// weight is 1 when not given, and may be negative (the dream then
// suppresses what the layer sees) but not 0: a layer that counts for
// nothing is left out, not given. Everything after the first @ is the
// mask's name (it may hold any character, :, = and @ included; a layer
// name cannot hold @). The name is returned as given: Network.Resolve
// maps aliases to tensors.
func ParseLayer(s string) (Layer, error) {
	l := Layer{Name: s, Weight: 1}
	if i := strings.IndexByte(s, '@'); i >= 0 {
		l.Name, l.Mask = s[:i], s[i+1:]
		if l.Mask == "" {
			return l, fmt.Errorf("no mask after @")
		}
	}
	if i := strings.LastIndexByte(l.Name, '='); i >= 0 {
		w, err := strconv.ParseFloat(l.Name[i+1:], 32)
		if err != nil || math.IsNaN(w) || math.IsInf(w, 0) {
			return l, fmt.Errorf("weight %q is not a number", l.Name[i+1:])
		}
		if float32(w) == 0 {
			return l, fmt.Errorf("weight %q is 0, which would dream nothing of the layer: leave the layer out instead", l.Name[i+1:])
		}
		l.Name, l.Weight = l.Name[:i], float32(w)
	}
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
// summed in parallel, then in order, and sets g = w*a on the way unless g
// is nil. With a mask m (nil: none), a plane of a's planes, each a^2 and
// g are weighed by its value at the element's place in the plane.
func sumSquares(a, g []float32, w float32, m []float32, sums *[sumBlocks]float64) float64 {
	sumTasks.For(sumBlocks, 1, sumTask{x: a, square: true, g: g, w: w, m: m, sums: sums})
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

// sumTask sums |x|, or x^2 (square) while setting g = w*x if g is not
// nil, over blocks [lo, hi) of sumBlocks; with square, a mask m weighs
// them (see sumSquares).
type sumTask struct {
	x, g   []float32
	w      float32
	square bool
	m      []float32
	sums   *[sumBlocks]float64
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

// masked returns the sum of m*x^2 over x[i0:i1], setting g = w*m*x on the
// way unless g is nil: m is one plane of x's, so it repeats.
func (t *sumTask) masked(i0, i1 int) float64 {
	sum, plane := 0.0, len(t.m)
	for i0 < i1 {
		p := i0 % plane
		n := min(i1-i0, plane-p) // to the end of the block or of the plane
		m, x := t.m[p:p+n], t.x[i0:i0+n]
		for i, v := range x {
			sum += float64(m[i]) * float64(v) * float64(v)
		}
		if t.g != nil {
			g := t.g[i0 : i0+n]
			for i, v := range x {
				g[i] = t.w * m[i] * v
			}
		}
		i0 += n
	}
	return sum
}
