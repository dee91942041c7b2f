//go:build !purego

package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMaxPoolAVX2 checks the assembly 3x3 max pool against its Go twin bit
// for bit, zero signs and NaN payloads included, with a NaN or an
// infinity at each element of the first plane in turn.
func TestMaxPoolAVX2(t *testing.T) {
	if !poolAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(13, 14))
	specials := []float32{float32(math.NaN()), math.Float32frombits(0xffc00000), float32(math.Inf(1)), float32(math.Inf(-1)), 0}
	for _, p := range append(poolCases, poolLaneCases...) {
		if !p.fast3x3() {
			continue
		}
		out := p.N * p.C * p.OutH * p.OutW
		y, arg := make([]float32, out), make([]uint8, out)
		yGo, argGo := make([]float32, out), make([]uint8, out)
		// Planes of -inf give windows whose maximum is -inf.
		negInf := make([]float32, p.N*p.C*p.H*p.W)
		for i := range negInf {
			negInf[i] = float32(math.Inf(-1))
		}
		for _, x := range [][]float32{randFloats(r, len(negInf)), tieFloats(r, len(negInf)), negInf} {
			for i := -1; i < p.H*p.W; i++ {
				var v float32
				if i >= 0 {
					v, x[i] = x[i], specials[i%len(specials)]
				}
				maxPoolWith(y, arg, x, &p, true)
				maxPoolWith(yGo, argGo, x, genericPool(p), true)
				for o := range y {
					if math.Float32bits(y[o]) != math.Float32bits(yGo[o]) || arg[o] != argGo[o] {
						t.Fatalf("%+v, special at %d: output %d is %v at tap %d, the Go twin gives %v at tap %d", p, i, o, y[o], arg[o], yGo[o], argGo[o])
					}
				}
				if i >= 0 {
					x[i] = v
				}
			}
		}
	}
}

// TestMaxPoolBackwardAVX2 checks the assembly gradient routing against
// the Go code bit for bit: both add each element's gradients in the same
// order, whatever dx and dy hold.
func TestMaxPoolBackwardAVX2(t *testing.T) {
	if !poolAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(15, 16))
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0}
	for _, p := range append(poolCases, poolLaneCases...) {
		if !p.fast3x3() {
			continue
		}
		in, out := p.N*p.C*p.H*p.W, p.N*p.C*p.OutH*p.OutW
		for _, x := range [][]float32{randFloats(r, in), tieFloats(r, in)} {
			y, arg := make([]float32, out), make([]uint8, out)
			MaxPool(y, arg, x, &p)
			dy, dx0 := randFloats(r, out), randFloats(r, in)
			for range 3 {
				dy[r.IntN(out)] = specials[r.IntN(len(specials))]
			}
			for i := range dx0 {
				if r.IntN(4) == 0 {
					dx0[i] = specials[r.IntN(len(specials))]
				}
			}
			var dx [2][]float32
			for i, q := range []*PoolParams{&p, genericPool(p)} {
				dx[i] = append([]float32(nil), dx0...)
				MaxPoolBackward(dx[i], dy, arg, nil, q, true)
			}
			for i := range dx0 {
				if math.Float32bits(dx[0][i]) != math.Float32bits(dx[1][i]) {
					t.Fatalf("%+v: dx[%d] is %v, the Go code gives %v", p, i, dx[0][i], dx[1][i])
				}
			}
			// Setting dx: the assembly reads no row it has not written,
			// and clears what it does not write.
			for i, q := range []*PoolParams{&p, genericPool(p)} {
				copy(dx[i], dx0)
				MaxPoolBackward(dx[i], dy, arg, nil, q, false)
			}
			for i := range dx0 {
				if math.Float32bits(dx[0][i]) != math.Float32bits(dx[1][i]) {
					t.Fatalf("%+v: set: dx[%d] is %v, the Go code gives %v", p, i, dx[0][i], dx[1][i])
				}
			}
		}
	}
}

// genericPool returns p asking for the Go twins of the assembly. (The
// purego build runs every pooling test with them.)
func genericPool(p PoolParams) *PoolParams {
	p.generic = true
	return &p
}
