package ops

// Moves between an image row and a row of im2col columns. A stride-2
// convolution's (GoogLeNet's conv1) taps read and write every other
// element of the image; a stride-1 one's backward pass adds rows into it.
// The assembly twins (im2col_amd64.s) move 8 elements per step.

// gather2Go sets dst[i] = src[2*i].
func gather2Go(dst, src []float32) {
	src = src[:2*len(dst)-1]
	for i := range dst {
		dst[i] = src[2*i]
	}
}

// scatterAdd2Go adds weight*src[i] to dst[2*i].
func scatterAdd2Go(dst, src []float32, weight float32) {
	dst = dst[:2*len(src)-1]
	for i, v := range src {
		dst[2*i] += weight * v
	}
}

// axpyGo adds weight*src[i] to dst[i].
func axpyGo(dst, src []float32, weight float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += weight * v
	}
}
