package ops

import (
	"sync"

	"github.com/deepdream-go/deepdream/internal/gemm"
	"github.com/deepdream-go/deepdream/internal/parallel"
)

// Winograd F(4x4, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016) computes a 4x4 tile of a stride-1 3x3 convolution
// from a 6x6 tile of its input with 36 multiplications per channel pair
// instead of 144:
//
//	Y = A^T [ (G g G^T) .* (B^T d B) ] A
//
// where g is the 3x3 kernel, d the input tile, .* the element-wise product.
// F(2x2, 5x5) computes a 2x2 tile of a 5x5 convolution from the same 6x6
// input tile with 36 multiplications instead of 100, F(3x3, 4x4) a 3x3
// tile of a 4x4 one (which a 7x7 stride-2 convolution becomes, see
// winograd_s2.go) with 36 instead of 144. All interpolate at the points 0,
// 1, -1, 2, -2 and infinity, so they share B^T (and the input transform);
// G and A^T differ (winoWeight, winoAT, winoAT3, winoAT2).
// Summed over input channels, the element-wise products become 36
// independent GEMMs, one per position xi of the 6x6 transformed tile:
//
//	Z[xi] [M x T] = U[xi] [M x C] * V[xi] [C x T]
//
// for a block of T tiles, U = G g G^T the transformed weights (computed once,
// the weights being constants), V = B^T d B the transformed input tiles. The
// output transform A^T Z A then gives the outputs of each tile.
//
// Larger tiles save more multiplications, but the coefficients of their
// transforms grow and so does the float32 rounding. With 6x6 input tiles
// the errors stay within 1e-5 of the magnitudes of the summed terms (the
// tests: at most 4.4e-6), and GoogLeNet's inception_4c activations at
// 224x224, with every 3x3, 5x5 and 7x7 layer as Winograd, within 3.6e-6 of
// max|a| of the float64-checked fixtures (all im2col: 7.6e-7).
const (
	wgOut  = 4           // largest output tile side: F(4x4, 3x3)'s
	wgIn   = 6           // input tile side
	wgXi   = wgIn * wgIn // positions of a transformed tile (GEMMs)
	wgMinT = 32          // least tiles per block: narrower GEMMs are dominated by per-call costs
	wgMaxT = 1024        // most tiles per block: wider ones gain nothing
	wgBudg = 1 << 20     // floats of scratch aimed at (4 MB): V and Z of one block
)

// winogradShape reports whether Conv with p can run as ConvWinograd: a
// 3x3, 4x4 or 5x5 kernel, stride 1, dilation 1, one group, pads of at most
// KH - 1 (so that the input gradient, a convolution with pads
// KH - 1 - pad, is one too).
func winogradShape(p *ConvParams) bool {
	return p.KH >= 3 && p.KH <= 5 && p.KW == p.KH && p.StrideH == 1 && p.StrideW == 1 &&
		p.DilationH == 1 && p.DilationW == 1 && p.Group == 1 &&
		max(p.PadTop, p.PadLeft, p.PadBottom, p.PadRight) <= p.KH-1
}

// wgOutSide is the output tile side of the Winograd algorithm for a
// kernel side: F(4x4, 3x3), F(3x3, 4x4) or F(2x2, 5x5), all from 6x6
// input tiles.
func wgOutSide(taps int) int { return wgIn + 1 - taps }

// wgMinTiles is the least number of output tiles for which WinogradPays.
// With U packed once, GoogLeNet's inception_4c/3x3 at 14x14 (16 tiles, a
// quarter of their outputs past the image) runs 2x faster as Winograd
// (BenchmarkWinograd: 0.70-0.74 ms forward, 0.78-0.93 ms backward, against
// 1.5-1.9 and 1.7-1.8 ms with im2col); 3x3 tiles (12x12 outputs) is where
// the 36 GEMMs become too narrow. The 5x5 layers (F(2x2, 5x5)) run 1.3-2x
// faster at 1024x768 and about as fast at 224x224 (inception_4a/5x5 at
// 14x14: 49 tiles).
const wgMinTiles = 9

// WinogradPays reports whether Conv with p can run as ConvWinograd and is
// large enough to run faster that way.
func WinogradPays(p *ConvParams) bool {
	if polyphaseShape(p) {
		f, _ := phaseGeoms(p)
		return f.tiles >= s2MinTiles
	}
	return winogradShape(p) && forwardGeom(p).tiles >= wgMinTiles
}

// winoGeom is the shape of one Winograd convolution of a single image: the
// forward pass of p, or its input gradient (dy convolved with the flipped
// weights, channels swapped). Pads after the image need no field: what
// lies outside the input reads as zero.
type winoGeom struct {
	c, h, w         int // input channels and size
	m, oh, ow       int // output channels and size
	padTop, padLeft int
	out             int // output tile side: 4 (3x3 kernel), 3 (4x4) or 2 (5x5)
	tilesW, tiles   int // output tiles per row (see newWinoGeom), in all
	block           int // tiles per GEMM block
	tune            winoTuning
}

// winoTuning chooses among the ways run can take; every filter has
// defaultWinoTuning, and tests give theirs others to exercise each way.
type winoTuning struct {
	// fusedMinBlocks is the least number of blocks per core for which run
	// takes runFused.
	fusedMinBlocks int
	// splitRows makes run take runFused with each block split by output
	// channels when there are fewer blocks than that; else those blocks
	// are staged. rowParts, if positive, is the number of parts.
	splitRows bool
	rowParts  int
	// prefetch is how many planes ahead winoInputTask and winoOutputTask
	// prefetch (0: not at all). One or two ahead were alike: the Winograd
	// layers of a 1024x768 step took 0.90x the time with both
	// prefetching, 0.95x with the input side only.
	prefetch int
}

