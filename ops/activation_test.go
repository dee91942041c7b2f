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

func TestPositiveEdgeCases(t *testing.T) {
	for _, c := range []struct {
		v    float32
		want uint64
	}{
		{0, 0}, {float32(math.Copysign(0, -1)), 0}, {1, 1}, {-1, 0},
		{math.SmallestNonzeroFloat32, 1}, {-math.SmallestNonzeroFloat32, 0},
		{float32(math.Inf(1)), 1}, {float32(math.Inf(-1)), 0},
		{float32(math.NaN()), 0}, {-float32(math.NaN()), 0}, {math.MaxFloat32, 1},
	} {
		if got := positive(c.v); got != c.want {
			t.Errorf("positive(%v) = %d, want %d", c.v, got, c.want)
		}
	}
}

// BenchmarkReluBits: the fused ReLU's mask, kept in the forward pass and
// applied in the backward pass, on conv2/3x3's output at 1024x768
// (192x192x256), about half of it positive.
func BenchmarkReluBits(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	y := make([]float32, 192*192*256)
	for i := range y {
		y[i] = float32(rng.NormFloat64())
	}
	dy := make([]float32, len(y))
	mask := make([]uint64, (len(y)+63)/64)
	b.SetBytes(int64(8 * len(y))) // y read, dy read and written
	for b.Loop() {
		ReluBits(mask, y)
		ReluMaskBits(dy, mask)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(y)), "ns/elem")
}
