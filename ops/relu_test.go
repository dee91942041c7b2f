package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// reluSpecials are the values ReLU kernels most easily get wrong: zeros
// of both signs, infinities, NaNs of both signs, quiet and signalling, with
// payloads, denormals and the extremes.
var reluSpecials = []float32{
	0, float32(math.Copysign(0, -1)),
	float32(math.Inf(1)), float32(math.Inf(-1)),
	math.Float32frombits(0x7fc00000), math.Float32frombits(0xffc00000),
	math.Float32frombits(0x7f800001), math.Float32frombits(0xff800001),
	math.Float32frombits(0x7fc12345), math.Float32frombits(0xffa54321),
	math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
	math.Float32frombits(0x007fffff), math.Float32frombits(0x807fffff),
	math.MaxFloat32, -math.MaxFloat32,
}

// reluValues is n values, a quarter of them from reluSpecials and the
// rest normally distributed.
func reluValues(r *rand.Rand, n int) []float32 {
	x := randFloats(r, n)
	for i := range x {
		if r.IntN(4) == 0 {
			x[i] = reluSpecials[r.IntN(len(reluSpecials))]
		}
	}
	return x
}

// reluAddends is reluValues to add to dx, with no NaN where dx has one:
// which of two NaNs their sum gives depends on the order the compiler puts
// the operands in, which changes under -race.
func reluAddends(r *rand.Rand, dx []float32) []float32 {
	dy := reluValues(r, len(dx))
	for i, v := range dx {
		if v != v && dy[i] != dy[i] {
			dy[i] = 1
		}
	}
	return dy
}

// Relu is max(x, 0) as Go defines it, which keeps NaNs and makes -0 +0;
// ReluBackward adds dy where y > 0, leaving dx's bits alone elsewhere. At
// a length split across cores, and in place.
func TestRelu(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 9, 1000, 70001} {
		x, dx := reluValues(r, n), reluValues(r, n)
		dy := reluAddends(r, dx)
		y := make([]float32, n)
		Relu(y, x)
		before := append([]float32(nil), dx...)
		ReluBackward(dx, dy, x)
		for i, v := range x {
			want := v
			if !(v > 0) && v == v {
				want = 0
			}
			if math.Float32bits(y[i]) != math.Float32bits(want) {
				t.Fatalf("n=%d: Relu(%v) = %v (%#x), want %v", n, v, y[i], math.Float32bits(y[i]), want)
			}
			want = before[i]
			if v > 0 {
				want += dy[i]
			}
			if math.Float32bits(dx[i]) != math.Float32bits(want) {
				t.Fatalf("n=%d: ReluBackward at y = %v: dx %v + dy %v gives %#x, want %#x", n, v, before[i], dy[i], math.Float32bits(dx[i]), math.Float32bits(want))
			}
		}
		Relu(x, x)
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				t.Fatalf("n=%d: Relu in place gives %v at %d, Relu to another slice %v", n, x[i], i, y[i])
			}
		}
	}
}

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

// reluLayers are GoogLeNet convolutions at 1024x768 whose outputs go
// through a ReLU.
var reluLayers = []struct {
	name string
	p    ConvParams
}{
	{"conv1_7x7_s2", conv(1, 3, 768, 1024, 64, 7, 7, 1, 2, 1, [4]int{3, 3, 3, 3})},
	{"inception_3a_3x3", conv(1, 96, 96, 128, 128, 3, 3, 1, 1, 1, [4]int{1, 1, 1, 1})},
}

// reluBench runs f on each layer's output, filled with normal values
// (about half positive), reporting bytes moved per element.
func reluBench(b *testing.B, bytesPerElem float64, f func(y []float32, p *ConvParams)) {
	for _, l := range reluLayers {
		b.Run(l.name, func(b *testing.B) {
			y := randFloats(rand.New(rand.NewPCG(1, 2)), l.p.M*l.p.OutH()*l.p.OutW())
			b.SetBytes(int64(bytesPerElem * float64(len(y))))
			for b.Loop() {
				f(y, &l.p)
			}
		})
	}
}

// BenchmarkRelu: y read and written in place (positive from the second
// run on, which the branch-free kernels do not notice).
func BenchmarkRelu(b *testing.B) {
	reluBench(b, 8, func(y []float32, _ *ConvParams) { Relu(y, y) })
}

// BenchmarkReluMaskBits: dy read and written, one bit of mask read per
// element.
func BenchmarkReluMaskBits(b *testing.B) {
	var mask []uint64
	reluBench(b, 8+1.0/8, func(dy []float32, _ *ConvParams) {
		if len(mask) != (len(dy)+63)/64 {
			mask = make([]uint64, (len(dy)+63)/64)
			for i := range mask {
				mask[i] = 0x5a5a_a5a5_0ff0_f00f * uint64(i+1)
			}
		}
		ReluMaskBits(dy, mask)
	})
}

// BenchmarkReluBackward: dx read and written, dy and y read.
func BenchmarkReluBackward(b *testing.B) {
	var dx, dy []float32
	reluBench(b, 16, func(y []float32, _ *ConvParams) {
		if len(dx) != len(y) {
			dx, dy = make([]float32, len(y)), make([]float32, len(y))
		}
		ReluBackward(dx, dy, y)
	})
}