var defaultWinoTuning = winoTuning{fusedMinBlocks: 2, splitRows: true, prefetch: 1}

// newWinoGeom lays out the tiles row by row. A row of tiles is rounded up
// to whole lanes when that adds at most half its tiles: every group of
// wgLanes tiles then lies in one row, where the transforms take it whole
// (gatherRow, gatherPadded, scatterRow, scatterPadded), and the tiles past
// the image are computed and dropped. Otherwise (rows of 1-5 tiles) the
// groups that straddle two rows go tile by tile.
func newWinoGeom(c, h, w, m, oh, ow, padTop, padLeft, taps int) winoGeom {
	g := winoGeom{c: c, h: h, w: w, m: m, oh: oh, ow: ow, padTop: padTop, padLeft: padLeft, out: wgOutSide(taps)}
	g.tilesW = (ow + g.out - 1) / g.out
	if 2*lanes(g.tilesW) <= 3*g.tilesW {
		g.tilesW = lanes(g.tilesW)
	}
	g.tiles = g.tilesW * ((oh + g.out - 1) / g.out)
	// Equal blocks of at most the budget (but at least wgMinT) tiles, in
	// whole lanes.
	most := min(max(wgBudg/(wgXi*(c+m)), wgMinT), wgMaxT)
	blocks := (g.tiles + most - 1) / most
	g.block = lanes((g.tiles + blocks - 1) / blocks)
	return g
}

// group locates the group of up to wgLanes tiles from tile first, n tiles
// of the block left: the first tile's output corner (oy0, ox0), and
// whether the group is whole and lies in one row of tiles, where the
// transforms take it at once.
func (g *winoGeom) group(first, n int) (oy0, ox0 int, inRow bool) {
	r, col := first/g.tilesW, first%g.tilesW
	return r * g.out, col * g.out, n >= wgLanes && col+wgLanes <= g.tilesW
}

func forwardGeom(p *ConvParams) winoGeom {
	return newWinoGeom(p.C, p.H, p.W, p.M, p.OutH(), p.OutW(), p.PadTop, p.PadLeft, p.KH)
}

// backwardGeom is the input gradient as a convolution: dy [M x OH x OW]
// padded by KH - 1 - pad gives dx [C x H x W].
func backwardGeom(p *ConvParams) winoGeom {
	return newWinoGeom(p.M, p.OutH(), p.OutW(), p.C, p.H, p.W, p.KH-1-p.PadTop, p.KW-1-p.PadLeft, p.KH)
}

func (g *winoGeom) scratchSize() int {
	return wgXi * (planeStride(g.c, g.block) + planeStride(g.m, g.block))
}

// WinogradScratchSize is the length of the scratch slice ConvWinograd and
// ConvWinogradBackwardInput need: the transformed input and the products
// of one block of tiles, about 4 MB (more for layers with over 900
// channels in and out).
func WinogradScratchSize(p *ConvParams) int {
	if polyphaseShape(p) {
		// The polyphase components of x or dx, then the blocks.
		f, b := phaseGeoms(p)
		return f.c*f.h*f.w + max(f.scratchSize(), b.scratchSize())
	}
	f, b := forwardGeom(p), backwardGeom(p)
	return max(f.scratchSize(), b.scratchSize())
}

// WinogradFilter holds a 3x3 or 5x5 convolution's weights transformed for
// ConvWinograd, U[xi] [M x C], and for ConvWinogradBackwardInput, the
// flipped, transposed weights w'[c][m][kh][kw] = w[m][c][K-1-kh][K-1-kw]
// transformed likewise [C x M], each of the 36 matrices packed once for
// the GEMM (gemm.Pack), as the weights are constants. The transform runs
// in float64, so each U is the rounded exact value.
type WinogradFilter struct {
	fwd, back [wgXi]*gemm.Packed
	tune      winoTuning
}

// WinogradFilterSize is the number of floats NewWinogradFilter keeps for
// p, the packed transforms of both directions, for estimates of memory.
func WinogradFilterSize(p *ConvParams) int {
	if polyphaseShape(p) {
		pp := phaseParams(p)
		return WinogradFilterSize(&pp)
	}
	return wgXi * (p.Kernel.PackedSize(p.M, p.C) + p.Kernel.PackedSize(p.C, p.M))
}

// NewWinogradFilter transforms w [M x C x K x K] for p. The transforms of
// both directions go through one temporary buffer in turn, which keeps the
// memory it needs beside the result at a third.
func NewWinogradFilter(w []float32, p *ConvParams) *WinogradFilter {
	if polyphaseShape(p) {
		pp := phaseParams(p)
		return NewWinogradFilter(phaseWeights(w, p), &pp)
	}
	u := make([]float32, wgXi*p.M*p.C)
	f := &WinogradFilter{tune: defaultWinoTuning}
	for _, back := range []bool{false, true} {
		t := winoFilterTask{u: u, w: w, p: p, f: f, back: back}
		winoFilterTasks.For(p.M, 1, t) // transform, by output channel
		t.pack = true
		winoFilterTasks.For(wgXi, 1, t)
	}
	return f
}

// winoFilterTask transforms the kernels of output channels [lo, hi) into
// u, or with pack, packs u's matrices [lo, hi) into f, for the forward
// pass or the input gradient (back).
type winoFilterTask struct {
	u, w       []float32
	p          *ConvParams
	f          *WinogradFilter
	back, pack bool
}

var winoFilterTasks parallel.Tasks[winoFilterTask, *winoFilterTask]

