package gemm

import (
	"fmt"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// Sgemm is Default().Sgemm.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Default().Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major float32 matrices,
// op(X) = X or X^T, with kernel kn. op(A) is m x k, op(B) is k x n, C is m x n
// with row stride ldc. beta == 0 means C is not read (may hold NaN). Uses all
// cores (via package internal/parallel).
//
// A is stored m x k with row stride lda (k x m if transA), B is stored k x n
// with row stride ldb (n x k if transB). Sgemm panics if a stride is shorter
// than its row or a slice is too short for its matrix.
func (kn *Kernel) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	run(kn.or(), problem{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc})
}

// SgemmLayer is Default().SgemmLayer.
func SgemmLayer(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, bias, c []float32, ldc int, epilogue func(row []float32)) {
	Default().SgemmLayer(transA, transB, m, n, k, alpha, a, lda, b, ldb, bias, c, ldc, epilogue)
}

// SgemmLayer computes a layer's output C = alpha*op(A)*op(B) + bias
// (bias[i] added to every element of row i; nil adds nothing), then applies
// epilogue (nil: none; a layer's fused ReLU) to each row of each block of C
// once it is complete. C is not read. Each block gets its bias and the
// epilogue just after the kernel completes it, while it is in cache, on
// the core that computes it: one pass over C instead of three. Each
// element is the product rounded, plus the bias rounded once more.
func (kn *Kernel) SgemmLayer(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, bias, c []float32, ldc int, epilogue func(row []float32)) {
	if bias != nil && len(bias) < m {
		panic(fmt.Sprintf("gemm: %d bias values for %d rows", len(bias), m))
	}
	run(kn.or(), problem{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, bias: bias, epilogue: epilogue})
}

// run checks and computes one product on all cores with kern (for packed
// A, the kernel that packed it).
func run(kern *Kernel, g problem) {
	m, n, k := g.m, g.n, g.k
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if g.transA {
		ar, ac = k, m
	}
	if g.packed != nil {
		ar = 0 // packed: nothing of a to check
	}
	br, bc := k, n
	if g.transB {
		br, bc = n, k
	}
	checkMatrix("A", ar, ac, g.a, g.lda)
	checkMatrix("B", br, bc, g.b, g.ldb)
	checkMatrix("C", m, n, g.c, g.ldc)
	if m == 0 || n == 0 {
		return
	}
	if g.alpha == 0 || k == 0 {
		scaleC(m, n, g.beta, g.c, g.ldc)
		if g.bias != nil {
			fillBias(g.c, g.ldc, g.bias, 0, m, 0, n)
		}
		if g.epilogue != nil {
			finish(g.epilogue, nil, g.c, g.ldc, 0, m, 0, n)
		}
		return
	}
	if g.beta == 0 {
		g.beta = 0 // -0 becomes +0, so kernels can test the bits.
	}

	j := jobs.Get()
	j.problem = g
	j.kern = kern
	j.plan(parallel.Workers())
	if j.chunks == 1 {
		j.Run(0, 1)
	} else {
		parallel.For(j.chunks, 1, j)
	}
	j.problem = problem{}
	jobs.Put(j)
}

// finish applies the epilogue to rows [i0, i0+mb), columns [j0, j0+nb)
// of C, after adding each row's bias (nil: none).
func finish(epilogue func(row []float32), bias, c []float32, ldc int, i0, mb, j0, nb int) {
	for i := i0; i < i0+mb; i++ {
		row := c[i*ldc+j0:][:nb]
		if bias != nil {
			addScalar(row, bias[i])
		}
		if epilogue != nil {
			epilogue(row)
		}
	}
}

// addScalarGo adds s to every element of x: the Go twin of addScalarAVX.
func addScalarGo(x []float32, s float32) {
	for i := range x {
		x[i] += s
	}
}

// fillBias sets rows [i0, i0+mb) and columns [j0, j0+nb) of C to the
// rows' bias.
func fillBias(c []float32, ldc int, bias []float32, i0, mb, j0, nb int) {
	for i := i0; i < i0+mb; i++ {
		row := c[i*ldc+j0:][:nb]
		// Doubling copies run at memmove's speed, unlike an element loop.
		row[0] = bias[i]
		for n := 1; n < len(row); n *= 2 {
			copy(row[n:], row[:n])
		}
	}
}

