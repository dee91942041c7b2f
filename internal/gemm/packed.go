package gemm

import "fmt"

// Packed is alpha*op(A), an m x k matrix, packed once in the panel layout
// of the micro-kernel that was current when Pack made it, for products
// that multiply the same A many times (a layer's constant weights):
// SgemmPacked then skips packing A, which for short products costs as
// much as a third of the kernel time.
type Packed struct {
	kern *kernel
	m, k int
	kcb  int // depth of each packed block but the last
	data []float32
}

// Pack packs alpha*op(A) (m x k; A stored k x m if transA) with the
// current micro-kernel's layout: for each kc-deep block, ceil(m/mr) panels.
func Pack(transA bool, m, k int, alpha float32, a []float32, lda int) *Packed {
	if m < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d k=%d", m, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	checkMatrix("A", ar, ac, a, lda)
	kn := current.Load()
	pa := &Packed{kern: kn, m: m, k: k, kcb: 1}
	if k > 0 {
		pa.kcb = evenBlock(k, kn.kc, 1)
	}
	panels := (m + kn.mr - 1) / kn.mr
	g := &problem{transA: transA, m: m, k: k, alpha: alpha, a: a, lda: lda}
	pa.data = make([]float32, pa.blockOffset(k))
	for pc := 0; pc < k; pc += pa.kcb {
		kb := min(pa.kcb, k-pc)
		packA(pa.data[pa.blockOffset(pc):][:panels*panelStride(kb, kn.mr)], g, 0, m, pc, kb, kn.mr)
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

// Rows and Cols are the shape of op(A).
func (pa *Packed) Rows() int { return pa.m }
func (pa *Packed) Cols() int { return pa.k }

// SgemmPacked computes C = A*B + beta*C with A packed by Pack (alpha
// included), B k x n with row stride ldb, C m x n with row stride ldc,
// with the micro-kernel A was packed for. beta == 0 means C is not read.
// Like Sgemm it uses all cores and may be called from inside a parallel
// loop.
func SgemmPacked(pa *Packed, n int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	run(problem{m: pa.m, n: n, k: pa.k, alpha: 1, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, packed: pa})
}

// SgemmPackedLayer is SgemmLayer with A packed by Pack.
func SgemmPackedLayer(pa *Packed, n int, b []float32, ldb int, bias, c []float32, ldc int, epilogue func(row []float32)) {
	if bias != nil && len(bias) < pa.m {
		panic(fmt.Sprintf("gemm: %d bias values for %d rows", len(bias), pa.m))
	}
	run(problem{m: pa.m, n: n, k: pa.k, alpha: 1, b: b, ldb: ldb, c: c, ldc: ldc, packed: pa, bias: bias, epilogue: epilogue})
}