func (t *winoFilterTask) Run(lo, hi int) {
	p := t.p
	mc := p.M * p.C
	if t.pack {
		for xi := lo; xi < hi; xi++ {
			if t.back {
				t.f.back[xi] = p.Kernel.Pack(false, p.C, p.M, 1, t.u[xi*mc:], p.M)
			} else {
				t.f.fwd[xi] = p.Kernel.Pack(false, p.M, p.C, 1, t.u[xi*mc:], p.C)
			}
		}
		return
	}
	taps := p.KH * p.KW
	g := make([]float64, taps)
	for m := lo; m < hi; m++ {
		for c := range p.C {
			k := t.w[(m*p.C+c)*taps:][:taps]
			if !t.back {
				for i, v := range k {
					g[i] = float64(v)
				}
				winoWeight(t.u, g, m*p.C+c, mc)
				continue
			}
			for i, v := range k {
				g[len(g)-1-i] = float64(v)
			}
			winoWeight(t.u, g, c*p.M+m, mc)
		}
	}
}

// winoWeight stores G g G^T at u[xi*stride + at] for each xi, g a 3x3,
// 4x4 or 5x5 kernel (len(g) = 9, 16 or 25). Row k of G is p^j / N_k (j < taps) for
// the interpolation points p = 0, 1, -1, 2, -2 with N = 4, -6, -6, 24, 24,
// the scaling B^T leaves to G, and row 5 (infinity) picks the last tap:
//
//	G3 = [ 1/4     0     0 ]    G5 = [ 1/4     0     0     0     0 ]
//	     [-1/6  -1/6  -1/6 ]         [-1/6  -1/6  -1/6  -1/6  -1/6 ]
//	     [-1/6   1/6  -1/6 ]         [-1/6   1/6  -1/6   1/6  -1/6 ]
//	     [1/24  1/12   1/6 ]         [1/24  1/12   1/6   1/3   2/3 ]
//	     [1/24 -1/12   1/6 ]         [1/24 -1/12   1/6  -1/3   2/3 ]
//	     [  0     0     1  ]         [  0     0     0     0     1 ]
func winoWeight(u []float32, g []float64, at, stride int) {
	taps := 3
	for taps*taps < len(g) {
		taps++
	}
	var G [wgIn][5]float64
	for k, pt := range [...]float64{0, 1, -1, 2, -2} {
		n := [...]float64{4, -6, -6, 24, 24}[k]
		v := 1.0
		for j := range taps {
			G[k][j] = v / n
			v *= pt
		}
	}
	G[wgIn-1][taps-1] = 1
	var gg [wgIn][5]float64 // G g
	for i := range wgIn {
		for j := range taps {
			for k := range taps {
				gg[i][j] += G[i][k] * g[k*taps+j]
			}
		}
	}
	for i := range wgIn {
		for j := range wgIn {
			s := 0.0
			for k := range taps {
				s += gg[i][k] * G[j][k]
			}
			u[(i*wgIn+j)*stride+at] = float32(s)
		}
	}
}

// ConvWinograd computes y = conv(x, w) + b (b may be nil), then max(0, y)
// if p.Relu, for a p that WinogradPays accepts, from f, the transformed
// weights. scratch has WinogradScratchSize(p) elements. y must not alias x.
func ConvWinograd(y, x []float32, f *WinogradFilter, b, scratch []float32, p *ConvParams) {
	hw, pixels := p.H*p.W, p.OutH()*p.OutW()
	if polyphaseShape(p) {
		g, _ := phaseGeoms(p)
		g.tune = f.tune
		xp, rest := scratch[:g.c*g.h*g.w], scratch[g.c*g.h*g.w:]
		for n := range p.N {
			splitPhases(xp, x[n*p.C*hw:][:p.C*hw], p.C, p.H, p.W)
			g.run(y[n*p.M*pixels:][:p.M*pixels], xp, &f.fwd, b, rest, p.Relu, false)
		}
		return
	}
	g := forwardGeom(p)
	g.tune = f.tune
	for n := range p.N {
		g.run(y[n*p.M*pixels:][:p.M*pixels], x[n*p.C*hw:][:p.C*hw], &f.fwd, b, scratch, p.Relu, false)
	}
}

// ConvWinogradBackwardInput: dx += conv^T(dy, w), as the convolution of dy
// (padded by 2 - pad) with the flipped and transposed weights of f.
// Like ConvBackwardInput it adds to dx if accumulate, else sets it.
func ConvWinogradBackwardInput(dx, dy []float32, f *WinogradFilter, scratch []float32, p *ConvParams, accumulate bool) {
	hw, pixels := p.H*p.W, p.OutH()*p.OutW()
	if polyphaseShape(p) {
		_, g := phaseGeoms(p)
		g.tune = f.tune
		dxp, rest := scratch[:g.m*g.oh*g.ow], scratch[g.m*g.oh*g.ow:]
		for n := range p.N {
			g.run(dxp, dy[n*p.M*pixels:][:p.M*pixels], &f.back, nil, rest, false, false)
			mergePhases(dx[n*p.C*hw:][:p.C*hw], dxp, p.C, p.H, p.W, accumulate)
		}
		return
	}
	g := backwardGeom(p)
	g.tune = f.tune
	for n := range p.N {
		g.run(dx[n*p.C*hw:][:p.C*hw], dy[n*p.M*pixels:][:p.M*pixels], &f.back, nil, scratch, false, accumulate)
	}
}

