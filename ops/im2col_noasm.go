//go:build !amd64 || purego

package ops

func gather2(dst, src []float32) {
	if len(dst) > 0 {
		gather2Go(dst, src)
	}
}

func scatterAdd2(dst, src []float32, weight float32) {
	if len(src) > 0 {
		scatterAdd2Go(dst, src, weight)
	}
}

func axpy(dst, src []float32, weight float32) { axpyGo(dst, src, weight) }
