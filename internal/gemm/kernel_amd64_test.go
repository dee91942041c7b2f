//go:build !purego

package gemm

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// tileKernel is a plain-loop kernel for any mr x nr tile, for running the
// driver with another kernel's geometry.
func tileKernel(mr, nr int) kernelFunc {
	return func(k int, a, b, c []float32, ldc int, beta float32) {
		for i := range mr {
			for j := range nr {
				var acc float32
				for p := range k {
					acc += a[p*mr+i] * b[p*nr+j]
				}
				if beta != 0 {
					acc += beta * c[i*ldc+j]
				}
				c[i*ldc+j] = acc
			}
		}
	}
}

// TestAVX512Geometry runs the driver with the avx512 kernel's tile and block
// sizes and packing routine on any AVX2 machine, so that everything but the
// kernel itself is tested where AVX-512 is missing.
func TestAVX512Geometry(t *testing.T) {
	if !cpu.X86.HasAVX2 {
		t.Skip("copyPanelsAVX2 needs AVX2")
	}
	kn := avx512Kernel
	kn.name, kn.fn = "avx512-geometry", tileKernel(kn.mr, kn.nr)
	prev := current.Swap(&kn)
	defer current.Store(prev)
	r := rand.New(rand.NewPCG(9, 10))
	for _, s := range []struct{ m, n, k int }{
		{kn.mr + 1, kn.nr - 1, 3},
		{2*kn.mr - 1, 3*kn.nr + 1, kn.kc + 1},
		{kn.mc + 1, kn.nc + kn.nr + 5, kn.kc},
		{64, 1100, 147},
	} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			checkSgemm(t, r, tr[0], tr[1], s.m, s.n, s.k, 1.5, 0.5, 1)
		}
	}
	// Packed A, the bias and the ReLU epilogue, and B in panels, with this
	// geometry.
	checkSgemmPacked(t, &kn)
	checkSgemmLayer(t, &kn)
	checkMulPanels(t, &kn)
}