// run convolves one image x into y (y += when accumulate), one block of
// tiles at a time: transform the input tiles into V, multiply, transform
// the products back into y. With enough tiles each core takes whole blocks
// through the three stages (runFused); else the blocks are staged, each
// stage split across the cores, in scratch. V and Z have rows of nt tiles
// rounded up to whole lanes, so the transforms work on wgLanes tiles at a
// time without a ragged end (the GEMMs leave the padding alone).
func (g *winoGeom) run(y, x []float32, u *[wgXi]*gemm.Packed, b, scratch []float32, relu, accumulate bool) {
	if t := fusedTiles(u); t > 0 {
		blocks := (g.tiles + t - 1) / t
		switch {
		case blocks >= g.tune.fusedMinBlocks*parallel.Workers():
			g.runFused(y, x, u, b, t, 1, relu, accumulate)
			return
		case g.tune.splitRows:
			g.runFused(y, x, u, b, t, g.rowParts(blocks, u[0].RowAlign()), relu, accumulate)
			return
		}
	}
	for t0 := 0; t0 < g.tiles; t0 += g.block {
		nt := min(g.block, g.tiles-t0)
		v := scratch[:wgXi*planeStride(g.c, nt)]
		z := scratch[len(v):][:wgXi*planeStride(g.m, nt)]
		grain := max(elementwiseGrain/(wgXi*nt), 1)
		winoInputTasks.For(g.c, grain, winoInputTask{v: v, x: x, g: *g, t0: t0, nt: nt, cols: lanes(nt)})
		winoGemmTasks.For(wgXi, 1, winoGemmTask{z, v, u, g.m, g.c, nt})
		winoOutputTasks.For(g.m, grain, winoOutputTask{y: y, z: z, b: b, g: *g, t0: t0, nt: nt, cols: lanes(nt), relu: relu, accumulate: accumulate})
	}
}

// runFused is run with each core taking whole blocks of tiles through all
// three stages: it transforms the block's input tiles into V, in the GEMM
// kernel's panel layout, multiplies V by the 36 U on its own
// (gemm.Packed.MulPanels: no packing, no parallel loop), and transforms
// the products back into y. A block is one or a few panels of tiles, so
// its V and Z stay in the core's L2 cache between the stages, and the
// whole convolution is one parallel loop.
//
// BenchmarkWinograd, alternating the two ways: 0.54-0.75x the time of the
// staged blocks for GoogLeNet's Winograd layers at 1024x768 (conv2 3x3
// 46 -> 28 ms forward, conv1 as polyphase 62 -> 34 ms) and most at
// 224x224. A layer with too few tiles to give every core blocks
// (inception_4c at 14x14: 16 tiles, 1.4x slower fused) runs staged, each
// stage split across the cores by channels.
//
// A layer with fewer blocks than that has each block's output channels
// split into parts, one task each: every task transforms its block's
// input (the transform is cheap next to the products) and makes its rows
// of the 36 products and of the output. BenchmarkWinograd, alternating
// five times with the staged blocks: inception_4c at 224x224 (14x14, one
// block) 0.86x the time forward and 0.94x backward for the 3x3, 0.84x
// both ways for the 5x5. Each worker keeps its own V and Z (RunOn), in
// its core's caches from one convolution to the next.
func (g *winoGeom) runFused(y, x []float32, u *[wgXi]*gemm.Packed, b []float32, t, parts int, relu, accumulate bool) {
	blocks := (g.tiles + t - 1) / t
	mr := u[0].RowAlign()
	partRows := ((g.m+mr-1)/mr + parts - 1) / parts * mr
	parts = (g.m + partRows - 1) / partRows // no empty part
	winoFusedTasks.For(blocks*parts, 1, winoFusedTask{y: y, x: x, u: u, b: b, g: *g, t: t, parts: parts, partRows: partRows, relu: relu, accumulate: accumulate})
}

// rowParts is the number of parts runFused splits the m output channels
// of each of blocks blocks into: enough for a task per core (tune.rowParts
// if a test sets it), each at least mr channels. Two tasks per core, each
// transforming its block's input, ran inception_4c's 3x3 at 224x224 1.4-1.5x
// slower than one.
func (g *winoGeom) rowParts(blocks, mr int) int {
	parts := (parallel.Workers() + blocks - 1) / blocks
	if g.tune.rowParts > 0 {
		parts = g.tune.rowParts
	}
	return max(min(parts, (g.m+mr-1)/mr), 1)
}

// wgFusedTiles is the number of tiles runFused aims at per block: one
// panel of the avx2 kernel. With 32 or 48 tiles the GoogLeNet layers ran
// within the noise of 16, some faster, the small ones slower.
const wgFusedTiles = 16

// fusedTiles is the block of runFused for U packed as u: about
// wgFusedTiles tiles, whole panels of the GEMM kernel, or 0 when a panel
// is not whole lanes (the generic kernel's 4 tiles), which the input
// transform, writing wgLanes tiles at a time, could not fill.
func fusedTiles(u *[wgXi]*gemm.Packed) int {
	nr := u[0].PanelWidth()
	if nr%wgLanes != 0 {
		return 0
	}
	return max(wgFusedTiles/nr, 1) * nr
}

// winoFusedTask runs tasks [lo, hi) (see runFused): task i is part
// i%parts, output channels [part*partRows, part*partRows+partRows), of
// block i/parts, tiles [t*block, t*block+t).
type winoFusedTask struct {
	y, x, b          []float32
	u                *[wgXi]*gemm.Packed
	g                winoGeom
	t                int
	parts, partRows  int
	relu, accumulate bool
}

var winoFusedTasks parallel.Tasks[winoFusedTask, *winoFusedTask]

