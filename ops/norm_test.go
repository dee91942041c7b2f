package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveNorm is the float64 reference: each row's statistics from the
// definition, and the backward pass as the full Jacobian-vector product
// dx_i = sum_j dy_j * dy_j/dx_i + dmean * dmean/dx_i + dinvStd * dinvStd/dx_i.
func naiveNorm(x, scale, bias, dy, dmean, dinvStd []float32, p *NormParams) (y, mean, invStd, dx []float64) {
	n := p.Size
	y, dx = make([]float64, len(x)), make([]float64, len(x))
	mean, invStd = make([]float64, p.Rows), make([]float64, p.Rows)
	for r := range p.Rows {
		row := x[r*n:][:n]
		for _, v := range row {
			mean[r] += float64(v) / float64(n)
		}
		variance := 0.0
		for _, v := range row {
			variance += (float64(v) - mean[r]) * (float64(v) - mean[r]) / float64(n)
		}
		s := 1 / math.Sqrt(variance+float64(p.Epsilon))
		invStd[r] = s
		gamma := func(i int) float64 {
			if p.Channels > 0 {
				return float64(scale[r%p.Channels])
			}
			return float64(scale[i])
		}
		beta := func(i int) float64 {
			switch {
			case bias == nil:
				return 0
			case p.Channels > 0:
				return float64(bias[r%p.Channels])
			}
			return float64(bias[i])
		}
		xhat := func(i int) float64 { return (float64(row[i]) - mean[r]) * s }
		for i := range n {
			y[r*n+i] = xhat(i)*gamma(i) + beta(i)
		}
		for i := range n {
			d := 0.0
			for j := range n {
				delta := 0.0
				if i == j {
					delta = 1
				}
				d += float64(dy[r*n+j]) * gamma(j) * s * (delta - 1/float64(n) - xhat(i)*xhat(j)/float64(n))
			}
			if dmean != nil {
				d += float64(dmean[r]) / float64(n)
			}
			if dinvStd != nil {
				d -= float64(dinvStd[r]) * s * s * xhat(i) / float64(n)
			}
			dx[r*n+i] = d
		}
	}
	return y, mean, invStd, dx
}

func TestNormalizeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		p          NormParams
		bias, stat bool // with a bias; with gradients of the statistics
		offset     float32
	}{
		{NormParams{Rows: 1, Size: 1, Epsilon: 1e-5}, true, false, 0},
		{NormParams{Rows: 5, Size: 24, Epsilon: 1e-6}, true, false, 0}, // ConvNeXt's, small
		{NormParams{Rows: 3, Size: 7, Epsilon: 1e-5}, false, true, 0},
		{NormParams{Rows: 4, Size: 9, Epsilon: 1e-2}, true, true, 100}, // a large mean
		{NormParams{Rows: 6, Size: 20, Channels: 3, Epsilon: 1e-5}, true, false, 0},
		{NormParams{Rows: 4, Size: 5, Channels: 2, Epsilon: 1e-2}, true, true, -3},
		{NormParams{Rows: 2 * elementwiseGrain / 64, Size: 64, Epsilon: 1e-5}, true, false, 0}, // several parallel chunks
	} {
		p := &c.p
		x := randFloats(r, p.Rows*p.Size)
		for i := range x {
			x[i] += c.offset
		}
		width := p.Size
		if p.Channels > 0 {
			width = p.Channels
		}
		scale := randFloats(r, width)
		var bias []float32
		if c.bias {
			bias = randFloats(r, width)
		}
		dy := randFloats(r, len(x))
		var dmean, dinvStd []float32
		if c.stat {
			dmean, dinvStd = randFloats(r, p.Rows), randFloats(r, p.Rows)
		}
		wantY, wantMean, wantInv, wantDX := naiveNorm(x, scale, bias, dy, dmean, dinvStd, p)

		y, checkY := guarded(r, len(x))
		mean, checkMean := guarded(r, p.Rows)
		inv, checkInv := guarded(r, p.Rows)
		Normalize(y, mean, inv, x, scale, bias, p)
		checkY(t, "Normalize y")
		checkMean(t, "Normalize mean")
		checkInv(t, "Normalize invStd")
		close := func(what string, got []float32, want []float64, tol float64) {
			t.Helper()
			for i := range want {
				if math.Abs(float64(got[i])-want[i]) > tol*(1+math.Abs(want[i])) {
					t.Fatalf("%+v: %s[%d] = %v, want %v", *p, what, i, got[i], want[i])
				}
			}
		}
		close("y", y, wantY, 1e-5)
		close("mean", mean, wantMean, 1e-6)
		close("invStd", inv, wantInv, 1e-5)

		for _, accumulate := range []bool{false, true} {
			dx, checkDX := guarded(r, len(x))
			base := append([]float32(nil), dx...)
			NormalizeBackwardInput(dx, dy, dmean, dinvStd, x, scale, mean, inv, p, accumulate)
			checkDX(t, "NormalizeBackwardInput")
			if accumulate {
				for i := range dx {
					dx[i] -= base[i]
				}
			}
			close("dx", dx, wantDX, 1e-4)
		}
	}
}

