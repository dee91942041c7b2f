//go:build !purego

package ops

import "golang.org/x/sys/cpu"

// winoAVX selects the assembly transforms; tests turn it off to run the
// Go ones.
var winoAVX = cpu.X86.HasAVX

// winoAVX2 selects the assembly of F(3x3, 4x4)'s gather and store, which
// permute across 128-bit lanes (VPERMPS).
var winoAVX2 = cpu.X86.HasAVX2

//go:noescape
func winoInputAVX(v *float32, stride int, d, s *[wgXi][wgLanes]float32)

//go:noescape
func winoOutputAVX(o *[wgOut * wgOut][wgLanes]float32, s *[wgOut * wgIn][wgLanes]float32, z *float32, stride int)

//go:noescape
func winoStoreRowsAVX(y *float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int)

//go:noescape
func winoGatherAVX(d *[wgXi][wgLanes]float32, x *float32, w int)

//go:noescape
func winoOutput2AVX(o *[wgOut * wgOut][wgLanes]float32, s *[wgOut * wgIn][wgLanes]float32, z *float32, stride int)

//go:noescape
func winoStoreRows2AVX(y *float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int)

//go:noescape
func winoOutput3AVX(o *[wgOut * wgOut][wgLanes]float32, s *[wgOut * wgIn][wgLanes]float32, z *float32, stride int)

//go:noescape
func winoGather3AVX2(d *[wgXi][wgLanes]float32, x *float32, w int)

//go:noescape
func winoStoreRows3AVX2(y *float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int)

//go:noescape
func winoGather2AVX(d *[wgXi][wgLanes]float32, x *float32, w int)

// The bounds checks cover the planes the assembly reads or writes.

func winoInputLanes(v []float32, stride int, d, s *[wgXi][wgLanes]float32) {
	if !winoAVX {
		winoInputLanesGo(v, stride, d, s)
		return
	}
	_ = v[(wgXi-1)*stride+wgLanes-1]
	winoInputAVX(&v[0], stride, d, s)
}

func winoOutputLanes(o *[wgOut * wgOut][wgLanes]float32, s *[wgOut * wgIn][wgLanes]float32, z []float32, stride int) {
	if !winoAVX {
		winoOutputLanesGo(o, s, z, stride)
		return
	}
	_ = z[(wgXi-1)*stride+wgLanes-1]
	winoOutputAVX(o, s, &z[0], stride)
}

func winoStoreRows(y []float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int) {
	if !winoAVX {
		winoStoreRowsGo(y, ow, o, bias, mode)
		return
	}
	_ = y[(wgOut-1)*ow+wgLanes*wgOut-1]
	winoStoreRowsAVX(&y[0], ow, o, bias, mode)
}

// The assembly reads 2 floats past the last row's span, in whole vectors.
func winoGather(d *[wgXi][wgLanes]float32, x []float32, w int) {
	if !winoAVX || len(x) < (wgIn-1)*w+wgSpan+2 {
		winoGatherGo(d, x, w)
		return
	}
	winoGatherAVX(d, &x[0], w)
}

func winoOutput2Lanes(o *[wgOut * wgOut][wgLanes]float32, s *[wgOut * wgIn][wgLanes]float32, z []float32, stride int) {
	if !winoAVX {
		winoOutput2LanesGo(o, s, z, stride)
		return
	}
	_ = z[(wgXi-1)*stride+wgLanes-1]
	winoOutput2AVX(o, s, &z[0], stride)
}

func winoStoreRows2(y []float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int) {
	if !winoAVX {
		winoStoreRows2Go(y, ow, o, bias, mode)
		return
	}
	_ = y[ow+wgLanes*2-1]
	winoStoreRows2AVX(&y[0], ow, o, bias, mode)
}

// The assembly reads no further than the Go twin.
func winoGather2(d *[wgXi][wgLanes]float32, x []float32, w int) {
	if !winoAVX || len(x) < (wgIn-1)*w+wgSpan2 {
		winoGather2Go(d, x, w)
		return
	}
	winoGather2AVX(d, &x[0], w)
}

func winoOutput3Lanes(o *[wgOut * wgOut][wgLanes]float32, s *[wgOut * wgIn][wgLanes]float32, z []float32, stride int) {
	if !winoAVX {
		winoOutput3LanesGo(o, s, z, stride)
		return
	}
	_ = z[(wgXi-1)*stride+wgLanes-1]
	winoOutput3AVX(o, s, &z[0], stride)
}

func winoStoreRows3(y []float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int) {
	if !winoAVX || !winoAVX2 {
		winoStoreRows3Go(y, ow, o, bias, mode)
		return
	}
	_ = y[2*ow+wgLanes*3-1]
	winoStoreRows3AVX2(&y[0], ow, o, bias, mode)
}

// The assembly reads no further than the Go twin.
func winoGather3(d *[wgXi][wgLanes]float32, x []float32, w int) {
	if !winoAVX || !winoAVX2 || len(x) < (wgIn-1)*w+wgRead3 {
		winoGatherStepGo(d, x, w, 3)
		return
	}
	winoGather3AVX2(d, &x[0], w)
}