// winoWork is one core's V and Z for runFused, and a tile for the edges
// of its products.
type winoWork struct{ v, z, tile []float32 }

// winoWorks holds the winoWork of loops that run serially; winoWorkers
// one per seat of parallel.WorkerTask (no two chunks running at once
// share a seat), so that each stays in its core's caches from one
// convolution to the next.
var (
	winoWorks   parallel.FreeList[winoWork]
	winoWorkers = sync.OnceValue(func() []winoWork { return make([]winoWork, parallel.Seats()) })
)

func (a *winoFusedTask) Run(lo, hi int) {
	w := winoWorks.Get()
	a.run(w, lo, hi)
	winoWorks.Put(w)
}

func (a *winoFusedTask) RunOn(worker, lo, hi int) { a.run(&winoWorkers()[worker], lo, hi) }

func (a *winoFusedTask) run(w *winoWork, lo, hi int) {
	g := &a.g
	vs, zs := planeStride(g.c, a.t), planeStride(g.m, a.t)
	if len(w.v) < wgXi*vs {
		w.v = make([]float32, wgXi*vs)
	}
	if len(w.z) < wgXi*zs {
		w.z = make([]float32, wgXi*zs)
	}
	if w.tile == nil {
		w.tile = make([]float32, gemm.TileSize())
	}
	nr := a.u[0].PanelWidth()
	for i, have := lo, -1; i < hi; i++ {
		blk, part := i/a.parts, i%a.parts
		t0 := blk * a.t
		nt := min(a.t, g.tiles-t0)
		if blk != have { // V of the block, for all its parts this call runs
			in := winoInputTask{v: w.v, x: a.x, g: *g, t0: t0, nt: nt, cols: a.t, panel: nr}
			in.Run(0, g.c)
			have = blk
		}
		r0 := part * a.partRows
		r1 := min(r0+a.partRows, g.m)
		for xi := range wgXi {
			a.u[xi].MulPanelsRows(w.v[xi*vs:][:g.c*a.t], a.t, w.z[xi*zs:], a.t, w.tile, r0, r1)
		}
		out := winoOutputTask{y: a.y, z: w.z, b: a.b, g: *g, t0: t0, nt: nt, cols: a.t, relu: a.relu, accumulate: a.accumulate}
		out.Run(r0, r1)
	}
}

// wgLanes is the number of tiles the transforms handle together, reading
// and writing runs of consecutive values of V and Z.
const wgLanes = 8

func lanes(n int) int { return (n + wgLanes - 1) / wgLanes * wgLanes }

// planeStride is the distance between the planes of V or Z, matrices of
// rows x nt tiles with rows of whole lanes, plus a cache line: planes a
// multiple of 4 KB apart (as often happens) would put the 36 values of a
// tile in one set of the L1 cache, and the transforms would miss on most.
func planeStride(rows, nt int) int { return rows*lanes(nt) + 16 }

// winoInputTask transforms tiles [t0, t0+nt) of input channels [lo, hi):
// V[xi][c][t] = (B^T d B)[xi], d the 6x6 input tile whose outputs are tile
// t (zero outside the image).
type winoInputTask struct {
	v, x   []float32
	g      winoGeom
	t0, nt int
	// cols is the length of V's rows (tiles, a multiple of wgLanes). With
	// panel > 0, V's planes are in the GEMM kernel's panel layout instead,
	// panels of panel tiles for all channels (see gemm.Packed.MulPanels).
	cols, panel int
}

var winoInputTasks parallel.Tasks[winoInputTask, *winoInputTask]

func (a *winoInputTask) Run(lo, hi int) {
	g := &a.g
	ld, stride := a.cols, planeStride(g.c, a.cols)
	var d, s [wgXi][wgLanes]float32 // input tiles, scratch
	for c := lo; c < hi; c++ {
		xc := a.x[c*g.h*g.w:][:g.h*g.w]
		// The tiles of a block are short pieces of six rows in each
		// plane, which the hardware prefetchers do not follow: ask for
		// the next plane's while this one is transformed.
		var next []float32
		if d := g.tune.prefetch; d > 0 && c+d < g.c {
			next = a.x[(c+d)*g.h*g.w:][:g.h*g.w]
		}
		for l0 := 0; l0 < a.nt; l0 += wgLanes {
			oy0, ox0, inRow := g.group(a.t0+l0, a.nt-l0)
			iy0, ix0 := oy0-g.padTop, ox0-g.padLeft
			if next != nil {
				a.prefetch(next, iy0, ix0)
			}
			at := c*ld + l0
			if a.panel > 0 {
				at = l0/a.panel*g.c*a.panel + c*a.panel + l0%a.panel
			}
			if inRow && (a.gatherRow(&d, xc, iy0, ix0) || a.gatherPadded(&d, xc, iy0, ix0)) {
				winoInputLanes(a.v[at:], stride, &d, &s)
				continue
			}
			for l := range min(wgLanes, a.nt-l0) {
				tile := a.t0 + l0 + l
				iy0 := tile/g.tilesW*g.out - g.padTop
				ix0 := tile%g.tilesW*g.out - g.padLeft
				if iy0 >= 0 && ix0 >= 0 && iy0+wgIn <= g.h && ix0+wgIn <= g.w {
					for i := range wgIn {
						row := xc[(iy0+i)*g.w+ix0:][:wgIn]
						for j, v := range row {
							d[i*wgIn+j][l] = v
						}
					}
					continue
				}
				// Partly outside: zeros, then the rows and columns inside.
				for k := range d {
					d[k][l] = 0
				}
				i0, i1 := max(0, -iy0), min(wgIn, g.h-iy0)
				j0, j1 := max(0, -ix0), min(wgIn, g.w-ix0)
				for i := i0; i < i1 && j0 < j1; i++ {
					row := xc[(iy0+i)*g.w+ix0+j0:][:j1-j0]
					for j, v := range row {
						d[i*wgIn+j0+j][l] = v
					}
				}
			}
			winoInputLanes(a.v[at:], stride, &d, &s)
		}
	}
}

