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
	defer func(avx2 bool) { poolAVX2 = avx2 }(poolAVX2)
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
				poolAVX2 = true
				maxPoolWith(y, arg, x, &p, true)
				poolAVX2 = false
				maxPoolWith(yGo, argGo, x, &p, true)
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

// TestPoolGo runs the pooling tests with the Go twin of the assembly.
func TestPoolGo(t *testing.T) {
	defer func(avx2 bool) { poolAVX2 = avx2 }(poolAVX2)
	poolAVX2 = false
	TestPoolMatchesReference(t)
	TestMaxPoolNaNAndSignedZeros(t)
	TestMaxPoolNaNs(t)
}