// Without dy (only the statistics are targets) the gradient flows through
// mean and invStd alone.
func TestNormalizeBackwardStatisticsOnly(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	p := &NormParams{Rows: 3, Size: 8, Epsilon: 1e-5}
	x, scale := randFloats(r, 24), randFloats(r, 8)
	dmean, dinvStd := randFloats(r, 3), randFloats(r, 3)
	_, _, _, want := naiveNorm(x, scale, nil, make([]float32, 24), dmean, dinvStd, p)
	y, mean, inv := make([]float32, 24), make([]float32, 3), make([]float32, 3)
	Normalize(y, mean, inv, x, scale, nil, p)
	dx := make([]float32, 24)
	NormalizeBackwardInput(dx, nil, dmean, dinvStd, x, scale, mean, inv, p, false)
	for i := range want {
		if math.Abs(float64(dx[i])-want[i]) > 1e-4*(1+math.Abs(want[i])) {
			t.Fatalf("dx[%d] = %v, want %v", i, dx[i], want[i])
		}
	}
}

func TestNormalizeDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	p := &NormParams{Rows: 4096, Size: 96, Epsilon: 1e-6}
	x, scale, bias := randFloats(r, p.Rows*p.Size), randFloats(r, p.Size), randFloats(r, p.Size)
	y, dx := make([]float32, len(x)), make([]float32, len(x))
	mean, inv := make([]float32, p.Rows), make([]float32, p.Rows)
	if a := testing.AllocsPerRun(10, func() {
		Normalize(y, mean, inv, x, scale, bias, p)
		NormalizeBackwardInput(dx, y, nil, nil, x, scale, mean, inv, p, false)
	}); a != 0 {
		t.Errorf("%v allocations per forward and backward pass", a)
	}
}

// BenchmarkNormalize: ConvNeXt's LayerNorm over the 24 channels of a
// 62x83 NHWC map (a 251x333 input's first stage), and an instance
// normalization of 64 planes of 128x128.
func BenchmarkNormalize(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name string
		p    NormParams
	}{
		{"layer/62x83x24", NormParams{Rows: 62 * 83, Size: 24, Epsilon: 1e-6}},
		{"instance/64x128x128", NormParams{Rows: 64, Size: 128 * 128, Channels: 64, Epsilon: 1e-5}},
	} {
		p := &c.p
		width := p.Size
		if p.Channels > 0 {
			width = p.Channels
		}
		x, scale, bias := randFloats(r, p.Rows*p.Size), randFloats(r, width), randFloats(r, width)
		y, dx := make([]float32, len(x)), make([]float32, len(x))
		mean, inv := make([]float32, p.Rows), make([]float32, p.Rows)
		b.Run(c.name+"/forward", func(b *testing.B) {
			b.SetBytes(int64(8 * len(x)))
			for b.Loop() {
				Normalize(y, mean, inv, x, scale, bias, p)
			}
		})
		b.Run(c.name+"/backward", func(b *testing.B) {
			b.SetBytes(int64(12 * len(x)))
			for b.Loop() {
				NormalizeBackwardInput(dx, y, nil, nil, x, scale, mean, inv, p, false)
			}
		})
	}
}