func checkMatrix(name string, rows, cols int, x []float32, ld int) {
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols {
		panic(fmt.Sprintf("gemm: %s is %dx%d but its row stride is %d", name, rows, cols, ld))
	}
	if len(x) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("gemm: %s is %dx%d with row stride %d but has only %d elements", name, rows, cols, ld, len(x)))
	}
}

// scaleC sets C = beta*C, without reading C when beta == 0.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc:][:n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// problem holds the arguments of one Sgemm call.
type problem struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
	// packed, when set, is A already packed (SgemmPacked); a is unused.
	packed *Packed
	// bias, when set, is added to the rows of C, and epilogue, when set,
	// finishes each complete block (SgemmLayer); beta is 0 then.
	bias     []float32
	epilogue func(row []float32)
}

// job is one Sgemm call split into chunks of rows or columns of C,
// one chunk per parallel.For index.
type job struct {
	problem
	kern   *Kernel
	byRows bool // chunks split the m dimension, else the n dimension
	tiles  int  // register tiles along the split dimension
	chunks int
}

var jobs parallel.FreeList[job]

// Each chunk packs its own copy of the operand it does not split (all of A
// when splitting columns), so chunks must be long enough to amortise that.
// Products under minParallelFlops (about 0.1 ms on one core) run on the
// calling goroutine.
const (
	minChunkCols     = 1024
	minChunkRows     = 256
	minParallelFlops = 1 << 23
	// packCost is the cost of packing one element, in flops of kernel
	// time (about 0.5 ns at 85 GFLOP/s per core).
	packCost = 40
)

// plan chooses the split dimension and the number of chunks for p workers.
func (j *job) plan(p int) {
	mr, nr := j.kern.mr, j.kern.nr
	tm, tn := (j.m+mr-1)/mr, (j.n+nr-1)/nr
	j.byRows = splitCost(tm, mr, j.n, j.m, p) < splitCost(tn, nr, j.m, j.n, p)
	j.tiles, j.chunks = tn, 1
	minLen := minChunkCols / nr
	if j.byRows {
		j.tiles = tm
		minLen = minChunkRows / mr
	}
	if p == 1 || 2*float64(j.m)*float64(j.n)*float64(j.k) < minParallelFlops {
		return
	}
	// One chunk per worker, or a few per worker when chunks stay long
	// enough: parallel.For hands them out dynamically, which evens out
	// cores slowed by other work.
	per := min(max(j.tiles/(p*minLen), 1), 4)
	j.chunks = min(p*per, j.tiles)
}

// splitCost estimates, per unit of k, the time of the slowest of p workers
// when the dimension of length size (t tiles of width w) is split among
// them: its share of the tiles, the padding of partial tiles included, plus
// packing all of the other dimension (of length other) and its share of
// this one.
func splitCost(t, w, other, size, p int) float64 {
	compute := 2 * float64(other) * float64(w) * float64((t+p-1)/p)
	return compute + packCost*(float64(other)+float64(size)/float64(p))
}

// Run computes chunks [lo, hi) of the job.
func (j *job) Run(lo, hi int) {
	w := getWorkspace(j.kern)
	for ch := lo; ch < hi; ch++ {
		t0, t1 := ch*j.tiles/j.chunks, (ch+1)*j.tiles/j.chunks
		if j.byRows {
			w.gemm(j.kern, &j.problem, t0*j.kern.mr, min(t1*j.kern.mr, j.m), 0, j.n)
		} else {
			w.gemm(j.kern, &j.problem, 0, j.m, t0*j.kern.nr, min(t1*j.kern.nr, j.n))
		}
	}
	workspaces.Put(w)
}

// workspace holds one goroutine's packing buffers.
type workspace struct {
	a, b []float32 // packed blocks of A (mc x kc floats) and B (kc x nc)
	tile []float32 // mr x nr scratch for partial tiles at the edges of C
}

var workspaces parallel.FreeList[workspace]

func getWorkspace(kn *Kernel) *workspace {
	w := workspaces.Get()
	if n := kn.mc*kn.kc + maxRowsPerBlock*kn.mc/kn.mr*panelPad; len(w.a) < n {
		w.a = make([]float32, n)
	}
	if n := kn.nc / kn.nr * panelStride(kn.kc, kn.nr); len(w.b) < n {
		w.b = make([]float32, n)
	}
	if len(w.tile) < kn.mr*kn.nr {
		w.tile = make([]float32, kn.mr*kn.nr)
	}
	return w
}

