package dream

import (
	"fmt"
	"image"

	"github.com/deepdream-go/deepdream/graph"
)

// PlanBytes returns the bytes of the buffers an untiled Dream plans for
// req at an image of w x h, its largest octave (the smaller octaves' plans
// fit in the same memory): activations, gradients, the image's input and
// scratch, lent by one graph.Memory. It plans without allocating
// (graph.Model.EstimateMemory), so it is cheap at any size. A plan's
// buffers grow about linearly with the pixels of its input, but for
// buffers of fixed size (scratch): two sizes predict a larger one.
// Estimate counts a whole dream, tiled or not.
func (n *Network) PlanBytes(w, h int, req Request) (int64, error) {
	obj, err := n.Resolve(&req)
	if err != nil {
		return 0, err
	}
	est, err := n.Model.EstimateMemory(n.stepSpec(h, w, obj, nil, req.engine()))
	if err != nil {
		return 0, fmt.Errorf("dream: %dx%d: %w", w, h, err)
	}
	return est.Bytes(), nil
}

// Estimate is what a dream takes, as Network.Estimate finds it before
// anything is dreamed: its tiling, and its memory at its peak.
type Estimate struct {
	Width, Height int // the image dreamed (after MaxSize)
	// Tile is the tile the dream uses: the request's, or the one chosen
	// for a request of 0; -1 when the dream never tiles. Halo is the
	// halo of the windows, in pixels.
	Tile, Halo int
	// Windows is the number of windows a step of the largest octave runs
	// the network on, of WindowWidth x WindowHeight pixels: 1 and the
	// image's size when the octave is dreamed whole.
	Windows, WindowWidth, WindowHeight int
	// Plan is the bytes of the largest plan's buffers
	// (graph.Model.EstimateMemory), lent to every octave's plan in turn.
	Plan int64
	// Constants is the model's memory that the dream's plans use (its
	// weights and what plans derive from them, graph.MemoryEstimate's
	// Constants): the program's, held once per model, not in Bytes.
	Constants int64
	// Bytes is the dream's peak: the plan, the image it was given (at its
	// dream size), the octaves and the detail carried between them, the
	// image's gradient (tiled), the look's buffers and masks, and the
	// result. The program's own memory, the model's weights included, is
	// not in it.
	Bytes int64
}

// Tiled reports whether the largest octave is dreamed in windows.
func (e Estimate) Tiled() bool { return e.Windows > 1 }

// Tiling is the Tiling a dream of the estimate uses (the zero value:
// untiled), for a Stepper of its own (NewStepper).
func (e Estimate) Tiling() Tiling {
	if e.Tile <= 0 {
		return Tiling{}
	}
	return Tiling{Tile: e.Tile, Halo: e.Halo}
}

// MemoryError says that a dream does not fit in Request.MaxMemory: with
// the tile asked for (Asked > 0, or -1 for none), or with any tile (0).
type MemoryError struct {
	Estimate  Estimate // the dream's, with the tile asked for, or with the smallest tile
	MaxMemory int64
	Asked     int // Request.Tile
}

func (e *MemoryError) Error() string {
	need := fmt.Sprintf("a %dx%d dream needs about %s", e.Estimate.Width, e.Estimate.Height, formatBytes(e.Estimate.Bytes))
	switch {
	case e.Asked == -1:
		need += " untiled"
	case e.Asked > 0:
		need += fmt.Sprintf(" with tiles of %d pixels", e.Asked)
	default:
		need += fmt.Sprintf(" even with the smallest tiles, %d pixels", e.Estimate.Tile)
	}
	return fmt.Sprintf("dream: %s, more than the %s it may take", need, formatBytes(e.MaxMemory))
}

// formatBytes writes n bytes in MB or GB, as memory is spoken of.
func formatBytes(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%d MB", (n+1<<19)>>20)
}

