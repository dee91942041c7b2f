//go:build !purego

package gemm

import (
	"math/rand/v2"
	"testing"
)

// TestAVX512Geometry runs the driver with the avx512 kernel's tile and block
// sizes and packing routine on any AVX2 machine, so that everything but the
// kernel itself is tested where AVX-512 is missing.
func TestAVX512Geometry(t *testing.T) {
	restore, err := UseGeometry("avx512")
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	kn := current.Load()
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
	checkSgemmPacked(t, kn)
	checkSgemmLayer(t, kn)
	checkMulPanels(t, kn)
}
