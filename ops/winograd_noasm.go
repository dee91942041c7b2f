//go:build !amd64 || purego

package ops

func winoInputLanes(v []float32, stride int, d, s *[wgXi][wgLanes]float32) {
	winoInputLanesGo(v, stride, d, s)
}

func winoOutputLanes(o *[wgOut * wgOut][wgLanes]float32, s *[wgOut * wgIn][wgLanes]float32, z []float32, stride int) {
	winoOutputLanesGo(o, s, z, stride)
}

func winoStoreRows(y []float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int) {
	winoStoreRowsGo(y, ow, o, bias, mode)
}

func winoGather(d *[wgXi][wgLanes]float32, x []float32, w int) {
	winoGatherGo(d, x, w)
}

func winoOutput2Lanes(o *[wgOut * wgOut][wgLanes]float32, s *[wgOut * wgIn][wgLanes]float32, z []float32, stride int) {
	winoOutput2LanesGo(o, s, z, stride)
}

func winoStoreRows2(y []float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int) {
	winoStoreRows2Go(y, ow, o, bias, mode)
}

func winoGather2(d *[wgXi][wgLanes]float32, x []float32, w int) {
	winoGather2Go(d, x, w)
}

func winoOutput3Lanes(o *[wgOut * wgOut][wgLanes]float32, s *[wgOut * wgIn][wgLanes]float32, z []float32, stride int) {
	winoOutput3LanesGo(o, s, z, stride)
}

func winoStoreRows3(y []float32, ow int, o *[wgOut * wgOut][wgLanes]float32, bias float32, mode int) {
	winoStoreRows3Go(y, ow, o, bias, mode)
}

func winoGather3(d *[wgXi][wgLanes]float32, x []float32, w int) {
	winoGatherStepGo(d, x, w, 3)
}
