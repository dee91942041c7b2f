//go:build !purego

package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestLRNRowsAVX checks the assembly row kernels, through the wrappers
// that leave the tails to Go, against their Go twins, which round
// identically.
func TestLRNRowsAVX(t *testing.T) {
	if !lrnAVX {
		t.Skip("no AVX")
	}
	r := rand.New(rand.NewPCG(7, 8))
	// Magnitudes from 2^-70 to 2^60: squares from subnormal to large.
	wide := func(n int) []float32 {
		x := randFloats(r, n)
		for i := range x {
			switch r.IntN(8) {
			case 0:
				x[i] = 0
			case 1:
				x[i] = float32(math.Ldexp(float64(x[i]), r.IntN(131)-70))
			}
		}
		return x
	}
	rows := func(n int) (r [5][]float32) {
		for j := range r {
			r[j] = wide(n)
		}
		return r
	}
	same := func(t *testing.T, name string, got, want []float32) {
		t.Helper()
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: element %d is %v, the Go twin gives %v", name, i, got[i], want[i])
			}
		}
	}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 255, 256} {
		for _, c := range []struct{ alpha, beta, bias float32 }{
			{1e-4, 0.75, 1}, // GoogLeNet's
			{2, 0.75, 1},
			{3, 0.75, 0.5},
			{1, 0.5, 2}, // the Go path
		} {
			t.Run(fmt.Sprintf("n%d/alpha%v/beta%v", n, c.alpha, c.beta), func(t *testing.T) {
				k, k2 := c.alpha/5, 2*c.alpha*c.beta/5
				x := rows(n)
				y, checkY := guarded(r, n)
				f, checkF := guarded(r, n)
				lrnForwardRow(y, f, x[0], x[1], x[2], x[3], x[4], k, c.bias, c.beta)
				checkY(t, "forward y")
				checkF(t, "forward f")
				wantY, wantF := make([]float32, n), make([]float32, n)
				lrnForwardRowGo(wantY, wantF, x[0], x[1], x[2], x[3], x[4], k, c.bias, c.beta)
				same(t, "forward y", y, wantY)
				same(t, "forward f", f, wantF)

				// The backward pass's factor (the forward one's bits) and term.
				dy := wide(n)
				w, checkW := guarded(r, n)
				f2, checkF2 := guarded(r, n)
				lrnFactorRingRow(w, f2, dy, x[0], x[1], x[2], x[3], x[4], k, c.bias, c.beta)
				checkW(t, "factor+ring w")
				checkF2(t, "factor+ring f")
				same(t, "factor+ring f", f2, wantF)
				wantW, goF := make([]float32, n), make([]float32, n)
				lrnFactorRingRowGo(wantW, goF, dy, x[0], x[1], x[2], x[3], x[4], k, c.bias, c.beta)
				same(t, "factor+ring Go f", goF, wantF)
				same(t, "factor+ring w", w, wantW)

				ws := rows(n)
				for _, relu := range []bool{false, true} {
					name := fmt.Sprintf("grad relu %v", relu)
					dx, checkDX := guarded(r, n)
					wantDX := append([]float32(nil), dx...)
					lrnGradRow(dx, dy, x[2], f, ws[0], ws[1], ws[2], ws[3], ws[4], k2, false, relu)
					checkDX(t, name)
					lrnGradRowGo(wantDX, dy, x[2], f, ws[0], ws[1], ws[2], ws[3], ws[4], k2, false, relu)
					same(t, name, dx, wantDX)

					// Set instead of added: the same values as added to zeros.
					dx2, checkDX2 := guarded(r, n)
					lrnGradRow(dx2, dy, x[2], f, ws[0], ws[1], ws[2], ws[3], ws[4], k2, true, relu)
					checkDX2(t, name+" set")
					wantDX2 := make([]float32, n)
					lrnGradRowGo(wantDX2, dy, x[2], f, ws[0], ws[1], ws[2], ws[3], ws[4], k2, false, relu)
					same(t, name+" set", dx2, wantDX2)
					goDX2 := make([]float32, n)
					lrnGradRowGo(goDX2, dy, x[2], f, ws[0], ws[1], ws[2], ws[3], ws[4], k2, true, relu)
					same(t, name+" set Go", goDX2, wantDX2)
					if !relu {
						continue
					}
					// The mask: +0 where x is not > 0, else the gradient.
					plain := make([]float32, n)
					lrnGradRowGo(plain, dy, x[2], f, ws[0], ws[1], ws[2], ws[3], ws[4], k2, true, false)
					for i, v := range x[2] {
						if !(v > 0) {
							plain[i] = 0
						}
					}
					same(t, name+" mask", dx2, plain)
				}
			})
		}
	}
}
