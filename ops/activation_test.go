package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The fused ReLU's backward through a bit mask equals masking by y > 0,
// at every length around the 64-bit word boundaries.
func TestReluBitsMaskLikeY(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 63, 64, 65, 127, 128, 1000, 70001} {
		y := make([]float32, n)
		for i := range y {
			switch rng.IntN(4) {
			case 0:
				y[i] = 0
			case 1:
				y[i] = float32(math.NaN())
			default:
				y[i] = float32(rng.NormFloat64())
			}
		}
		mask := make([]uint64, (n+63)/64+1)
		mask[len(mask)-1] = 0xdead // a guard word past the end
		ReluBits(mask[:len(mask)-1], y)
		if mask[len(mask)-1] != 0xdead {
			t.Fatalf("n=%d: ReluBits wrote past its mask", n)
		}
		dy := make([]float32, n)
		for i := range dy {
			dy[i] = float32(i) + 1
		}
		ReluMaskBits(dy, mask[:len(mask)-1])
		for i := range dy {
			want := float32(i) + 1
			if !(y[i] > 0) {
				want = 0
			}
			if dy[i] != want {
				t.Fatalf("n=%d: dy[%d] = %v, want %v (y = %v)", n, i, dy[i], want, y[i])
			}
		}
	}
}
