package ops

// A transposed convolution is the input gradient of a convolution, and its
// input gradient that convolution's forward pass: the functions below run
// the convolution's GEMMs (conv.go) the other way round. They take the
// ConvParams p of the convolution they transpose, which maps their output
// to their input:
//
//	x [N x C x H x W]          input:   p.N x p.M x p.OutH() x p.OutW()
//	w [C x M/Group x KH x KW]  weights: p's, [p.M x p.C/p.Group x KH x KW]
//	b [M]                      bias (optional), one per output channel
//	y [N x M x OH x OW]        output:  p.N x p.C x p.H x p.W
//
// Output rows and columns that no tap reaches (ONNX's output_padding) are
// the bias alone.

// ConvTransposeScratchSize is the length of the scratch slice of
// ConvTranspose and ConvTransposeBackwardInput: the convolution's, and
// room for an input gradient to be added into dx.
func ConvTransposeScratchSize(p *ConvParams) int {
	return ConvScratchSize(p) + p.N*p.M*p.OutH()*p.OutW()
}

// ConvTranspose computes y = conv^T(x, w) + b (b may be nil). y must not
// alias x.
func ConvTranspose(y, x, w, b, scratch []float32, p *ConvParams) {
	convTranspose(y, x, w, nil, b, scratch, p)
}

// ConvTransposePacked is ConvTranspose with the weights packed in f
// (NewConvFilter(w, nil, p)).
func ConvTransposePacked(y, x []float32, f *ConvFilter, b, scratch []float32, p *ConvParams) {
	convTranspose(y, x, f.w, f, b, scratch, p)
}

func convTranspose(y, x, w []float32, f *ConvFilter, b, scratch []float32, p *ConvParams) {
	// With a bias, y starts as the bias and the product is added to it.
	if b != nil {
		plane := p.H * p.W
		for i := range p.N * p.C {
			v, yp := b[i%p.C], y[i*plane:][:plane]
			for j := range yp {
				yp[j] = v
			}
		}
	}
	if f != nil {
		ConvPackedBackwardInput(y, x, f, scratch, p, b != nil)
	} else {
		ConvBackwardInput(y, x, w, scratch, p, b != nil)
	}
}

// ConvTransposeBackwardInput: dx = dx + conv(dy, w) if accumulate, else
// dx = conv(dy, w).
func ConvTransposeBackwardInput(dx, dy, w, scratch []float32, p *ConvParams, accumulate bool) {
	convTransposeBackwardInput(dx, dy, w, nil, scratch, p, accumulate)
}

// ConvTransposePackedBackwardInput is ConvTransposeBackwardInput with the
// weights packed in f.
func ConvTransposePackedBackwardInput(dx, dy []float32, f *ConvFilter, scratch []float32, p *ConvParams, accumulate bool) {
	convTransposeBackwardInput(dx, dy, f.w, f, scratch, p, accumulate)
}

func convTransposeBackwardInput(dx, dy, w []float32, f *ConvFilter, scratch []float32, p *ConvParams, accumulate bool) {
	// The convolution's GEMMs set their output: to add, compute into
	// scratch, then add that.
	dst, work := dx, scratch[:ConvScratchSize(p)]
	if accumulate {
		dst = scratch[len(work):][:len(dx)]
	}
	if f != nil {
		ConvPacked(dst, dy, f, work, p)
	} else {
		Conv(dst, dy, w, nil, work, p)
	}
	if accumulate {
		Accumulate(dx, dst)
	}
}
