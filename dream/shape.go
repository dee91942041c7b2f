package dream

import (
	"math"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// Shaping the gradient before the step: Laplacian-pyramid normalisation
// (Request.Laplacian) and Gaussian smoothing (Request.Smooth). Both work
// on c planes of h x w in place, with buffers made once per octave, and
// run their passes on all cores.

// lapKernel is the binomial filter of the TensorFlow tutorial's
// lap_split, [1 4 6 4 1]/16 on each axis.
var lapKernel = [5]float32{1.0 / 16, 4.0 / 16, 6.0 / 16, 4.0 / 16, 1.0 / 16}

// laplacian normalises c planes of h x w by their Laplacian pyramid, as
// the TensorFlow DeepDream tutorial's lap_normalize: the planes are split
// into n bands of detail, each half the size of the one before, and what
// is left; each is divided by its root mean square (over the c planes);
// the bands are merged back. lap_split's blur is a 5x5 binomial
// convolution with stride 2 and TensorFlow's SAME padding, and its
// upsampling the transposed convolution with 4 times the kernel.
type laplacian struct {
	c      int
	levels []level // levels[0] is the planes themselves; n+1 in all
	tmp    []float32
	sums   [sumBlocks]float64
}

// level is one size of a pyramid, with its data (c planes of h x w).
type level struct {
	h, w int
	data []float32
}

func newLaplacian(c, h, w, n int) *laplacian {
	l := &laplacian{c: c, levels: []level{{h: h, w: w}}}
	for range n {
		h, w = (h+1)/2, (w+1)/2
		l.levels = append(l.levels, level{h, w, make([]float32, c*h*w)})
	}
	l.tmp = make([]float32, c*l.levels[0].h*l.levels[min(1, n)].w)
	return l
}

// normalize normalises x (c planes of the pyramid's size) in place.
func (l *laplacian) normalize(x []float32) {
	l.split(x)
	for _, lv := range l.levels {
		rms := math.Sqrt(sumSquares(lv.data, nil, 0, nil, false, &l.sums) / float64(len(lv.data)))
		scale := float32(1 / max(rms, 1e-10))
		for i := range lv.data {
			lv.data[i] *= scale
		}
	}
	l.merge()
}

// split makes x the finest level of the pyramid and splits it: each level
// but the last keeps its detail, the last what is left.
func (l *laplacian) split(x []float32) {
	l.levels[0].data = x
	for i := range len(l.levels) - 1 { // level i+1 is i blurred and halved; i keeps the detail
		f, c := l.levels[i], l.levels[i+1]
		l.down(c, f)
		l.up(f, c, -1)
	}
}

// merge undoes split into the x it was given.
func (l *laplacian) merge() {
	for i := len(l.levels) - 2; i >= 0; i-- {
		l.up(l.levels[i], l.levels[i+1], 1)
	}
	l.levels[0].data = nil
}

// down writes into c the level f blurred and halved: rows, then columns.
func (l *laplacian) down(c, f level) {
	tmp := l.tmp[:l.c*f.h*c.w]
	lapTasks.For(l.c*f.h, 8, lapTask{dst: tmp, src: f.data, n: f.w, m: c.w, alongX: true})
	lapTasks.For(l.c*c.h, 8, lapTask{dst: c.data, src: tmp, n: f.h, m: c.h, w: c.w, alongX: false})
}

// up adds sign times c, upsampled to f's size, to f: columns, then rows.
func (l *laplacian) up(f, c level, sign float32) {
	tmp := l.tmp[:l.c*f.h*c.w]
	lapTasks.For(l.c*f.h, 8, lapTask{dst: tmp, src: c.data, n: f.h, m: c.h, w: c.w, alongX: false, upsample: true})
	lapTasks.For(l.c*f.h, 8, lapTask{dst: f.data, src: tmp, n: f.w, m: c.w, alongX: true, upsample: true, sign: sign})
}

// pad is TensorFlow's SAME padding before the first sample of a stride-2,
// 5-tap convolution of an axis of n samples.
func pad(n int) int {
	m := (n + 1) / 2
	return max((m-1)*2+5-n, 0) / 2
}

// lapTask runs lap_split's filter along one axis over rows [lo, hi) of
// its output: along x each row is one row of the planes (n samples
// wide in the fine level, m in the coarse one); along y each row is one
// row of w samples of the c planes, n rows high in the fine level, m in
// the coarse one. Downsampling, fine -> coarse: out[j] = sum k[a]
// in[2j+a-pad]. Upsampling, coarse -> fine (its transpose, times 2 per
// axis): out[i] = 2 sum k[a] in[j] over 2j+a-pad = i; with sign != 0 it
// is added to out, times sign.
type lapTask struct {
	dst, src []float32
	n, m, w  int
	alongX   bool
	upsample bool
	sign     float32
}

var lapTasks parallel.Tasks[lapTask, *lapTask]

func (t *lapTask) Run(lo, hi int) {
	p := pad(t.n)
	for r := lo; r < hi; r++ {
		switch {
		case t.alongX && !t.upsample:
			downRow(t.dst[r*t.m:][:t.m], t.src[r*t.n:][:t.n], p)
		case t.alongX:
			upRow(t.dst[r*t.n:][:t.n], t.src[r*t.m:][:t.m], p, t.sign)
		case !t.upsample: // along y: output row j of plane ch
			ch, j := r/t.m, r%t.m
			out := t.dst[r*t.w:][:t.w]
			clear(out)
			for a, k := range lapKernel {
				if i := 2*j + a - p; i >= 0 && i < t.n {
					in := t.src[(ch*t.n+i)*t.w:][:t.w]
					for x, v := range in {
						out[x] += k * v
					}
				}
			}
		default: // upsampling along y: output row i of plane ch
			ch, i := r/t.n, r%t.n
			out := t.dst[r*t.w:][:t.w]
			clear(out)
			for j := max(0, (i+p-3)/2); j <= (i+p)/2 && j < t.m; j++ {
				if a := i + p - 2*j; a >= 0 && a < 5 {
					k := 2 * lapKernel[a]
					in := t.src[(ch*t.m+j)*t.w:][:t.w]
					for x, v := range in {
						out[x] += k * v
					}
				}
			}
		}
	}
}

// downRow writes into out the row in blurred and halved (see lapTask):
// the samples whose taps all fall inside in first, then the edges.
func downRow(out, in []float32, p int) {
	k0, k1, k2 := lapKernel[0], lapKernel[1], lapKernel[2]
	lo, hi := (p+1)/2, (len(in)-5+p)/2 // j with 0 <= 2j-p and 2j-p+4 < len(in)
	for j := max(lo, 0); j <= hi && j < len(out); j++ {
		x := in[2*j-p:][:5]
		out[j] = k0*(x[0]+x[4]) + k1*(x[1]+x[3]) + k2*x[2]
	}
	for j := range out {
		if j >= lo && j <= hi {
			continue
		}
		s := float32(0)
		for a, k := range lapKernel {
			if i := 2*j + a - p; i >= 0 && i < len(in) {
				s += k * in[i]
			}
		}
		out[j] = s
	}
}

// upRow adds to out sign times the row in upsampled (see lapTask): out[i]
// takes in[j] with 2 k[i+p-2j], from three samples where i+p is even and
// two where it is odd; the samples whose taps all fall inside in first,
// then the edges.
func upRow(out, in []float32, p int, sign float32) {
	e0, e1, e2 := sign*2*lapKernel[0], sign*2*lapKernel[2], sign*2*lapKernel[4] // even: j = (i+p)/2, -1, -2
	o0, o1 := sign*2*lapKernel[1], sign*2*lapKernel[3]                          // odd: j = (i+p-1)/2, -1
	lo, hi := 4-p, 2*len(in)-2-p                                                // i with every j in in
	for i := max(lo, 0); i <= hi && i < len(out); i++ {
		if j := (i + p) / 2; (i+p)%2 == 0 {
			out[i] += e1*in[j-1] + e0*in[j] + e2*in[j-2]
		} else {
			out[i] += o0*in[j] + o1*in[j-1]
		}
	}
	for i := range out {
		if i >= lo && i <= hi {
			continue
		}
		s := float32(0)
		for j := max(0, (i+p-3)/2); j <= (i+p)/2 && j < len(in); j++ {
			if a := i + p - 2*j; a >= 0 && a < 5 {
				s += 2 * lapKernel[a] * in[j]
			}
		}
		out[i] += sign * s
	}
}

// gaussian blurs c planes of h x w in place with a Gaussian of standard
// deviation sigma pixels, cut at 3 sigma, the planes' edges extended.
type gaussian struct {
	c, h, w int
	kernel  []float32 // taps -r..r, summing to 1
	tmp     []float32
}

func newGaussian(c, h, w int, sigma float64) *gaussian {
	r := int(math.Ceil(3 * sigma))
	k := make([]float32, 2*r+1)
	sum := 0.0
	for i := range k {
		d := float64(i - r)
		sum += math.Exp(-d * d / (2 * sigma * sigma))
	}
	for i := range k {
		d := float64(i - r)
		k[i] = float32(math.Exp(-d*d/(2*sigma*sigma)) / sum)
	}
	return &gaussian{c: c, h: h, w: w, kernel: k, tmp: make([]float32, c*h*w)}
}

// blur blurs x in place: rows into tmp, then columns back into x.
func (g *gaussian) blur(x []float32) {
	blurTasks.For(g.c*g.h, 8, blurTask{g: g, dst: g.tmp, src: x, alongX: true})
	blurTasks.For(g.c*g.h, 8, blurTask{g: g, dst: x, src: g.tmp})
}

// blurTask blurs rows [lo, hi) of the c planes along x, or along y.
type blurTask struct {
	g        *gaussian
	dst, src []float32
	alongX   bool
}

var blurTasks parallel.Tasks[blurTask, *blurTask]

func (t *blurTask) Run(lo, hi int) {
	h, w, k := t.g.h, t.g.w, t.g.kernel
	r := len(k) / 2
	for row := lo; row < hi; row++ {
		out := t.dst[row*w:][:w]
		if t.alongX {
			blurRow(out, t.src[row*w:][:w], k)
			continue
		}
		ch, y := row/h, row%h
		clear(out)
		for i, kv := range k {
			in := t.src[(ch*h+min(max(y+i-r, 0), h-1))*w:][:w]
			for x, v := range in {
				out[x] += kv * v
			}
		}
	}
}

// blurRow writes into out the row in convolved with the kernel k (taps -r
// to r), in's edges extended: the samples whose taps all fall inside
// first, then the edges.
func blurRow(out, in, k []float32) {
	r, w := len(k)/2, len(in)
	for x := r; x < w-r; x++ {
		s := float32(0)
		for i, v := range in[x-r : x+r+1] {
			s += k[i] * v
		}
		out[x] = s
	}
	for x := range out {
		if x >= r && x < w-r {
			continue
		}
		s := float32(0)
		for i, kv := range k {
			s += kv * in[min(max(x+i-r, 0), w-1)]
		}
		out[x] = s
	}
}
