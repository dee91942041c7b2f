//go:build !purego

package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestIm2colAVX checks gather2, scatterAdd2 and axpy with the assembly against
// their Go twins, bit for bit, for lengths around the 8-element blocks,
// sources and destinations ending exactly where the last element is, and
// special values, with guard elements that must stay untouched.
func TestIm2colAVX(t *testing.T) {
	if !im2colAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(13, 14))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), 0, float32(math.Copysign(0, -1)), 1e-40}
	vals := func(n int) []float32 {
		x := randFloats(r, n)
		for i := range x {
			if r.IntN(5) == 0 {
				x[i] = special[r.IntN(len(special))]
			}
		}
		return x
	}
	same := func(a, b []float32) bool {
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				return false
			}
		}
		return true
	}
	const guard = 3
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 31, 64, 100} {
		for _, extra := range []int{0, 1, 2} { // source or destination beyond 2n-1
			src := vals(2*n - 1 + extra + guard)[:2*n-1+extra]
			dst := vals(n + 2*guard)
			want := append([]float32(nil), dst...)
			gather2Go(want[guard:guard+n], src)
			gather2(dst[guard:guard+n], src)
			if !same(dst, want) {
				t.Fatalf("gather2 n=%d extra=%d: %v, want %v", n, extra, dst, want)
			}

			d, a := vals(n+2*guard), vals(n)
			wantD := append([]float32(nil), d...)
			axpyGo(wantD[guard:guard+n], a, -1.5)
			axpy(d[guard:guard+n], a, -1.5)
			if !same(d, wantD) {
				t.Fatalf("axpy n=%d: %v, want %v", n, d, wantD)
			}

			x := vals(2*n - 1 + extra + 2*guard)
			v := vals(n)
			wantX := append([]float32(nil), x...)
			for _, w := range []float32{1, -0.5} {
				scatterAdd2Go(wantX[guard:guard+2*n-1+extra], v, w)
				scatterAdd2(x[guard:guard+2*n-1+extra], v, w)
				if !same(x, wantX) {
					t.Fatalf("scatterAdd2 n=%d extra=%d weight %v: %v, want %v", n, extra, w, x, wantX)
				}
			}
		}
	}
}
