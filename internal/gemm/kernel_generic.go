package gemm

// kernelGeneric is the portable 4x4 micro-kernel (mr = nr = 4). Sixteen
// accumulators plus one row of B keep the scalar loop within the 16 float
// registers of amd64 and arm64.
func kernelGeneric(k int, a, b, c []float32, ldc int, beta float32) {
	var (
		c00, c01, c02, c03 float32
		c10, c11, c12, c13 float32
		c20, c21, c22, c23 float32
		c30, c31, c32, c33 float32
	)
	a, b = a[:4*k], b[:4*k]
	for len(a) >= 4 && len(b) >= 4 {
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		a0 := a[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := a[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := a[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := a[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		a, b = a[4:], b[4:]
	}
	storeRow4(c[0*ldc:], c00, c01, c02, c03, beta)
	storeRow4(c[1*ldc:], c10, c11, c12, c13, beta)
	storeRow4(c[2*ldc:], c20, c21, c22, c23, beta)
	storeRow4(c[3*ldc:], c30, c31, c32, c33, beta)
}

func storeRow4(c []float32, x0, x1, x2, x3, beta float32) {
	c = c[:4]
	if beta == 0 {
		c[0], c[1], c[2], c[3] = x0, x1, x2, x3
		return
	}
	c[0] = beta*c[0] + x0
	c[1] = beta*c[1] + x1
	c[2] = beta*c[2] + x2
	c[3] = beta*c[3] + x3
}

// copyPanelsGeneric is the portable copyFunc; it does not prefetch.
func copyPanelsGeneric(dst, src, pf []float32, panels, nr, ps int) {
	src = src[:panels*nr]
	for j := 0; j < panels; j++ {
		s, d := src[j*nr:j*nr+nr], dst[j*ps:j*ps+nr]
		// Four floats at a time compile to one vector move; memmove calls
		// would cost more than the copy for these short runs.
		for q := 0; q+4 <= nr; q += 4 {
			*(*[4]float32)(d[q:]) = *(*[4]float32)(s[q:])
		}
	}
}
