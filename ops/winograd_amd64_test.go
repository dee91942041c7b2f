//go:build !purego

package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestWinogradLanesAVX checks the assembly transforms against their Go
// twins, which round identically.
func TestWinogradLanesAVX(t *testing.T) {
	if !winoAVX {
		t.Skip("no AVX")
	}
	r := rand.New(rand.NewPCG(11, 12))
	const stride = 13 // planes overlap-free, not aligned
	var d, s [wgXi][wgLanes]float32
	var so [wgOut * wgIn][wgLanes]float32
	var oGo, oAVX [wgOut * wgOut][wgLanes]float32
	for range 100 {
		for i := range d {
			copy(d[i][:], randFloats(r, wgLanes))
		}
		vGo, vAVX := make([]float32, wgXi*stride), make([]float32, wgXi*stride)
		winoInputLanesGo(vGo, stride, &d, &s)
		winoInputAVX(&vAVX[0], stride, &d, &s)
		for i := range vGo {
			if math.Float32bits(vGo[i]) != math.Float32bits(vAVX[i]) {
				t.Fatalf("input transform: element %d is %v, the Go twin gives %v", i, vAVX[i], vGo[i])
			}
		}
		z := randFloats(r, wgXi*stride)
		winoOutputLanesGo(&oGo, &so, z, stride)
		winoOutputAVX(&oAVX, &so, &z[0], stride)
		if oGo != oAVX {
			t.Fatalf("output transform: got %v, the Go twin gives %v", oAVX, oGo)
		}
	}
}

// TestConvWinogradGo runs the convolution tests with the Go transforms.
func TestConvWinogradGo(t *testing.T) {
	defer func(avx bool) { winoAVX = avx }(winoAVX)
	winoAVX = false
	TestConvWinograd(t)
	TestConvWinogradBlocks(t)
}