// TilePlanBytes bounds the plan of a tile that Estimate chooses for a
// request of Tile 0: the largest tile whose plan takes at most this much
// (and whose dream fits Request.MaxMemory). A larger tile is faster only
// by its smaller share of halos, which a tile of this size already holds
// to some 10 to 20% (docs/tiling.md).
const TilePlanBytes = 512 << 20

// Estimate returns the tiling and peak memory of a dream of a w x h image
// (before MaxSize) as req asks, counting the image at 8 bits a sample;
// for Tile 0 it chooses the tile (TilePlanBytes, MaxMemory). It plans
// nothing but sizes (graph.Model.EstimateMemory). A request whose dream
// does not fit MaxMemory is an error (*MemoryError) with its estimate.
func (n *Network) Estimate(w, h int, req Request) (Estimate, error) {
	if err := req.Validate(); err != nil {
		return Estimate{}, fmt.Errorf("dream: %w", err)
	}
	obj, err := n.Resolve(&req)
	if err != nil {
		return Estimate{}, err
	}
	w, h = DreamSize(w, h, req.MaxSize)
	if err := n.checkSize(h, w, obj); err != nil {
		return Estimate{}, err
	}
	e, err := n.estimate(w, h, req, obj, 4*int64(w)*int64(h))
	if err == nil && req.MaxMemory > 0 && e.Bytes > req.MaxMemory {
		err = &MemoryError{Estimate: e, MaxMemory: req.MaxMemory, Asked: req.Tile}
	}
	return e, err
}

