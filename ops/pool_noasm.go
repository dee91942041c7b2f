//go:build !amd64 || purego

package ops

func maxPool3x3Band(y []float32, arg []uint8, x []float32, p *PoolParams, bd band3) {
	maxPool3x3BandGo(y, arg, x, p, bd)
}

func maxPool3x3BackwardPlane(dx, dy []float32, arg []uint8, offsets *[MaxPoolArgTaps]int, p *PoolParams, set bool) {
	if set {
		clear(dx)
	}
	maxPoolBackwardPlane(dx, dy, arg, offsets, p)
}

func noTapUnlessPositive(y []float32, arg []uint8) { noTapUnlessPositiveGo(y, arg) }
