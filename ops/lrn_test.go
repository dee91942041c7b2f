package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveLRN is the float64 reference straight from the definition, with the
// backward pass as the full Jacobian-vector product
// dx_i = sum_j dy_j * dy_j/dx_i over every j whose window holds i.
func naiveLRN(x, dy []float32, p *LRNParams) (y, dx []float64) {
	before, after := (p.Size-1)/2, p.Size-1-(p.Size-1)/2
	k := float64(p.Alpha) / float64(p.Size)
	beta := float64(p.Beta)
	y, dx = make([]float64, len(x)), make([]float64, len(x))
	at := func(n, c, i int) int { return (n*p.C+c)*p.HW + i }
	for n := range p.N {
		for i := range p.HW {
			s := make([]float64, p.C)
			for c := range p.C {
				s[c] = float64(p.Bias)
				for j := max(0, c-before); j <= min(p.C-1, c+after); j++ {
					s[c] += k * float64(x[at(n, j, i)]) * float64(x[at(n, j, i)])
				}
				y[at(n, c, i)] = float64(x[at(n, c, i)]) * math.Pow(s[c], -beta)
			}
			for c := range p.C { // output channel
				g := float64(dy[at(n, c, i)])
				xc := float64(x[at(n, c, i)])
				dx[at(n, c, i)] += g * math.Pow(s[c], -beta)
				for j := max(0, c-before); j <= min(p.C-1, c+after); j++ {
					xj := float64(x[at(n, j, i)])
					dx[at(n, j, i)] -= g * xc * beta * math.Pow(s[c], -beta-1) * k * 2 * xj
				}
			}
		}
	}
	return y, dx
}

func TestLRNMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, p := range []LRNParams{
		{N: 1, C: 12, HW: 7, Size: 5, Alpha: 1e-4, Beta: 0.75, Bias: 1},         // GoogLeNet's
		{N: 2, C: 9, HW: lrnBlock + 44, Size: 5, Alpha: 2, Beta: 0.75, Bias: 1}, // second term large; two pixel blocks
		{N: 1, C: 6, HW: 5, Size: 4, Alpha: 0.5, Beta: 0.6, Bias: 2},            // asymmetric window, math.Pow
		{N: 1, C: 3, HW: 4, Size: 7, Alpha: 1, Beta: 0.5, Bias: 1},              // window wider than C
		{N: 1, C: 5, HW: 3, Size: 1, Alpha: 1, Beta: 1, Bias: 0.5},
		{N: 1, C: 1, HW: 5, Size: 5, Alpha: 1, Beta: 0.75, Bias: 1}, // fewer channels than the window
		{N: 2, C: 2, HW: 3, Size: 5, Alpha: 1, Beta: 0.75, Bias: 1},
		{N: 1, C: 4, HW: 257, Size: 5, Alpha: 3, Beta: 0.5, Bias: 2},
		{N: 1, C: 7, HW: 9, Size: 5, Alpha: 0.5, Beta: 0.6, Bias: 1.5}, // math.Pow
	} {
		x := randFloats(r, p.N*p.C*p.HW)
		dy := randFloats(r, len(x))
		wantY, wantDX := naiveLRN(x, dy, &p)
		// The fast kernels and their generic twin.
		for _, fast := range []bool{false, p.Size == 5} {
			y, checkY := guarded(r, len(x))
			factor := make([]float32, len(x))
			lrnWith(y, factor, x, &p, fast)
			checkY(t, "LRN")
			for i := range y {
				if math.Abs(float64(y[i])-wantY[i]) > 1e-6*(1+math.Abs(wantY[i])) {
					t.Fatalf("%+v fast %v: y[%d] = %v, want %v", p, fast, i, y[i], wantY[i])
				}
			}
			dx, checkDX := guarded(r, len(x))
			base := append([]float32(nil), dx...)
			lrnBackwardWith(dx, dy, x, factor, &p, fast, false)
			checkDX(t, "LRNBackward")
			for i := range dx {
				got := float64(dx[i]) - float64(base[i]) // LRNBackward adds
				if math.Abs(got-wantDX[i]) > 1e-5*(1+math.Abs(wantDX[i])) {
					t.Fatalf("%+v fast %v: dx[%d] = %v, want %v", p, fast, i, got, wantDX[i])
				}
			}
			// Setting dx, whatever it held, is adding to zeros.
			zeros := make([]float32, len(x))
			lrnBackwardWith(zeros, dy, x, factor, &p, fast, false)
			set, checkSet := guarded(r, len(x))
			for i := range set {
				set[i] = float32(math.NaN())
			}
			lrnBackwardWith(set, dy, x, factor, &p, fast, true)
			checkSet(t, "LRNBackward setting dx")
			for i := range set {
				if math.Float32bits(set[i]) != math.Float32bits(zeros[i]) {
					t.Fatalf("%+v fast %v: set dx[%d] = %v, adding to zeros gives %v", p, fast, i, set[i], zeros[i])
				}
			}
			// With Relu, the gradient is +0 where x is not > 0, set or
			// added.
			pr := p
			pr.Relu = true
			lrnBackwardWith(set, dy, x, factor, &pr, fast, true)
			added := append([]float32(nil), base...)
			lrnBackwardWith(added, dy, x, factor, &pr, fast, false)
			for i := range set {
				want := zeros[i]
				if !(x[i] > 0) {
					want = 0
				}
				if math.Float32bits(set[i]) != math.Float32bits(want) || math.Float32bits(added[i]) != math.Float32bits(base[i]+want) {
					t.Fatalf("%+v fast %v relu: dx[%d] = %v set, %v added to %v; want %v", p, fast, i, set[i], added[i], base[i], want)
				}
			}
			if !fast {
				continue
			}
			// Without a kept factor the fast path computes it again:
			// the same bits.
			y2 := make([]float32, len(x))
			lrnWith(y2, nil, x, &p, true)
			dx2 := append([]float32(nil), base...)
			lrnBackwardWith(dx2, dy, x, nil, &p, true, false)
			for i := range y {
				if math.Float32bits(y2[i]) != math.Float32bits(y[i]) || math.Float32bits(dx2[i]) != math.Float32bits(dx[i]) {
					t.Fatalf("%+v without factor: y[%d], dx[%d] = %v, %v; with it %v, %v", p, i, i, y2[i], dx2[i], y[i], dx[i])
				}
			}
			// Setting dx in place of dy: the same bits, with Relu too.
			for _, pp := range []LRNParams{p, pr} {
				want := make([]float32, len(x))
				lrnBackwardWith(want, dy, x, nil, &pp, true, true)
				got := append([]float32(nil), dy...)
				lrnBackwardWith(got, got, x, nil, &pp, true, true)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%+v in place: dx[%d] = %v, want %v", pp, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestLRNNoAllocs(t *testing.T) {
	p := LRNParams{N: 1, C: 64, HW: 56 * 56, Size: 5, Alpha: 1e-4, Beta: 0.75, Bias: 1}
	x := make([]float32, p.C*p.HW)
	y, factor, dx := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
	for i := range x {
		x[i] = 1
	}
	if a := testing.AllocsPerRun(10, func() {
		LRN(y, factor, x, &p)
		LRNBackward(dx, y, x, factor, &p, true)
	}); a != 0 {
		t.Errorf("LRN allocates %v times per run", a)
	}
}

// GoogLeNet's norm1 (after pool1) and norm2 (after conv2/3x3), at 224x224
// and at 1024x768 input.
func BenchmarkLRN(b *testing.B) {
	for _, c := range []struct {
		name string
		p    LRNParams
	}{
		{"norm1_64x56x56", LRNParams{N: 1, C: 64, HW: 56 * 56, Size: 5, Alpha: 1e-4, Beta: 0.75, Bias: 1}},
		{"norm2_192x56x56", LRNParams{N: 1, C: 192, HW: 56 * 56, Size: 5, Alpha: 1e-4, Beta: 0.75, Bias: 1}},
		{"norm1_64x192x256", LRNParams{N: 1, C: 64, HW: 192 * 256, Size: 5, Alpha: 1e-4, Beta: 0.75, Bias: 1}},
		{"norm2_192x192x256", LRNParams{N: 1, C: 192, HW: 192 * 256, Size: 5, Alpha: 1e-4, Beta: 0.75, Bias: 1}},
	} {
		// Set up inside the case's run, so that -bench skips the cases it
		// leaves out.
		b.Run(c.name, func(b *testing.B) {
			p := c.p
			r := rand.New(rand.NewPCG(1, 1))
			x := randFloats(r, p.C*p.HW)
			y, factor, dx := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
			LRN(y, factor, x, &p) // for the backward benchmarks run alone
			report := func(b *testing.B) {
				n := float64(len(x))
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
			}
			for _, fast := range []bool{false, true} {
				kind := "generic"
				if fast {
					kind = "fast"
				}
				b.Run("forward/"+kind, func(b *testing.B) {
					for b.Loop() {
						lrnWith(y, factor, x, &p, fast)
					}
					report(b)
				})
				b.Run("backward/"+kind, func(b *testing.B) {
					for b.Loop() {
						lrnBackwardWith(dx, y, x, factor, &p, fast, false)
					}
					report(b)
				})
			}
			// The engine's path for windows of 5: no factor kept, the
			// input gradient set.
			b.Run("backward/fast-recompute", func(b *testing.B) {
				for b.Loop() {
					lrnBackwardWith(dx, y, x, nil, &p, true, true)
				}
				report(b)
			})
		})
	}
}