// estimate is Estimate of a w x h image (its dream size) of imageBytes
// bytes, the objective resolved.
func (n *Network) estimate(w, h int, req Request, obj Objective, imageBytes int64) (Estimate, error) {
	m, err := n.memoryModel(h, w, req, obj, imageBytes)
	if err != nil {
		return Estimate{}, err
	}
	switch {
	case req.Tile < 0, req.Tile == 0 && m.untileable != "":
		return m.estimate(Tiling{})
	case req.Tile > 0:
		return m.estimate(Tiling{Tile: req.Tile, Halo: m.halo})
	}
	// The largest tile, in steps of the layers' alignment, whose plan
	// (of a tile x tile window) takes at most TilePlanBytes and with
	// which the dream fits MaxMemory: both grow with the tile. The first
	// depends on the network alone, so that a small image records the
	// tile a large one would have.
	fits := func(tile int) (Estimate, bool, error) {
		p, err := m.plan(image.Pt(tile, tile))
		if err != nil || p.Bytes() > TilePlanBytes {
			return Estimate{}, false, err
		}
		e, err := m.estimate(Tiling{Tile: tile, Halo: m.halo})
		return e, err == nil && (req.MaxMemory <= 0 || e.Bytes <= req.MaxMemory), err
	}
	lo, hi := m.minTile(), maxTile // fits(hi) is false: no plan of 16384 x 16384 takes 512 MB
	small, ok, err := fits(lo)
	if err != nil || !ok {
		if err == nil && small.Width == 0 {
			small, err = m.estimate(Tiling{Tile: lo, Halo: m.halo})
		}
		return small, err // the caller compares it with MaxMemory
	}
	for hi-lo > m.align {
		mid := (lo + hi) / 2 / m.align * m.align
		if _, ok, err := fits(mid); err != nil {
			return Estimate{}, err
		} else if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return m.estimate(Tiling{Tile: lo, Halo: m.halo})
}

// maxTile is the largest tile a request may ask for.
const maxTile = 16384

// memoryModel is what estimate needs to count a dream's memory with any
// tiling: its octaves, the layers' alignment and halo, and the
// buffers that do not depend on the tiling.
type memoryModel struct {
	n          *Network
	obj        Objective
	opts       graph.Options
	sizes      []image.Point // the octaves, the largest first
	align      int           // the windows' alignment: the layers' strides' least common multiple
	halo       int
	imageBytes int64
	// masks holds, per octave, the bytes of the masks of that octave (of
	// every image the request's masks name); maskStart, the bytes of
	// making the largest octave's masks from their images.
	masks     []int64
	maskStart int64
	mixed     bool // classes and other terms: a step balances them once per octave
	// untileable names a term that cannot be tiled (strides), "" if none.
	untileable string
	look       look // the request's shaping (laplacian, smooth, keepColors)
	plans      map[image.Point]graph.MemoryEstimate
}

func (n *Network) memoryModel(h, w int, req Request, obj Objective, imageBytes int64) (*memoryModel, error) {
	_, align, untileable, err := n.strides(obj)
	if err != nil {
		return nil, fmt.Errorf("dream: %w", err)
	}
	m := &memoryModel{untileable: untileable,
		n: n, obj: obj, opts: req.engine(), sizes: n.octaveSizes(h, w, req, obj),
		align: align, halo: haloFor(align), imageBytes: imageBytes, mixed: obj.mixed(),
		look:  look{laplacian: req.Laplacian, smooth: req.Smooth, keepColors: req.KeepColors},
		plans: map[image.Point]graph.MemoryEstimate{},
	}
	names := map[string]bool{}
	if req.Mask != "" {
		names[req.Mask] = true
	}
	for _, l := range obj {
		if l.Mask != "" {
			names[l.Mask] = true
		}
	}
	m.masks = make([]int64, len(m.sizes))
	for name := range names {
		for k, s := range m.sizes {
			m.masks[k] += 4 * int64(s.X) * int64(s.Y)
		}
		// maskPlane: the image as NRGBA, its luminance, the rows resized
		// along x, the plane.
		mw, mh := w, h
		if im, ok := req.Images[name]; ok && im.Image != nil {
			mw, mh = im.Image.Bounds().Dx(), im.Image.Bounds().Dy()
		}
		m.maskStart = max(m.maskStart, 8*int64(mw)*int64(mh)+4*int64(mh)*int64(w)+4*int64(w)*int64(h))
	}
	return m, nil
}

// haloFor is the halo of windows aligned to align pixels, the deepest
// layer's stride: four of its cells, 64 pixels at inception_4c, where the
// tiled gradient is within a few percent of the untiled one at a cost no
// larger than three cells' at the tiles Estimate chooses (docs/tiling.md).
func haloFor(align int) int { return 4 * align }

// minTile is the least tile a request may give (a network may need
// more: memoryModel.minTile).
const minTile = 128

// minTile is the least tile of this dream: a core of four cells of the
// deepest layer between two halos, and at least the side the layers need.
func (m *memoryModel) minTile() int {
	side, _ := m.n.MinSide(m.obj)
	t := max(minTile, 2*m.halo+4*m.align, side)
	return (t + m.align - 1) / m.align * m.align
}

// plan returns the estimate of the plan of an h x w input, made once.
func (m *memoryModel) plan(size image.Point) (graph.MemoryEstimate, error) {
	if e, ok := m.plans[size]; ok {
		return e, nil
	}
	e, err := m.n.Model.EstimateMemory(m.n.stepSpec(size.Y, size.X, m.obj, nil, m.opts))
	if err != nil {
		return e, fmt.Errorf("dream: %dx%d: %w", size.X, size.Y, err)
	}
	m.plans[size] = e
	return e, nil
}

// estimate counts the dream's memory with the tiling t, stage by stage,
// as Network.dream allocates and lets go (see there): the peak is the
// largest stage.
func (m *memoryModel) estimate(t Tiling) (Estimate, error) {
	e := Estimate{Width: m.sizes[0].X, Height: m.sizes[0].Y, Tile: -1, Windows: 1, WindowWidth: m.sizes[0].X, WindowHeight: m.sizes[0].Y}
	if t.Tile > 0 {
		e.Tile, e.Halo = t.Tile, t.Halo
	}
	if t.tiled(e.Height, e.Width) { // a tile the image fits in is never checked: it is not used
		if m.untileable != "" {
			return e, &TileError{Tile: t.Tile, Untileable: m.untileable}
		}
		if t.Tile < m.minTile() {
			return e, &TileError{Tile: t.Tile, Min: m.minTile()}
		}
		g := t.grid(e.Height, e.Width, m.align)
		e.Windows, e.WindowWidth, e.WindowHeight = g.windows(), g.x.t, g.y.t
	}
	px := func(k int) int64 { return int64(m.sizes[k].X) * int64(m.sizes[k].Y) }
	lent, inputs := int64(0), make([]int64, len(m.sizes))
	for k, s := range m.sizes {
		p, err := m.plan(t.planSize(s.Y, s.X, m.align))
		if err != nil {
			return e, err
		}
		lent, inputs[k] = max(lent, p.Lent), p.Inputs
		e.Constants = max(e.Constants, p.Constants)
	}
	e.Plan = lent + inputs[0]
	last := len(m.sizes) - 1
	peak := m.imageBytes + m.maskStart // the masks are made first
	for k := last; k >= 0; k-- {
		img := m.imageBytes
		if k == 0 {
			img = 0 // let go once the last octave is made
		}
		var detail, chain int64
		if k < last {
			detail = 12 * px(k+1)
		}
		chain = 12 * px(0)
		if k > 0 {
			chain += 12 * px(1) // an octave is zoomed from the one above
		}
		base, src := 12*px(k), int64(0)
		if k > 0 {
			src = 12 * px(k)
		}
		steps := inputs[k] + m.stepper(t, k)
		peak = max(peak,
			m.imageBytes+lent+m.masks[k]+detail+chain, // making the octave
			m.imageBytes+lent+m.masks[k]+detail+base+src,
			img+lent+m.masks[k]+base+src+steps, // dreaming it
		)
	}
	e.Bytes = max(peak, 12*px(0)+m.imageBytes) // the result, of the image's depth
	return e, nil
}

// stepper returns the bytes of a Stepper's own buffers at octave k, beside
// its plan's: the image's gradient (tiled) and the classes' (tiled and
// balanced, for a step), or the layers' (untiled and balanced), and the
// look's.
func (m *memoryModel) stepper(t Tiling, k int) int64 {
	h, w := m.sizes[k].Y, m.sizes[k].X
	px := int64(h) * int64(w)
	var b int64
	if t.tiled(h, w) {
		b += 12 * px
	}
	if m.mixed {
		b += 12 * px
	}
	if m.look.shapes() {
		c := int64(3)
		if m.look.keepColors {
			c = 1
		}
		b += 4 * c * px
		if m.look.laplacian > 0 {
			lh, lw := h, w
			for range m.look.laplacian {
				lh, lw = (lh+1)/2, (lw+1)/2
				b += 4 * c * int64(lh) * int64(lw)
			}
			b += 4 * c * int64(h) * int64((w+1)/2)
		}
		if m.look.smooth > 0 {
			b += 4 * c * px
		}
	}
	return b
}

// TileError is a tile a dream cannot be tiled with: smaller than its
// layers need (Min), or any tile, for a term that reads the whole image
// (Untileable names it: a class read from the network's own scores).
type TileError struct {
	Tile, Min  int
	Untileable string
}

func (e *TileError) Error() string {
	if e.Untileable != "" {
		return fmt.Sprintf("dream: %s reads the whole image at once and cannot be tiled: leave --tile at 0 (automatic) or -1", e.Untileable)
	}
	return fmt.Sprintf("dream: tiles of %d pixels are too small for these layers: at least %d (two halos and a core)", e.Tile, e.Min)
}

// imageBytes returns the bytes of img's pixels, as dreamImage returns it.
func imageBytes(img image.Image) int64 {
	b := img.Bounds()
	px := int64(b.Dx()) * int64(b.Dy())
	switch img.(type) {
	case *image.NRGBA64, *image.RGBA64:
		return 8 * px
	}
	return 4 * px
}
