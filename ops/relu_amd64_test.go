//go:build !purego

package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestReluAVX2 checks the assembly ReLU kernels, with their Go tails,
// against the Go twins bit for bit, at lengths around the vector (8) and
// mask word (64) boundaries.
func TestReluAVX2(t *testing.T) {
	if !reluAVX2 {
		t.Skip("no AVX2")
	}
	// both runs f with the Go twins, then with the assembly, and compares
	// what the two runs wrote.
	both := func(name string, f func(k reluKernels) []float32) {
		t.Helper()
		want := f(reluKernels{reluGo, reluBackwardGo, reluBitsGo, reluMaskBitsGo})
		got := f(reluKernels{relu, reluBackward, reluBits, reluMaskBits})
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: element %d is %#x, the Go twin gives %#x", name, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
			}
		}
	}
	r := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000} {
		name := fmt.Sprintf("n=%d", n)
		x, dx := reluValues(r, n), reluValues(r, n)
		dy := reluAddends(r, dx)
		// Random words, and words of all and no bits.
		bits := make([]uint64, (n+63)/64)
		for i := range bits {
			bits[i] = [...]uint64{r.Uint64(), 0, ^uint64(0)}[i%3]
		}

		both(name+": relu", func(k reluKernels) []float32 {
			y, check := guarded(r, n)
			k.relu(y, x)
			check(t, name+": relu")
			return y
		})
		both(name+": relu in place", func(k reluKernels) []float32 {
			y, check := guarded(r, n)
			copy(y, x)
			k.relu(y, y)
			check(t, name+": relu in place")
			return y
		})
		both(name+": reluBackward", func(k reluKernels) []float32 {
			g, check := guarded(r, n)
			copy(g, dx)
			k.backward(g, dy, x)
			check(t, name+": reluBackward")
			return g
		})
		both(name+": reluBits", func(k reluKernels) []float32 {
			words := (n + 63) / 64
			mask := make([]uint64, words+2)
			mask[0], mask[words+1] = 0xdead, 0xbeef
			k.bits(mask[1:words+1], x)
			if mask[0] != 0xdead || mask[words+1] != 0xbeef {
				t.Fatalf("%s: reluBits wrote outside its mask", name)
			}
			out := make([]float32, 2*words)
			for i, w := range mask[1 : words+1] {
				out[2*i], out[2*i+1] = math.Float32frombits(uint32(w)), math.Float32frombits(uint32(w>>32))
			}
			return out
		})
		both(name+": reluMaskBits", func(k reluKernels) []float32 {
			g, check := guarded(r, n)
			copy(g, dy)
			k.maskBits(g, bits)
			check(t, name+": reluMaskBits")
			return g
		})
	}
}

// reluKernels are the four ReLU kernels: the Go twins or the dispatchers.
type reluKernels struct {
	relu     func(dst, x []float32)
	backward func(dx, dy, y []float32)
	bits     func(mask []uint64, y []float32)
	maskBits func(dy []float32, mask []uint64)
}