// prefetch asks for the part of plane xc that the input tiles of a group
// (the first's corner at iy0, ix0) read, as far as it lies inside the
// image.
func (a *winoInputTask) prefetch(xc []float32, iy0, ix0 int) {
	g := &a.g
	r0, r1 := max(iy0, 0), min(iy0+wgIn, g.h)
	c0, c1 := max(ix0, 0), min(ix0+wgSpanOf(g.out), g.w)
	if r0 < r1 && c0 < c1 {
		prefetchRows(xc[r0*g.w+c0:], g.w, r1-r0, c1-c0)
	}
}

// wgSpan is the width of the input that wgLanes tiles side by side read,
// with F(4x4, 3x3)'s tiles (the widest).
const wgSpan = wgOut*(wgLanes-1) + wgIn

// wgSpanOf is the width of the input that wgLanes tiles out apart read.
func wgSpanOf(out int) int { return out*(wgLanes-1) + wgIn }

// gatherRow loads the input tiles of a group side by side in one row of
// tiles (the first's corner at iy0, ix0) into d and reports true if they
// lie inside the image: the common case, done without a check per value.
func (a *winoInputTask) gatherRow(d *[wgXi][wgLanes]float32, xc []float32, iy0, ix0 int) bool {
	g := &a.g
	if iy0 < 0 || ix0 < 0 || iy0+wgIn > g.h || ix0+wgSpanOf(g.out) > g.w {
		return false
	}
	winoGather(g.out, d, xc[iy0*g.w+ix0:], g.w)
	return true
}

// wgReadWidth is how far into each row winoGather reads for tiles out
// apart: the span of wgLanes tiles, and for out = 4 the 2 floats past it
// that the assembly reads in whole vectors.
func wgReadWidth(out int) int {
	if out == wgOut {
		return wgSpan + 2
	}
	return wgSpanOf(out)
}

// winoGatherGo sets d to the 6x6 input tiles of wgLanes tiles side by side
// whose top-left corners are x[out*l], rows w apart: d[6*i+j][l] =
// x[i*w + out*l + j]. It is the twin of the assembly transpositions.
func winoGatherGo(out int, d *[wgXi][wgLanes]float32, x []float32, w int) {
	for i := range wgIn {
		row := x[i*w:][:wgSpanOf(out)]
		for j := range wgIn {
			dj := &d[i*wgIn+j]
			for l := range wgLanes {
				dj[l] = row[j+out*l]
			}
		}
	}
}

// gatherPadded is gatherRow for tiles side by side in one row of tiles
// that reach past the image (the first and last of every row, with
// padding): it copies their rows, zeros standing for what lies outside,
// and gathers from the copy.
func (a *winoInputTask) gatherPadded(d *[wgXi][wgLanes]float32, xc []float32, iy0, ix0 int) bool {
	g := &a.g
	bw := wgReadWidth(g.out)
	var buf [wgIn * (wgSpan + 2)]float32
	lo, hi := max(0, -ix0), min(bw, g.w-ix0) // the columns inside the image
	for i := range wgIn {
		row := buf[i*bw:][:bw]
		if iy := iy0 + i; iy >= 0 && iy < g.h && lo < hi {
			copy(row[lo:hi], xc[iy*g.w+ix0+lo:])
		} // the rest of buf, outside the image, stays zero
	}
	winoGather(g.out, d, buf[:wgIn*bw], bw)
	return true
}

// plane returns the lanes of r in the k-th plane, planes stride apart.
func plane(r []float32, k, stride int) *[wgLanes]float32 {
	return (*[wgLanes]float32)(r[k*stride:])
}

// The transforms of wgLanes tiles at a time: winoInputLanes(v, stride,
// d, s) sets plane xi of V (at v[xi*stride:], wgLanes values) to
// (B^T d B)[xi] of each tile, and winoOutputLanes(out, o, s, z, stride)
// sets o to A^T Z A of each out x out tile, Z's planes read likewise; s is
// scratch. They
// run the Go functions below, or their assembly twins where the CPU has
// them (winograd_amd64.go).

func winoInputLanesGo(v []float32, stride int, d, s *[wgXi][wgLanes]float32) {
	// s = B^T d by columns, then V = s B by rows.
	for j := range wgIn {
		winoBT(&s[j], &s[6+j], &s[12+j], &s[18+j], &s[24+j], &s[30+j],
			&d[j], &d[6+j], &d[12+j], &d[18+j], &d[24+j], &d[30+j])
	}
	for i := range wgIn {
		r := v[i*wgIn*stride:]
		winoBT(plane(r, 0, stride), plane(r, 1, stride), plane(r, 2, stride),
			plane(r, 3, stride), plane(r, 4, stride), plane(r, 5, stride),
			&s[i*wgIn], &s[i*wgIn+1], &s[i*wgIn+2], &s[i*wgIn+3], &s[i*wgIn+4], &s[i*wgIn+5])
	}
}

