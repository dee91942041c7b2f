//go:build !purego

package ops

import (
	"fmt"

	"golang.org/x/sys/cpu"
)

// winoAVX selects the assembly transforms. The purego build runs the Go
// ones everywhere; the tests of winograd_amd64_test.go compare the two.
var winoAVX = cpu.X86.HasAVX

// winoAVX2 selects the assembly of F(3x3, 4x4)'s gather and store, which
// permute across 128-bit lanes (VPERMPS).
var winoAVX2 = cpu.X86.HasAVX2

//go:noescape
func winoInputAVX(v *float32, stride int, d, s *[wgXi][wgLanes]float32)

//go:noescape
func winoOutputAVX(o *[wgOut * wgOut][wgLanes]float32, s *[wgOut * wgIn][wgLanes]float32, z *float32, stride int, out int)

//go:noescape
func winoStoreRowsAVX(y *float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int)

//go:noescape
func winoGatherAVX(d *[wgXi][wgLanes]float32, x *float32, w int)

//go:noescape
func winoStoreRows2AVX(y *float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int)

//go:noescape
func winoGather3AVX2(d *[wgXi][wgLanes]float32, x *float32, w int)

//go:noescape
func winoStoreRows3AVX2(y *float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int)

//go:noescape
func winoGather2AVX(d *[wgXi][wgLanes]float32, x *float32, w int)

//go:noescape
func prefetchRowsAsm(x *float32, stride int, rows int, bytes int)

// prefetchRows asks for rows rows of width floats, stride apart, from x
// to be brought into cache: a hint, which changes no value (the Go twin,
// in winograd_noasm.go, does nothing).
func prefetchRows(x []float32, stride, rows, width int) {
	if rows <= 0 || width <= 0 {
		return
	}
	// A length test, not x[last]: that would read the element, which
	// another core may be writing (the race detector would say so).
	if n := (rows-1)*stride + width; len(x) < n {
		panic(fmt.Sprintf("ops: prefetch of %d floats from a slice of %d", n, len(x)))
	}
	prefetchRowsAsm(&x[0], stride, rows, 4*width)
}

// The bounds checks cover the planes the assembly reads or writes.

func winoInputLanes(v []float32, stride int, d, s *[wgXi][wgLanes]float32) {
	if !winoAVX {
		winoInputLanesGo(v, stride, d, s)
		return
	}
	_ = v[(wgXi-1)*stride+wgLanes-1]
	winoInputAVX(&v[0], stride, d, s)
}

func winoOutputLanes(out int, o *[wgOut * wgOut][wgLanes]float32, s *[wgOut * wgIn][wgLanes]float32, z []float32, stride int) {
	if !winoAVX {
		winoOutputLanesGo(out, o, s, z, stride)
		return
	}
	_ = z[(wgXi-1)*stride+wgLanes-1]
	winoOutputAVX(o, s, &z[0], stride, out)
}

func winoStoreRows(out int, y []float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int) {
	if !winoAVX || out == 3 && !winoAVX2 {
		winoStoreRowsGo(out, y, ow, o, bias, mode)
		return
	}
	_ = y[(out-1)*ow+wgLanes*out-1]
	switch out {
	case wgOut:
		winoStoreRowsAVX(&y[0], ow, o, bias, mode)
	case 3:
		winoStoreRows3AVX2(&y[0], ow, o, bias, mode)
	default:
		winoStoreRows2AVX(&y[0], ow, o, bias, mode)
	}
}

// The assembly reads wgReadWidth(out) floats of each row.
func winoGather(out int, d *[wgXi][wgLanes]float32, x []float32, w int) {
	if !winoAVX || out == 3 && !winoAVX2 || len(x) < (wgIn-1)*w+wgReadWidth(out) {
		winoGatherGo(out, d, x, w)
		return
	}
	switch out {
	case wgOut:
		winoGatherAVX(d, &x[0], w)
	case 3:
		winoGather3AVX2(d, &x[0], w)
	default:
		winoGather2AVX(d, &x[0], w)
	}
}
