package ops

import "github.com/deepdream-go/deepdream/internal/gemm"

// GemmParams describes y[M x N] = Alpha*op(a)*op(b) + Beta*c:
//
//	a  M x K, or K x M when TransA (stored untransposed, as in gemm.Sgemm)
//	b  K x N, or N x K when TransB
//	c  CRows x CCols, broadcast to M x N: CRows is 1 or M, CCols 1 or N
type GemmParams struct {
	M, N, K        int
	TransA, TransB bool
	Alpha, Beta    float32
	CRows, CCols   int
	// Kernel is the GEMM micro-kernel (nil: gemm.Default()).
	Kernel *gemm.Kernel
}

// lds returns the row strides of a and b as stored.
func (p *GemmParams) lds() (lda, ldb int) {
	lda, ldb = p.K, p.N
	if p.TransA {
		lda = p.M
	}
	if p.TransB {
		ldb = p.K
	}
	return lda, ldb
}

// cIndex returns the strides that map (i, j) of y to c: 0 along a
// broadcast axis.
func (p *GemmParams) cIndex() (rowStride, colStride int) {
	if p.CRows > 1 {
		rowStride = p.CCols
	}
	if p.CCols > 1 {
		colStride = 1
	}
	return rowStride, colStride
}

// Gemm computes y = Alpha*op(a)*op(b) + Beta*c; c may be nil (no bias).
// y must not alias a, b or c.
func Gemm(y, a, b, c []float32, p *GemmParams) {
	lda, ldb := p.lds()
	beta := float32(0)
	if c != nil {
		rs, cs := p.cIndex()
		for i := range p.M {
			row := y[i*p.N:][:p.N]
			for j := range row {
				row[j] = p.Beta * c[i*rs+j*cs]
			}
		}
		beta = 1
	}
	p.Kernel.Sgemm(p.TransA, p.TransB, p.M, p.N, p.K, p.Alpha, a, lda, b, ldb, beta, y, p.N)
}

// GemmBackward adds the gradients of y = Alpha*op(a)*op(b) + Beta*c into
// da, db and dc (each may be nil: not wanted):
//
//	d op(a) = Alpha * dy * op(b)^T     [M x K]
//	d op(b) = Alpha * op(a)^T * dy     [K x N]
//	dc      = Beta * dy summed over c's broadcast axes
//
// A transposed operand receives the transpose, as it is stored.
func GemmBackward(da, db, dc, dy, a, b []float32, p *GemmParams) {
	lda, ldb := p.lds()
	m, n, k := p.M, p.N, p.K
	switch {
	case da == nil:
	case !p.TransA: // da = dy * op(b)^T
		p.Kernel.Sgemm(false, !p.TransB, m, k, n, p.Alpha, dy, n, b, ldb, 1, da, lda)
	default: // da = (dy * op(b)^T)^T = op(b) * dy^T
		p.Kernel.Sgemm(p.TransB, true, k, m, n, p.Alpha, b, ldb, dy, n, 1, da, lda)
	}
	switch {
	case db == nil:
	case !p.TransB: // db = op(a)^T * dy
		p.Kernel.Sgemm(!p.TransA, false, k, n, m, p.Alpha, a, lda, dy, n, 1, db, ldb)
	default: // db = (op(a)^T * dy)^T = dy^T * op(a)
		p.Kernel.Sgemm(true, p.TransA, n, k, m, p.Alpha, dy, n, a, lda, 1, db, ldb)
	}
	if dc != nil {
		rs, cs := p.cIndex()
		for i := range m {
			for j, v := range dy[i*n:][:n] {
				dc[i*rs+j*cs] += p.Beta * v
			}
		}
	}
}

// MatMulParams describes a batch of matrix products
//
//	y[i*M*N:][:M*N] = a[AOff[i]:][:M*K] * b[BOff[i]:][:K*N],  i < len(AOff)
//
// (numpy matmul with broadcast batch axes: a broadcast operand repeats its
// offset). Gemm holds M, N, K and Alpha 1, and no transposes or c.
type MatMulParams struct {
	Gemm       GemmParams
	AOff, BOff []int
}

// MatMul computes every product of the batch. y must not alias a or b.
func MatMul(y, a, b []float32, p *MatMulParams) {
	mn := p.Gemm.M * p.Gemm.N
	for i := range p.AOff {
		Gemm(y[i*mn:][:mn], a[p.AOff[i]:], b[p.BOff[i]:], nil, &p.Gemm)
	}
}

// MatMulBackward adds da = dy * b^T and db = a^T * dy for every product
// (da or db may be nil); a broadcast operand sums the gradients of the
// products that share it.
func MatMulBackward(da, db, dy, a, b []float32, p *MatMulParams) {
	mn := p.Gemm.M * p.Gemm.N
	for i := range p.AOff {
		var dai, dbi []float32
		if da != nil {
			dai = da[p.AOff[i]:]
		}
		if db != nil {
			dbi = db[p.BOff[i]:]
		}
		GemmBackward(dai, dbi, nil, dy[i*mn:][:mn], a[p.AOff[i]:], b[p.BOff[i]:], &p.Gemm)
	}
}