// gemm computes rows [i0, i1) and columns [j0, j1) of C on one goroutine,
// blocked Goto-style. An mc x kc block of A is packed once and stays in L2
// while the columns are swept in kc x nc blocks of B, each packed just
// before use so it is still in L2; the kernel then reuses one kc x nr panel
// of B from L1 across the whole block of A.
func (w *workspace) gemm(kn *Kernel, g *problem, i0, i1, j0, j1 int) {
	mr, nr := kn.mr, kn.nr
	// Equal blocks avoid a thin last block that would pay the C update
	// (or the packing) for little work.
	kcb := evenBlock(g.k, kn.kc, 1)
	if g.packed != nil {
		kcb = g.packed.kcb
	}
	for pc := 0; pc < g.k; pc += kcb {
		kb := min(kcb, g.k-pc)
		beta := g.beta
		if pc > 0 {
			beta = 1
		}
		psA, psB := panelStride(kb, mr), panelStride(kb, nr)
		// A shallow block of A holds more rows in the same space; fewer
		// row blocks mean fewer passes over B, which is repacked for each.
		mcb := evenBlock(i1-i0, maxBlockRows(kn, kb), mr)
		for ic := i0; ic < i1; ic += mcb {
			mb := min(mcb, i1-ic)
			a := w.a
			if g.packed != nil {
				a = g.packed.data[g.packed.blockOffset(pc)+ic/mr*psA:]
			} else {
				packA(a, g, ic, mb, pc, kb, mr)
			}
			for jc := j0; jc < j1; jc += kn.nc {
				nb := min(kn.nc, j1-jc)
				packB(w.b, g, pc, kb, jc, nb, nr, kn.copyB)
				for jr := 0; jr < nb; jr += nr {
					nn := min(nr, nb-jr)
					bp := w.b[jr/nr*psB:]
					for ir := 0; ir < mb; ir += mr {
						mm := min(mr, mb-ir)
						ap := a[ir/mr*psA:]
						c := g.c[(ic+ir)*g.ldc+jc+jr:]
						if mm == mr && nn == nr {
							kn.fn(kb, ap, bp, c, g.ldc, beta)
							continue
						}
						if nn == nr && kn.rows[mm] != nil {
							kn.rows[mm](kb, ap, bp, c[:(mm-1)*g.ldc+nr], g.ldc, beta)
							continue
						}
						kn.fn(kb, ap, bp, w.tile, nr, 0)
						addTile(c, g.ldc, w.tile, nr, mm, nn, beta)
					}
				}
				// The bias goes in after the product, not before it: the
				// block is then first written by the kernel, which
				// prefetches its tiles, instead of by a pass that waits
				// on memory for every line.
				if (g.epilogue != nil || g.bias != nil) && pc+kb == g.k {
					finish(g.epilogue, g.bias, g.c, g.ldc, ic, mb, jc, nb)
				}
			}
		}
	}
}

// maxBlockRows is the most rows of A, a multiple of mr, that fit in the
// space of an mc x kc block when packed kb deep.
func maxBlockRows(kn *Kernel, kb int) int {
	return min(kn.mc*kn.kc/kb, maxRowsPerBlock*kn.mc) / kn.mr * kn.mr
}

// maxRowsPerBlock bounds the rows of a shallow A block, in units of mc,
// which bounds the padding between its panels.
const maxRowsPerBlock = 4

// evenBlock splits n into the fewest blocks of at most max, a multiple of
// unit, and returns the block size that makes them as equal as possible.
func evenBlock(n, max, unit int) int {
	blocks := (n + max - 1) / max
	size := (n + blocks - 1) / blocks
	return (size + unit - 1) / unit * unit
}

// addTile sets the mm x nn corner of C to tile + beta*C (C is not read when beta == 0).
func addTile(c []float32, ldc int, tile []float32, nr, mm, nn int, beta float32) {
	for i := range mm {
		dst := c[i*ldc:][:nn]
		src := tile[i*nr:][:nn]
		if beta == 0 {
			copy(dst, src)
			continue
		}
		for j, v := range src {
			dst[j] = beta*dst[j] + v
		}
	}
}
