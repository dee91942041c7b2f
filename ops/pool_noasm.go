//go:build !amd64 || purego

package ops

func maxPool3x3Band(y []float32, arg []uint8, x []float32, p *PoolParams, bd band3) {
	maxPool3x3BandGo(y, arg, x, p, bd)
}
