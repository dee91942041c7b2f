//go:build !amd64 || purego

package ops

func lrnForwardRow(y, f, x0, x1, x2, x3, x4 []float32, k, bias, beta float32) {
	lrnForwardRowGo(y, f, x0, x1, x2, x3, x4, k, bias, beta)
}

func lrnGradRow(dx, dy, x, f, w0, w1, w2, w3, w4 []float32, k2 float32, set, relu bool) {
	lrnGradRowGo(dx, dy, x, f, w0, w1, w2, w3, w4, k2, set, relu)
}

func lrnFactorRingRow(w, f, dy, x0, x1, x2, x3, x4 []float32, k, bias, beta float32) {
	lrnFactorRingRowGo(w, f, dy, x0, x1, x2, x3, x4, k, bias, beta)
}
