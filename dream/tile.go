package dream

import (
	"image"
	"math/rand/v2"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/parallel"
)

// Tiles: a step at an octave larger than a tile runs the network on
// windows of the (rolled) image, one after another, with one plan of the
// window's size, and assembles their gradients into the image's; the
// normalisation and the update then see the whole image, as untiled.
//
// Each window has a core, and the cores partition the image; a window is
// its core and a halo around it, at least Tiling.Halo wide where the
// window is not at the image's edge (there the network sees the edge, as
// untiled). Only the layer's cells of the core (by their top-left pixel)
// count in the window's objective, so that the windows' objectives add up
// to the image's, and each window's gradient, over the whole window, is
// added into the image's: a cell's gradient reaches the pixels it sees,
// halo included. Windows start at multiples of the layers' stride, so
// their cells are the untiled network's cells; what differs is only what
// a cell near a window's edge sees beyond it (the halo, made wide enough
// for that not to matter: see docs/tiling.md). Every step moves the cores'
// boundaries by a random phase (drawn from a stream of the dream's seed,
// gridStream, beside the jitter's),
// so that no boundary stays in one place.

// tileGrid lays out the windows of one step on an h x w image.
type tileGrid struct {
	y, x tileAxis
}

// tileAxis lays out one axis of n pixels: m windows of t pixels, whose
// cores' boundaries are bounds (m+1 of them, 0 first and n last) and whose
// windows start at starts. Cores within the image hold at most c pixels
// (the window less a halo each side), the first and last t-halo (their
// outer side is the image's edge). Every boundary and start is a multiple
// of align, as are halo and c.
type tileAxis struct {
	n, t, m     int
	halo, align int
	c           int
	// lo and hi bound the first inner boundary: every phase between them
	// (multiples of align) covers the axis with m windows.
	lo, hi int
	starts []int
	bounds []int
}

// newTileAxis lays out an axis of n pixels in windows of at most t pixels
// with the given halo and alignment (halo a multiple of align). With
// t >= n it is one window, the whole axis. Otherwise the window is t less
// what makes n-t a multiple of align, so that the last window, which ends
// at the image's edge, starts on the grid; the windows are as few as
// cover the axis. extra is the slack asked for, in pixels: the window is
// shrunk to what covers the axis with that much room to move the
// boundaries (0: as small as covers it; the window never grows past t).
func newTileAxis(n, t, halo, align, extra int) tileAxis {
	a := tileAxis{n: n, t: n, m: 1, halo: halo, align: align, c: n}
	if t >= n {
		a.starts, a.bounds = []int{0}, []int{0, n}
		return a
	}
	fit := func(t int) (m, c int) {
		c = (t - 2*halo) / align * align
		edge := (t - halo) / align * align // the most an edge core holds
		if n <= 2*edge {
			return 2, c
		}
		return 2 + (n-2*edge+c-1)/c, c
	}
	a.t = t - ((t-n)%align+align)%align // n - t is a multiple of align
	a.m, a.c = fit(a.t)
	// Shrink the window, align at a time, while m windows still cover
	// the axis with the slack asked for.
	for t := a.t - align; t > 2*halo+align; t -= align {
		m, c := fit(t)
		if m != a.m || slack(n, t, halo, align, m, c) < extra {
			break
		}
		a.t, a.c = t, c
	}
	a.lo, a.hi = phases(n, a.t, halo, align, a.m, a.c)
	a.starts, a.bounds = make([]int, a.m), make([]int, a.m+1)
	a.place(a.lo)
	return a
}

// phases returns the range of the first inner boundary p with which m
// windows of t pixels cover n: the first core, [0, p), fits its window
// (p <= t-halo), the last, [p+(m-2)c, n), fits its own (it starts at least
// halo into it), and neither is empty.
func phases(n, t, halo, align, m, c int) (lo, hi int) {
	lo = max(align, n-t+halo-(m-2)*c)
	lo = (lo + align - 1) / align * align
	hi = min(t-halo, n-align-(m-2)*c) / align * align
	return lo, hi
}

// slack is how far the first inner boundary can move when m windows of t
// pixels cover n.
func slack(n, t, halo, align, m, c int) int {
	lo, hi := phases(n, t, halo, align, m, c)
	return hi - lo
}

// place puts the first inner boundary at p (lo <= p <= hi), the others c
// apart, and each window where it holds its core with a halo each side,
// or against the image's edge.
func (a *tileAxis) place(p int) {
	a.bounds[0], a.bounds[a.m] = 0, a.n
	for k := 1; k < a.m; k++ {
		a.bounds[k] = p + (k-1)*a.c
	}
	for k := range a.starts {
		a.starts[k] = min(max(a.bounds[k]-a.halo, 0), a.n-a.t)
	}
}

// shuffle places the boundaries at a random phase drawn from rng; an axis
// of one window draws nothing.
func (a *tileAxis) shuffle(rng *rand.Rand) {
	if a.m == 1 {
		return
	}
	a.place(a.lo + a.align*rng.IntN((a.hi-a.lo)/a.align+1))
}

// newTileGrid lays out an h x w image in windows of at most tile x tile
// pixels (see newTileAxis). An image one of whose sides fits in a tile
// has windows of the tile's area, longer along its other side.
func newTileGrid(h, w, tile, halo, align, extra int) tileGrid {
	th, tw := tile, tile
	switch {
	case w <= tile:
		th = tile * tile / w
	case h <= tile:
		tw = tile * tile / h
	}
	return tileGrid{y: newTileAxis(h, th, halo, align, extra), x: newTileAxis(w, tw, halo, align, extra)}
}