// winoOutputLanesGo sets o[out*i+j] to output (i, j) of the out x out
// tiles, using s[0:out*6].
func winoOutputLanesGo(out int, o *[wgOut * wgOut][wgLanes]float32, s *[wgOut * wgIn][wgLanes]float32, z []float32, stride int) {
	// s = A^T Z by columns, then o = s A by rows.
	for j := range wgIn {
		winoATN(out, s[j:], wgIn, plane(z, j, stride), plane(z, 6+j, stride), plane(z, 12+j, stride),
			plane(z, 18+j, stride), plane(z, 24+j, stride), plane(z, 30+j, stride))
	}
	for i := range out {
		q := s[i*wgIn:][:wgIn]
		winoATN(out, o[i*out:], 1, &q[0], &q[1], &q[2], &q[3], &q[4], &q[5])
	}
}

// winoATN applies F(out x out)'s A^T (winoAT, winoAT3, winoAT2) to the
// 6-vectors m, setting d[0], d[step], ... d[(out-1)*step].
func winoATN(out int, d [][wgLanes]float32, step int, m0, m1, m2, m3, m4, m5 *[wgLanes]float32) {
	switch out {
	case wgOut:
		winoAT(&d[0], &d[step], &d[2*step], &d[3*step], m0, m1, m2, m3, m4, m5)
	case 3:
		winoAT3(&d[0], &d[step], &d[2*step], m0, m1, m2, m3, m4, m5)
	default:
		winoAT2(&d[0], &d[step], m0, m1, m2, m3, m4, m5)
	}
}

// winoBT multiplies 6-vectors (one per lane) by
//
//	B^T = [4  0 -5  0  1  0]
//	      [0 -4 -4  1  1  0]
//	      [0  4 -4 -1  1  0]
//	      [0 -2 -1  2  1  0]
//	      [0  2 -1 -2  1  0]
//	      [0  4  0 -5  0  1]
func winoBT(t0, t1, t2, t3, t4, t5, d0, d1, d2, d3, d4, d5 *[wgLanes]float32) {
	for l := range wgLanes {
		a, b := d4[l]-4*d2[l], d3[l]-4*d1[l]
		c, e := d4[l]-d2[l], 2*(d3[l]-d1[l])
		t0[l] = 4*d0[l] - 5*d2[l] + d4[l]
		t1[l], t2[l] = a+b, a-b
		t3[l], t4[l] = c+e, c-e
		t5[l] = 4*d1[l] - 5*d3[l] + d5[l]
	}
}

// winoGemmTask computes the products Z[xi] = U[xi] V[xi] of positions
// [lo, hi), each GEMM on one core: they are too small to split well, and
// there are 36 of them.
type winoGemmTask struct {
	z, v     []float32
	u        *[wgXi]*gemm.Packed
	m, c, nt int
}

var winoGemmTasks parallel.Tasks[winoGemmTask, *winoGemmTask]

func (a *winoGemmTask) Run(lo, hi int) {
	for xi := lo; xi < hi; xi++ {
		ld := lanes(a.nt)
		v, z := a.v[xi*planeStride(a.c, a.nt):], a.z[xi*planeStride(a.m, a.nt):]
		gemm.SgemmPacked(a.u[xi], a.nt, v, ld, 0, z, ld)
	}
}

// winoOutputTask transforms the products of tiles [t0, t0+nt) of output
// channels [lo, hi) back into y: Y = A^T Z A, clipped to the image, is
// added to y if accumulate (a gradient: no bias, no relu), else stored
// plus bias, rectified if relu.
type winoOutputTask struct {
	y, z, b          []float32
	g                winoGeom
	t0, nt           int
	cols             int // the length of Z's rows (tiles, a multiple of wgLanes)
	relu, accumulate bool
}

var winoOutputTasks parallel.Tasks[winoOutputTask, *winoOutputTask]

func (a *winoOutputTask) Run(lo, hi int) {
	g := &a.g
	ld, stride := a.cols, planeStride(g.m, a.cols)
	var s [wgOut * wgIn][wgLanes]float32  // scratch
	var o [wgOut * wgOut][wgLanes]float32 // output tiles
	for m := lo; m < hi; m++ {
		ym := a.y[m*g.oh*g.ow:][:g.oh*g.ow]
		bias := float32(0)
		if a.b != nil {
			bias = a.b[m]
		}
		var next []float32 // the plane whose part to prefetch, as in winoInputTask
		if d := g.tune.prefetch; d > 0 && m+d < g.m {
			next = a.y[(m+d)*g.oh*g.ow:][:g.oh*g.ow]
		}
		for l0 := 0; l0 < a.nt; l0 += wgLanes {
			oy0, ox0, inRow := g.group(a.t0+l0, a.nt-l0)
			if next != nil {
				a.prefetch(next, oy0, ox0)
			}
			winoOutputLanes(g.out, &o, &s, a.z[m*ld+l0:], stride)
			if inRow && (a.scatterRow(ym, &o, bias, oy0, ox0) || a.scatterPadded(ym, &o, bias, oy0, ox0)) {
				continue
			}
			for l := range min(wgLanes, a.nt-l0) {
				tile := a.t0 + l0 + l
				oy0, ox0 := tile/g.tilesW*g.out, tile%g.tilesW*g.out
				rows, cols := min(g.out, g.oh-oy0), min(g.out, g.ow-ox0)
				if cols <= 0 {
					continue // past the image
				}
				for i := range rows {
					dst := ym[(oy0+i)*g.ow+ox0:][:cols]
					oi := o[i*g.out:][:cols]
					switch {
					case a.accumulate:
						for j := range dst {
							dst[j] += oi[j][l]
						}
					case a.relu:
						for j := range dst {
							dst[j] = max(oi[j][l]+bias, 0)
						}
					default:
						for j := range dst {
							dst[j] = oi[j][l] + bias
						}
					}
				}
			}
		}
	}
}

