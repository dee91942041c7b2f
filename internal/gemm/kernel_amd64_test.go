//go:build !purego

package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestAVX512Geometry runs the driver with the avx512 kernel's tile and block
// sizes and packing routine on any AVX2 machine, so that everything but the
// kernel itself is tested where AVX-512 is missing.
func TestAVX512Geometry(t *testing.T) {
	kn, err := Geometry("avx512")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 10))
	for _, s := range []struct{ m, n, k int }{
		{kn.mr + 1, kn.nr - 1, 3},
		{2*kn.mr - 1, 3*kn.nr + 1, kn.kc + 1},
		{kn.mc + 1, kn.nc + kn.nr + 5, kn.kc},
		{64, 1100, 147},
	} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			checkSgemm(t, kn, r, tr[0], tr[1], s.m, s.n, s.k, 1.5, 0.5, 1)
		}
	}
	// Packed A, the bias and the ReLU epilogue, and B in panels, with this
	// geometry.
	checkSgemmPacked(t, kn)
	checkSgemmLayer(t, kn)
	checkMulPanels(t, kn)
}

// TestAddScalarAVX checks the assembly bias add against its Go twin, bit
// for bit, on every length up to two vectors and a half, and that it
// leaves the elements past the slice alone.
func TestAddScalarAVX(t *testing.T) {
	if !cpu.X86.HasAVX {
		t.Skip("no AVX")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 21 {
		x := randSlice(r, n+guard)
		want := append([]float32(nil), x...)
		s := float32(r.NormFloat64())
		addScalarAVX(x[:n], s)
		addScalarGo(want[:n], s)
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n=%d: element %d = %v, want %v", n, i, x[i], want[i])
			}
		}
	}
}
