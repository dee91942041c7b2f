package dream

// zoom resamples a CxHxW tensor to CxOHxOW bilinearly the way
// scipy.ndimage.zoom(order=1) does, which the original notebook uses for
// its octave pyramid: output corners map onto input corners, so sample i
// reads input coordinate i*(H-1)/(OH-1). With add, dst += the zoomed src.
func zoom(dst []float32, oh, ow int, src []float32, c, h, w int, add bool) {
	ys, yf := axisWeights(oh, h)
	xs, xf := axisWeights(ow, w)
	for ch := range c {
		in := src[ch*h*w : (ch+1)*h*w]
		out := dst[ch*oh*ow : (ch+1)*oh*ow]
		for i := range oh {
			r0 := in[ys[i]*w : ys[i]*w+w]
			r1 := r0
			if ys[i]+1 < h {
				r1 = in[(ys[i]+1)*w : (ys[i]+2)*w]
			}
			fy := yf[i]
			row := out[i*ow : (i+1)*ow]
			for j := range ow {
				x0 := xs[j]
				x1 := min(x0+1, w-1)
				fx := xf[j]
				top := r0[x0] + fx*(r0[x1]-r0[x0])
				bot := r1[x0] + fx*(r1[x1]-r1[x0])
				if add {
					row[j] += top + fy*(bot-top)
				} else {
					row[j] = top + fy*(bot-top)
				}
			}
		}
	}
}

// axisWeights returns, for each of n output samples along an axis of
// length m, the input index below it and the fraction towards the next.
func axisWeights(n, m int) ([]int, []float32) {
	idx := make([]int, n)
	frac := make([]float32, n)
	if n == 1 || m == 1 {
		return idx, frac
	}
	scale := float64(m-1) / float64(n-1)
	for i := range n {
		pos := float64(i) * scale
		k := min(int(pos), m-1)
		idx[i] = k
		frac[i] = float32(pos - float64(k))
	}
	return idx, frac
}

// zoomSize is scipy's output size for zooming n by factor f: round(n*f).
func zoomSize(n int, f float64) int {
	return max(1, int(float64(n)*f+0.5))
}
