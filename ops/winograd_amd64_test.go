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
		winoOutputLanesGo(4, &oGo, &so, z, stride)
		winoOutputAVX(&oAVX, &so, &z[0], stride, 4)
		if oGo != oAVX {
			t.Fatalf("output transform: got %v, the Go twin gives %v", oAVX, oGo)
		}
		winoOutputLanesGo(3, &oGo, &so, z, stride)
		winoOutputAVX(&oAVX, &so, &z[0], stride, 3)
		if oGo != oAVX {
			t.Fatalf("F(3x3, 4x4) output transform: got %v, the Go twin gives %v", oAVX, oGo)
		}
		winoOutputLanesGo(2, &oGo, &so, z, stride)
		winoOutputAVX(&oAVX, &so, &z[0], stride, 2)
		if oGo != oAVX {
			t.Fatalf("F(2x2, 5x5) output transform: got %v, the Go twin gives %v", oAVX, oGo)
		}
	}
}

// TestWinogradStoreRowsAVX checks the assembly transposition against its
// Go twin in each mode, bit for bit, with NaN, infinities and signed
// zeros among the values and guard values around the rows it writes.
func TestWinogradStoreRowsAVX(t *testing.T) {
	if !winoAVX {
		t.Skip("no AVX")
	}
	r := rand.New(rand.NewPCG(3, 4))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), -1, 1}
	const ow, guard = 37, 5
	for _, out := range []int{4, 3, 2} { // the dispatcher runs the assembly
		for _, mode := range []int{wgStore, wgRelu, wgAccumulate} {
			for _, bias := range []float32{0, float32(math.Copysign(0, -1)), 0.5, -2} {
				var o [wgOut * wgOut][wgLanes]float32
				for i := range o {
					for l := range o[i] {
						o[i][l] = float32(r.NormFloat64())
						if r.IntN(4) == 0 {
							o[i][l] = special[r.IntN(len(special))]
						}
					}
				}
				y := randFloats(r, guard+(out-1)*ow+wgLanes*out+guard)
				yGo := append([]float32(nil), y...)
				winoStoreRowsGo(out, yGo[guard:], ow, &o, bias, mode)
				winoStoreRows(out, y[guard:], ow, &o, bias, mode)
				for i := range y {
					if math.Float32bits(y[i]) != math.Float32bits(yGo[i]) && !(y[i] != y[i] && yGo[i] != yGo[i]) {
						t.Fatalf("%dx%d tiles, mode %d, bias %v: y[%d] = %v, the Go twin gives %v", out, out, mode, bias, i, y[i], yGo[i])
					}
				}
			}
		}
	}
}

// TestWinogradGatherAVX checks the assembly gather against its Go twin.
func TestWinogradGatherAVX(t *testing.T) {
	if !winoAVX {
		t.Skip("no AVX")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, out := range []int{4, 3, 2} { // the dispatcher runs the assembly
		rw := wgReadWidth(out)
		for _, w := range []int{rw, rw + 1, 53} {
			x := randFloats(r, (wgIn-1)*w+rw)
			var dGo, dAVX [wgXi][wgLanes]float32
			winoGatherGo(out, &dGo, x, w)
			winoGather(out, &dAVX, x, w)
			if dGo != dAVX {
				t.Fatalf("tiles %d apart, w %d: got %v, the Go twin gives %v", out, w, dAVX, dGo)
			}
		}
	}
}

// TestPrefetchRows calls the prefetch on the exact span it may name, and
// checks that its bounds check refuses one float more: the assembly
// itself cannot fault (prefetches never do), so the Go side is what keeps
// it to the slice.
func TestPrefetchRows(t *testing.T) {
	x := make([]float32, 2*53+20)
	prefetchRows(x, 53, 3, 20)
	prefetchRows(x, 53, 0, 20)
	prefetchRows(x, 53, 3, 0)
	defer func() {
		if recover() == nil {
			t.Error("prefetchRows accepted a span one float past the slice")
		}
	}()
	prefetchRows(x, 53, 3, 21)
}