// prefetch asks for the part of plane ym that the output tiles of a group
// (the first's corner at oy0, ox0) cover, as far as it lies inside the
// image.
func (a *winoOutputTask) prefetch(ym []float32, oy0, ox0 int) {
	g := &a.g
	rows, cols := min(g.out, g.oh-oy0), min(wgLanes*g.out, g.ow-ox0)
	if rows > 0 && cols > 0 {
		prefetchRows(ym[oy0*g.ow+ox0:], g.ow, rows, cols)
	}
}

// scatterRow stores the output tiles o of a group side by side in one row
// of tiles (the first's corner at oy0, ox0) into ym and reports true if
// they lie inside the image: the common case, done without clipping.
func (a *winoOutputTask) scatterRow(ym []float32, o *[wgOut * wgOut][wgLanes]float32, bias float32, oy0, ox0 int) bool {
	g := &a.g
	if oy0+g.out > g.oh || ox0+g.out*wgLanes > g.ow {
		return false
	}
	a.store(ym[oy0*g.ow+ox0:], g.ow, o, bias)
	return true
}

// scatterPadded is scatterRow for tiles side by side in one row of tiles
// that reach past the image (the last of each row, and the last row): it
// stores them into a buffer, the image's values first when accumulating,
// and copies what lies inside the image.
func (a *winoOutputTask) scatterPadded(ym []float32, o *[wgOut * wgOut][wgLanes]float32, bias float32, oy0, ox0 int) bool {
	g := &a.g
	rows, cols := min(g.out, g.oh-oy0), min(g.out*wgLanes, g.ow-ox0)
	if cols <= 0 {
		return true // all past the image
	}
	bw := g.out * wgLanes
	var buf [wgOut * wgOut * wgLanes]float32
	if a.accumulate {
		for i := range rows {
			copy(buf[i*bw:][:cols], ym[(oy0+i)*g.ow+ox0:])
		}
	}
	a.store(buf[:], bw, o, bias)
	for i := range rows {
		copy(ym[(oy0+i)*g.ow+ox0:][:cols], buf[i*bw:])
	}
	return true
}

// store writes the output tiles o of wgLanes tiles side by side to y,
// rows ow apart, as the task's mode says.
func (a *winoOutputTask) store(y []float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32) {
	mode := wgStore
	switch {
	case a.accumulate:
		mode = wgAccumulate
	case a.relu:
		mode = wgRelu
	}
	winoStoreRows(a.g.out, y, ow, o, bias, mode)
}

// How winoStoreRows writes the output tiles.
const (
	wgStore      = iota // y = o + bias
	wgRelu              // y = max(o + bias, 0)
	wgAccumulate        // y += o
)

// winoStoreRowsGo writes the out x out output tiles o (o[out*i+j] is
// output (i, j)) of wgLanes tiles side by side into the out rows of y that
// they cover, rows ow apart: output row i of tile l goes to
// y[i*ow + out*l:][:out]. It is the twin of the assembly transpositions.
func winoStoreRowsGo(out int, y []float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int) {
	for i := range out {
		dst := y[i*ow:][:wgLanes*out]
		oi := o[i*out:][:out]
		// The mode is tested once per row, and each row written in order.
		switch mode {
		case wgAccumulate:
			for l := range wgLanes {
				for j := range out {
					dst[l*out+j] += oi[j][l]
				}
			}
		case wgRelu:
			for l := range wgLanes {
				for j := range out {
					dst[l*out+j] = max(oi[j][l]+bias, 0)
				}
			}
		default:
			for l := range wgLanes {
				for j := range out {
					dst[l*out+j] = oi[j][l] + bias
				}
			}
		}
	}
}

// winoAT3 multiplies 6-vectors (one per lane) by F(3x3, 4x4)'s
//
//	A^T = [1  1  1  1  1  0]
//	      [0  1 -1  2 -2  0]
//	      [0  1  1  4  4  1]
func winoAT3(o0, o1, o2, m0, m1, m2, m3, m4, m5 *[wgLanes]float32) {
	for l := range wgLanes {
		a, b := m1[l]+m2[l], m3[l]+m4[l]
		c, d := m1[l]-m2[l], m3[l]-m4[l]
		o0[l] = m0[l] + a + b
		o1[l] = c + 2*d
		o2[l] = a + 4*b + m5[l]
	}
}

// winoAT2 multiplies 6-vectors (one per lane) by F(2x2, 5x5)'s
//
//	A^T = [1  1  1  1  1  0]
//	      [0  1 -1  2 -2  1]
func winoAT2(o0, o1, m0, m1, m2, m3, m4, m5 *[wgLanes]float32) {
	for l := range wgLanes {
		a, b := m1[l]+m2[l], m3[l]+m4[l]
		c, d := m1[l]-m2[l], m3[l]-m4[l]
		o0[l] = m0[l] + a + b
		o1[l] = c + 2*d + m5[l]
	}
}

// winoAT multiplies 6-vectors (one per lane) by
//
//	A^T = [1  1  1  1  1  0]
//	      [0  1 -1  2 -2  0]
//	      [0  1  1  4  4  0]
//	      [0  1 -1  8 -8  1]
func winoAT(o0, o1, o2, o3, m0, m1, m2, m3, m4, m5 *[wgLanes]float32) {
	for l := range wgLanes {
		a, b := m1[l]+m2[l], m3[l]+m4[l]
		c, d := m1[l]-m2[l], m3[l]-m4[l]
		o0[l] = m0[l] + a + b
		o1[l] = c + 2*d
		o2[l] = a + 4*b
		o3[l] = c + 8*d + m5[l]
	}
}
