package gemm

import (
	"fmt"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// Packed is alpha*op(A), an m x k matrix, packed once in the panel layout
// of the micro-kernel that packed it, for products
// that multiply the same A many times (a layer's constant weights):
// SgemmPacked then skips packing A, which for short products costs as
// much as a third of the kernel time.
type Packed struct {
	kern *Kernel
	m, k int
	kcb  int // depth of each packed block but the last
	data []float32
}

// Pack is Default().Pack.
func Pack(transA bool, m, k int, alpha float32, a []float32, lda int) *Packed {
	return Default().Pack(transA, m, k, alpha, a, lda)
}

// Pack packs alpha*op(A) (m x k; A stored k x m if transA) in kn's layout:
// for each kc-deep block, ceil(m/mr) panels. The products of the Packed
// use kn.
func (kn *Kernel) Pack(transA bool, m, k int, alpha float32, a []float32, lda int) *Packed {
	if m < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d k=%d", m, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	checkMatrix("A", ar, ac, a, lda)
	pa := kn.packing(m, k)
	kn = pa.kern
	panels := (m + kn.mr - 1) / kn.mr
	g := &problem{transA: transA, m: m, k: k, alpha: alpha, a: a, lda: lda}
	pa.data = make([]float32, pa.blockOffset(k))
	for pc := 0; pc < k; pc += pa.kcb {
		kb := min(pa.kcb, k-pc)
		packA(pa.data[pa.blockOffset(pc):][:panels*panelStride(kb, kn.mr)], g, 0, m, pc, kb, kn.mr)
	}
	return pa
}

// PackedSize is the number of floats Pack keeps for an m x k matrix, for
// estimates of memory.
func (kn *Kernel) PackedSize(m, k int) int {
	pa := kn.packing(m, k)
	return pa.blockOffset(k)
}

// packing is the Packed of an m x k matrix for kn, without its data.
func (kn *Kernel) packing(m, k int) *Packed {
	kn = kn.or()
	pa := &Packed{kern: kn, m: m, k: k, kcb: 1}
	if k > 0 {
		pa.kcb = evenBlock(k, kn.kc, 1)
	}
	return pa
}

// blockOffset is where the packed block of depth pc starts (a multiple of
// kcb; k gives the total size).
func (pa *Packed) blockOffset(pc int) int {
	panels := (pa.m + pa.kern.mr - 1) / pa.kern.mr
	full := pc / pa.kcb
	off := full * panels * panelStride(pa.kcb, pa.kern.mr)
	if rest := pc - full*pa.kcb; rest > 0 {
		off += panels * panelStride(rest, pa.kern.mr)
	}
	return off
}

// Kernel returns the kernel pa was packed for, which its products use.
func (pa *Packed) Kernel() *Kernel { return pa.kern }

// Rows and Cols are the shape of op(A).
func (pa *Packed) Rows() int { return pa.m }
func (pa *Packed) Cols() int { return pa.k }

// SgemmPacked computes C = A*B + beta*C with A packed by Pack (alpha
// included), B k x n with row stride ldb, C m x n with row stride ldc,
// with the micro-kernel A was packed for. beta == 0 means C is not read.
// Like Sgemm it uses all cores and may be called from inside a parallel
// loop.
func SgemmPacked(pa *Packed, n int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	run(pa.kern, problem{m: pa.m, n: n, k: pa.k, alpha: 1, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, packed: pa})
}

// SgemmPackedLayer is SgemmLayer with A packed by Pack.
func SgemmPackedLayer(pa *Packed, n int, b []float32, ldb int, bias, c []float32, ldc int, epilogue func(row []float32)) {
	if bias != nil && len(bias) < pa.m {
		panic(fmt.Sprintf("gemm: %d bias values for %d rows", len(bias), pa.m))
	}
	run(pa.kern, problem{m: pa.m, n: n, k: pa.k, alpha: 1, b: b, ldb: ldb, c: c, ldc: ldc, packed: pa, bias: bias, epilogue: epilogue})
}

// PanelWidth is the width of the panels of B that MulPanels takes: the
// nr of the micro-kernel pa was packed for (16 for avx2, 48 for avx512,
// 4 for generic).
func (pa *Packed) PanelWidth() int { return pa.kern.nr }

// MulPanels sets C [m x n] to A * B, on the calling goroutine, for B
// already in the kernel's panel layout: ceil(n/nr) panels, k*nr floats
// each and back to back, panel j holding columns j*nr .. j*nr+nr-1 of B
// with step p's nr values contiguous (nr = PanelWidth). The columns a last
// panel holds past n are computed but not stored. C is not read. It is for
// products small enough that packing B or splitting them across cores
// would cost more than they do, such as a Winograd convolution's 36
// products on a block of tiles. tile is scratch for the edge tiles of C,
// at least TileSize floats, or nil to take one from a pool when needed.
func (pa *Packed) MulPanels(b []float32, n int, c []float32, ldc int, tile []float32) {
	pa.MulPanelsRows(b, n, c, ldc, tile, 0, pa.m)
}

// RowAlign is the mr of the micro-kernel pa was packed for: the rows
// MulPanelsRows computes start at a multiple of it.
func (pa *Packed) RowAlign() int { return pa.kern.mr }

// MulPanelsRows is MulPanels for rows [r0, r1) of C only (r0 a multiple of
// RowAlign, or r1 == r0), so that cores can share one product; c is still
// all of C, and its other rows are left alone.
func (pa *Packed) MulPanelsRows(b []float32, n int, c []float32, ldc int, tile []float32, r0, r1 int) {
	kn, k := pa.kern, pa.k
	mr, nr := kn.mr, kn.nr
	panels := (n + nr - 1) / nr
	if r0 < 0 || r1 > pa.m || r0 > r1 || (r0%mr != 0 && r0 != r1) {
		panic(fmt.Sprintf("gemm: MulPanelsRows: rows [%d, %d) of %d (start a multiple of %d)", r0, r1, pa.m, mr))
	}
	m := pa.m
	if r1 == r0 || n == 0 {
		return
	}
	if len(b) < panels*k*nr {
		panic(fmt.Sprintf("gemm: MulPanels: %d floats of B for %d panels of %d x %d", len(b), panels, k, nr))
	}
	checkMatrix("C", m, n, c, ldc)
	if k == 0 {
		scaleC(r1-r0, n, 0, c[r0*ldc:], ldc)
		return
	}
	var pooled *[maxTile]float32 // a local array would escape to the kernel call
	for pc := 0; pc < k; pc += pa.kcb {
		kb := min(pa.kcb, k-pc)
		beta := float32(0)
		if pc > 0 {
			beta = 1
		}
		psA := panelStride(kb, mr)
		a := pa.data[pa.blockOffset(pc):]
		for jr := 0; jr < n; jr += nr {
			nn := min(nr, n-jr)
			bp := b[jr/nr*k*nr+pc*nr:][:kb*nr]
			for ir := r0; ir < r1; ir += mr {
				mm := min(mr, r1-ir)
				ap := a[ir/mr*psA:][:kb*mr]
				if mm == mr && nn == nr {
					cc := c[ir*ldc+jr:][:(mr-1)*ldc+nr]
					kn.fn(kb, ap, bp, cc, ldc, beta)
					continue
				}
				if nn == nr && kn.rows[mm] != nil {
					kn.rows[mm](kb, ap, bp, c[ir*ldc+jr:][:(mm-1)*ldc+nr], ldc, beta)
					continue
				}
				if len(tile) < mr*nr {
					pooled = tiles.Get()
					tile = pooled[:]
				}
				kn.fn(kb, ap, bp, tile[:mr*nr], nr, 0)
				addTile(c[ir*ldc+jr:], ldc, tile[:mr*nr], nr, mm, nn, beta)
			}
		}
	}
	if pooled != nil {
		tiles.Put(pooled)
	}
}

// TileSize is the length of the scratch tile MulPanels takes.
func TileSize() int { return maxTile }

// maxTile bounds mr*nr of the kernels (avx512: 8 x 48).
const maxTile = 8 * 48

// tiles holds MulPanels' scratch tiles for the edges of C.
var tiles parallel.FreeList[[maxTile]float32]