// tiled reports whether t tiles an h x w image: whether it has more
// pixels than a tile.
func (t Tiling) tiled(h, w int) bool { return t.Tile > 0 && h*w > t.Tile*t.Tile }

// grid lays out the windows of an h x w image tiled by t, aligned to
// align pixels (the halo rounded up to it).
func (t Tiling) grid(h, w, align int) tileGrid {
	halo := (t.Halo + align - 1) / align * align
	return newTileGrid(h, w, t.Tile, halo, align, tileSlack)
}

// planSize returns the input size of a step's plan at an h x w octave:
// its windows', or its own when untiled.
func (t Tiling) planSize(h, w, align int) image.Point {
	if !t.tiled(h, w) {
		return image.Pt(w, h)
	}
	g := t.grid(h, w, align)
	return image.Pt(g.x.t, g.y.t)
}

// windows is the number of windows of a step.
func (g *tileGrid) windows() int { return g.y.m * g.x.m }

// shuffle moves the cores' boundaries at random, rows first.
func (g *tileGrid) shuffle(rng *rand.Rand) {
	g.y.shuffle(rng)
	g.x.shuffle(rng)
}

// window returns window k's origin, in the image's pixels.
func (g *tileGrid) window(k int) (y0, x0 int) {
	return g.y.starts[k/g.x.m], g.x.starts[k%g.x.m]
}

// strides returns the stride, in pixels, of each of the objective's
// tensors (the input's size over the tensor's, at 1024 pixels), and the
// least common multiple of them: windows start on that grid. A tensor
// whose height does not grow with the input's (a class read from the
// network's own scores, or from a feature map pooled whole) cannot be
// tiled: strides returns it as untileable, "" if every tensor can be.
func (n *Network) strides(obj Objective) (strides map[string]int, align int, untileable string, err error) {
	const probe = 1024
	var shapes [2]map[string]graph.Shape
	for i, side := range []int{probe, 2 * probe} {
		if shapes[i], _, err = n.Model.InferShapes([]graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, side, side}}}); err != nil {
			return nil, 0, "", err
		}
	}
	strides, align = map[string]int{}, 1
	for _, l := range obj {
		shape, twice := shapes[0][l.Name], shapes[1][l.Name]
		if len(shape) != 4 || len(twice) != 4 || shape[2] == 0 || 2*twice[2] < 3*shape[2] {
			if untileable == "" {
				untileable = n.friendly(l.Name)
				if l.Class != nil {
					untileable = "class " + l.Class.Spec
				}
			}
			continue
		}
		s := max(1, (probe+shape[2]/2)/shape[2])
		strides[l.Name] = s
		align = lcm(align, s)
	}
	return strides, align, untileable, nil
}

func lcm(a, b int) int {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

// cellWeights writes into dst (gh x gw) the weight of each cell of a
// layer of stride s in window k of the grid (ramp: see tileAxis.weight);
// with mul, it multiplies dst by it instead.
func (g *tileGrid) cellWeights(dst []float32, gh, gw, s, k int, mul bool) {
	i0, j0 := k/g.x.m, k%g.x.m
	for i := range gh {
		wy := g.y.weight(i0, g.y.starts[i0]+i*s, s)
		row := dst[i*gw : (i+1)*gw]
		for j := range gw {
			v := wy * g.x.weight(j0, g.x.starts[j0]+j*s, s)
			if mul {
				row[j] *= v
			} else {
				row[j] = v
			}
		}
	}
}

// weight returns the weight in window k of a cell of stride s whose first
// pixel is p: the windows' weights of a cell add up to 1, so that a
// cell counts once in the image's objective. A window weighs its core 1,
// except within tileRamp of its boundaries with the next windows, where
// its weight falls linearly from 1 to 0 as theirs rises (cells near a
// window's edge see its padding, and a weight that switched from one
// window to the next at once would make a step in the gradient there).
func (a *tileAxis) weight(k, p, s int) float32 {
	c := float64(p) + float64(s)/2 // the cell's centre
	r := float64(a.halo) * tileRamp
	past := func(b int) float64 { // how far past boundary b the cell is, 0 to 1
		if r == 0 {
			if c >= float64(b) {
				return 1
			}
			return 0
		}
		return min(max((c-float64(b)+r)/(2*r), 0), 1)
	}
	w := 1.0
	if k > 0 {
		w = past(a.bounds[k])
	}
	if k < a.m-1 {
		w -= past(a.bounds[k+1])
	}
	return float32(w)
}

// addWindow adds the window's gradient g (3 x th x tw) into the image's
// dst (3 x h x w) at (y0, x0).
func addWindow(dst []float32, h, w int, g []float32, th, tw, y0, x0 int) {
	addTasks.For(3*th, max(1<<14/tw, 1), addTask{dst, g, h, w, th, tw, y0, x0})
}

type addTask struct {
	dst, g               []float32
	h, w, th, tw, y0, x0 int
}

var addTasks parallel.Tasks[addTask, *addTask]

func (t *addTask) Run(lo, hi int) {
	for r := lo; r < hi; r++ {
		c, y := r/t.th, r%t.th
		d := t.dst[(c*t.h+t.y0+y)*t.w+t.x0:][:t.tw]
		for i, v := range t.g[r*t.tw : (r+1)*t.tw] {
			d[i] += v
		}
	}
}

// tileRamp is the half-width of the ramps between windows' weights, as
// a share of the halo (tileAxis.weight).
const tileRamp = 0.5

// gridStream is the stream of the dream's seed (PCG's second word) that
// moves the tiles' grid; the jitter's is 0x5eed.
const gridStream = 0x711e

// tileSlack is the room, in pixels, a tiled axis keeps to move its
// windows' boundaries from step to step.
const tileSlack = 256
