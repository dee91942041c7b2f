//go:build !amd64 || purego

package ops

func winoInputLanes(v []float32, stride int, d, s *[wgXi][wgLanes]float32) {
	winoInputLanesGo(v, stride, d, s)
}

func winoOutputLanes(out int, o *[wgOut * wgOut][wgLanes]float32, s *[wgOut * wgIn][wgLanes]float32, z []float32, stride int) {
	winoOutputLanesGo(out, o, s, z, stride)
}

func winoStoreRows(out int, y []float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int) {
	winoStoreRowsGo(out, y, ow, o, bias, mode)
}

func winoGather(out int, d *[wgXi][wgLanes]float32, x []float32, w int) {
	winoGatherGo(out, d, x, w)
}

// prefetchRows is only a hint (see winograd_amd64.go): Go has no way to
// give it.
func prefetchRows(x []float32, stride, rows, width int) {}
