package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepdream-go/deepdream/internal/gemm"
)

// TestConvEveryKernel runs the convolutions of GoogLeNet's stem and of
// inception 3a, 3b and 4a, forward and backward to the input, plain and
// with packed weights, on every GEMM micro-kernel this machine has (not
// only the default, as the rest of the package does), against the float64
// reference. Their channel counts (16, 32, 96, 176 and 288 for the stacked
// 1x1 convolutions, 208) leave every remainder of M by avx2's 6 rows that
// its partial-row kernels take, and its 16 columns fit twice in the 7x5
// maps, leaving 3 for a partial tile (avx512's 48 only fit partially); 5x5
// windows over them are mostly padding.
func TestConvEveryKernel(t *testing.T) {
	pad := func(n int) [4]int { return [4]int{n, n, n, n} }
	const h, w = 7, 5
	cases := []ConvParams{
		conv(1, 3, 2*h, 2*w, 64, 7, 7, 1, 2, 1, pad(3)), // conv1/7x7_s2
		conv(1, 64, h, w, 64, 1, 1, 1, 1, 1, pad(0)),    // conv2/3x3_reduce
		conv(1, 64, h, w, 192, 3, 3, 1, 1, 1, pad(1)),   // conv2/3x3
		conv(1, 192, h, w, 176, 1, 1, 1, 1, 1, pad(0)),  // inception_3a's 1x1s, stacked
		conv(1, 96, h, w, 128, 3, 3, 1, 1, 1, pad(1)),   // inception_3a/3x3
		conv(1, 16, h, w, 32, 5, 5, 1, 1, 1, pad(2)),    // inception_3a/5x5
		conv(1, 192, h, w, 32, 1, 1, 1, 1, 1, pad(0)),   // inception_3a/pool_proj
		conv(1, 256, h, w, 288, 1, 1, 1, 1, 1, pad(0)),  // inception_3b's 1x1s, stacked
		conv(1, 128, h, w, 192, 3, 3, 1, 1, 1, pad(1)),  // inception_3b/3x3
		conv(1, 32, h, w, 96, 5, 5, 1, 1, 1, pad(2)),    // inception_3b/5x5
		conv(1, 256, h, w, 64, 1, 1, 1, 1, 1, pad(0)),   // inception_3b/pool_proj
		conv(1, 96, h, w, 208, 3, 3, 1, 1, 1, pad(1)),   // inception_4a/3x3
		conv(1, 16, h, w, 48, 5, 5, 1, 1, 1, pad(2)),    // inception_4a/5x5
	}
	r := rand.New(rand.NewPCG(11, 12))
	for _, p := range cases {
		x := randFloats(r, p.N*p.C*p.H*p.W)
		wt := randFloats(r, p.M*p.C/p.Group*p.KH*p.KW)
		b := randFloats(r, p.M)
		dy := randFloats(r, p.N*p.M*p.OutH()*p.OutW())
		want, ymag, wantDx, dxmag := naiveConv(x, wt, b, dy, &p)
		for _, kn := range gemm.Available() {
			p := p
			p.Kernel = kn
			name := fmt.Sprintf("%s: %dx%dx%d -> %d, %dx%d", kn.Name(), p.C, p.H, p.W, p.M, p.KH, p.KW)
			scratch := make([]float32, ConvScratchSize(&p))
			y := make([]float32, len(want))
			Conv(y, x, wt, b, scratch, &p)
			compare(t, name+": y", y, nil, want, ymag)
			dx := make([]float32, len(x))
			ConvBackwardInput(dx, dy, wt, scratch, &p, false)
			compare(t, name+": dx", dx, nil, wantDx, dxmag)

			f := NewConvFilter(wt, b, &p)
			ConvPacked(y, x, f, scratch, &p)
			compare(t, name+": packed y", y, nil, want, ymag)
			for i := range dx {
				dx[i] = float32(math.NaN())
			}
			ConvPackedBackwardInput(dx, dy, f, scratch, &p, false)
			compare(t, name+": packed dx", dx, nil, wantDx, dxmag)
		}
	}
}
