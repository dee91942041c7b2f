package ops

import (
	"math"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// Interpolation is how Resize computes an output from the input around its
// source coordinate along one axis.
type Interpolation int

const (
	Nearest Interpolation = iota // the nearest input (see NearestMode)
	Linear                       // the two neighbours, linearly
	Cubic                        // the four neighbours, cubic convolution (Keys, coefficient CubicA)
)

// CoordinateMode maps an output index to a source coordinate in the input
// (ONNX Resize's coordinate_transformation_mode). With scale the ratio of
// output to input length, in the input length and out the output's,
// length = scale*in (which equals out when the output size was given):
type CoordinateMode int

const (
	HalfPixel          CoordinateMode = iota // (x + 0.5)/scale - 0.5
	HalfPixelSymmetric                       // half_pixel, centred: offset + (x + 0.5)/scale - 0.5, offset = in/2 * (1 - out/length)
	PytorchHalfPixel                         // half_pixel, but 0 when length <= 1
	AlignCorners                             // x * (in - 1)/(length - 1), 0 when length == 1
	Asymmetric                               // x/scale
	TFHalfPixelForNN                         // (x + 0.5)/scale
	TFCropAndResize                          // the region [start, end] of Sampling.ROI, in [0, 1] of in - 1
)

// NearestMode rounds a source coordinate to an index for Nearest
// (ONNX nearest_mode); a whole coordinate is its own index in every mode.
type NearestMode int

const (
	RoundPreferFloor NearestMode = iota // halves round down
	RoundPreferCeil                     // halves round up
	Floor
	Ceil
)

// Sampling says how one axis of a Resize samples its input.
type Sampling struct {
	Mode        Interpolation
	Coordinates CoordinateMode
	Nearest     NearestMode
	// CubicA is the cubic kernel's coefficient (-0.75 in ONNX, -0.5 in
	// some libraries); ExcludeOutside gives taps outside the input weight
	// 0 and renormalizes the others, instead of repeating the edge.
	CubicA         float64
	ExcludeOutside bool
	// ROI is the region of TFCropAndResize: start and end along the axis,
	// as fractions of in - 1. Outputs whose source lies outside the input
	// take the extrapolation value instead.
	ROI [2]float64
}

// ResampleAxis lists, for each output index o along one axis, the input
// indices it reads and their weights, in compressed rows:
// Index[Start[o]:Start[o+1]] and Weight[Start[o]:Start[o+1]]. Outside[o]
// (nil: none) marks outputs that read nothing and take the extrapolation
// value.
type ResampleAxis struct {
	Start   []int32
	Index   []int32
	Weight  []float32
	Outside []bool
	// width is the number of taps of every output when they all have
	// the same (Index[o*width:][:width]), else 0.
	width int
}

// Len is the number of outputs.
func (a *ResampleAxis) Len() int { return len(a.Start) - 1 }

// NewResampleAxis returns the taps of out outputs from in inputs, for a
// scale (output per input length) as the coordinate mapping uses it: the
// scales input, or out/in when the output size was given.
func NewResampleAxis(in, out int, scale float64, s *Sampling) ResampleAxis {
	a := ResampleAxis{Start: make([]int32, 1, out+1)}
	length := scale * float64(in)
	var idx [4]int
	var w [4]float64
	for o := range out {
		x, inside := s.source(o, in, out, scale, length)
		if !inside {
			if a.Outside == nil {
				a.Outside = make([]bool, out)
			}
			a.Outside[o] = true
			a.Start = append(a.Start, int32(len(a.Index)))
			continue
		}
		x0 := math.Floor(x)
		t, base := x-x0, int(x0)
		n := 0
		switch s.Mode {
		case Nearest:
			up := false // round up to base+1
			switch s.Nearest {
			case RoundPreferFloor:
				up = t > 0.5
			case RoundPreferCeil:
				up = t >= 0.5
			case Ceil:
				up = t > 0
			}
			idx[0], w[0], n = base, 1, 1
			if up {
				idx[0]++
			}
		case Linear:
			idx[0], w[0] = base, 1-t
			idx[1], w[1] = base+1, t
			n = 2
		case Cubic:
			c := cubicCoefficients(t, s.CubicA)
			for k := range 4 {
				idx[k], w[k] = base-1+k, c[k]
			}
			n = 4
		}
		if s.ExcludeOutside {
			sum := 0.0
			for k := range n {
				if idx[k] < 0 || idx[k] >= in {
					w[k] = 0
				}
				sum += w[k]
			}
			for k := range n {
				w[k] /= sum
			}
		}
		// Taps beyond the edges repeat the edge. Every output keeps its n
		// taps, zero weights included, so that the rows of taps have one
		// width (see resampleRow).
		for k := range n {
			a.Index = append(a.Index, int32(min(max(idx[k], 0), in-1)))
			a.Weight = append(a.Weight, float32(w[k]))
		}
		a.Start = append(a.Start, int32(len(a.Index)))
	}
	a.setWidth()
	return a
}

// setWidth records the number of taps of every output, if they all have
// the same.
func (a *ResampleAxis) setWidth() {
	a.width = 0
	if a.Len() > 0 {
		a.width = int(a.Start[1] - a.Start[0])
	}
	for o := range a.Len() {
		if int(a.Start[o+1]-a.Start[o]) != a.width {
			a.width = 0
		}
	}
}

// source returns output o's source coordinate, and false when it lies
// outside the input under TFCropAndResize.
func (s *Sampling) source(o, in, out int, scale, length float64) (float64, bool) {
	x := float64(o)
	switch s.Coordinates {
	case HalfPixelSymmetric:
		offset := float64(in) / 2 * (1 - float64(out)/length)
		return offset + (x+0.5)/scale - 0.5, true
	case PytorchHalfPixel:
		if length <= 1 {
			return 0, true
		}
		return (x+0.5)/scale - 0.5, true
	case AlignCorners:
		if length == 1 {
			return 0, true
		}
		return x * float64(in-1) / (length - 1), true
	case Asymmetric:
		return x / scale, true
	case TFHalfPixelForNN:
		return (x + 0.5) / scale, true
	case TFCropAndResize:
		start, end := s.ROI[0], s.ROI[1]
		var src float64
		if length == 1 {
			src = (end - start) * float64(in-1) / 2
		} else {
			src = x * (end - start) * float64(in-1) / (length - 1)
		}
		src += start * float64(in-1)
		return src, src >= 0 && src <= float64(in-1)
	}
	return (x+0.5)/scale - 0.5, true // HalfPixel
}

// cubicCoefficients are the weights of the taps at -1, 0, 1 and 2 from the
// floor of a coordinate t past it (0 <= t < 1), for coefficient a.
func cubicCoefficients(t, a float64) [4]float64 {
	near := func(d float64) float64 { return ((a+2)*d-(a+3))*d*d + 1 }  // |d| <= 1
	far := func(d float64) float64 { return ((a*d-5*a)*d+8*a)*d - 4*a } // 1 < |d| < 2
	return [4]float64{far(t + 1), near(t), near(1 - t), far(2 - t)}
}

// Identity reports whether the axis maps every output to the input of the
// same index, whole: a Resize that leaves this axis alone.
func (a *ResampleAxis) Identity() bool {
	for o := range a.Len() {
		own := float32(0)
		for k := a.Start[o]; k < a.Start[o+1]; k++ {
			switch {
			case a.Index[k] == int32(o):
				own += a.Weight[k]
			case a.Weight[k] != 0:
				return false
			}
		}
		if own != 1 {
			return false
		}
	}
	return true
}

// Transpose returns the transposed taps for in inputs: for each input, the
// outputs that read it and with what weight. It drives the backward pass
// as a gather, which needs no clearing and splits across cores freely.
func (a *ResampleAxis) Transpose(in int) ResampleAxis {
	t := ResampleAxis{Start: make([]int32, in+1), Index: make([]int32, len(a.Index)), Weight: make([]float32, len(a.Weight))}
	for _, i := range a.Index {
		t.Start[i+1]++
	}
	for i := range in {
		t.Start[i+1] += t.Start[i]
	}
	next := append([]int32(nil), t.Start[:in]...)
	for o := range a.Len() {
		for k := a.Start[o]; k < a.Start[o+1]; k++ {
			i := a.Index[k]
			t.Index[next[i]], t.Weight[next[i]] = int32(o), a.Weight[k]
			next[i]++
		}
	}
	t.setWidth()
	return t
}

// ResizeParams describes a Resize of Planes planes x [H x W] to y [Planes
// x OutH x OutW], OutH = Rows.Len() and OutW = Cols.Len(): output (oy, ox)
// is the sum over the taps of Rows at oy and of Cols at ox of the product
// of their weights times x at (row tap, column tap), or Extrapolation
// where Rows or Cols mark the output outside. RowsT and ColsT are the
// transposes of Rows and Cols (ResampleAxis.Transpose), for the backward
// pass.
type ResizeParams struct {
	Planes, H, W  int
	Rows, Cols    ResampleAxis
	RowsT, ColsT  ResampleAxis
	Extrapolation float32
}

// Resize computes y [Planes x OutH x OutW] from x [Planes x H x W]. y must
// not alias x.
func Resize(y, x []float32, p *ResizeParams) {
	resample(y, x, p.Planes, p.H, p.W, &p.Rows, &p.Cols, false, p.Extrapolation)
}

// ResizeBackwardInput: dx = dx + R^T dy if accumulate, else dx = R^T dy,
// R the linear map of Resize: each input gathers the gradients of the
// outputs that read it, times their weights.
func ResizeBackwardInput(dx, dy []float32, p *ResizeParams, accumulate bool) {
	resample(dx, dy, p.Planes, p.Rows.Len(), p.Cols.Len(), &p.RowsT, &p.ColsT, accumulate, 0)
}

// resample sets (or adds into, if accumulate) dst [planes x rows.Len() x
// cols.Len()] the taps of src [planes x h x w], extrapolation where rows
// or cols mark a destination outside.
func resample(dst, src []float32, planes, h, w int, rows, cols *ResampleAxis, accumulate bool, extrapolation float32) {
	oh, ow := rows.Len(), cols.Len()
	grain := max(1, elementwiseGrain/max(1, ow*(len(rows.Index)/max(oh, 1)+1)))
	resampleTasks.For(planes*oh, grain, resampleTask{dst, src, h, w, rows, cols, accumulate, extrapolation})
}

type resampleTask struct {
	dst, src      []float32
	h, w          int
	rows, cols    *ResampleAxis
	accumulate    bool
	extrapolation float32
}

var resampleTasks parallel.Tasks[resampleTask, *resampleTask]

func (t *resampleTask) Run(lo, hi int) {
	oh, ow := t.rows.Len(), t.cols.Len()
	for r := lo; r < hi; r++ {
		plane, o := r/oh, r%oh
		dst := t.dst[r*ow:][:ow]
		if t.rows.Outside != nil && t.rows.Outside[o] {
			for i := range dst {
				dst[i] = t.extrapolation
			}
			continue
		}
		k0, k1 := t.rows.Start[o], t.rows.Start[o+1]
		if k0 == k1 && !t.accumulate {
			clear(dst)
		}
		row := func(k int32) []float32 { return t.src[(plane*t.h+int(t.rows.Index[k]))*t.w:][:t.w] }
		if k1-k0 == 2 && t.cols.width == 2 && !t.accumulate { // no column outside
			bilinearRow(dst, row(k0), row(k0+1), t.rows.Weight[k0], t.rows.Weight[k0+1], t.cols)
			continue
		}
		for k := k0; k < k1; k++ {
			resampleRow(dst, row(k), t.cols, t.rows.Weight[k], t.accumulate || k > k0)
		}
		if t.cols.Outside != nil {
			for i, out := range t.cols.Outside {
				if out {
					dst[i] = t.extrapolation
				}
			}
		}
	}
}

// resampleRow sets (or adds into, if accumulate) dst the taps of cols on
// src, times weight. Tap rows of one width run unrolled: every Resize's
// forward pass (1 nearest, 2 linear, 4 cubic), and the backward pass of
// some.
func resampleRow(dst, src []float32, cols *ResampleAxis, weight float32, accumulate bool) {
	n := len(dst)
	switch cols.width {
	case 1:
		index, w := cols.Index[:n], cols.Weight[:n]
		for o := range dst {
			v := weight * w[o] * src[index[o]]
			if accumulate {
				v += dst[o]
			}
			dst[o] = v
		}
	case 2:
		index, w := cols.Index[:2*n], cols.Weight[:2*n]
		for o := range dst {
			i, t := index[2*o:][:2], w[2*o:][:2]
			v := weight * (t[0]*src[i[0]] + t[1]*src[i[1]])
			if accumulate {
				v += dst[o]
			}
			dst[o] = v
		}
	case 4:
		index, w := cols.Index[:4*n], cols.Weight[:4*n]
		for o := range dst {
			i, t := index[4*o:][:4], w[4*o:][:4]
			v := weight * (t[0]*src[i[0]] + t[1]*src[i[1]] + t[2]*src[i[2]] + t[3]*src[i[3]])
			if accumulate {
				v += dst[o]
			}
			dst[o] = v
		}
	default:
		start, index, w := cols.Start[:n+1], cols.Index, cols.Weight
		for o := range dst {
			s := float32(0)
			for k := start[o]; k < start[o+1]; k++ {
				s += w[k] * src[index[k]]
			}
			v := weight * s
			if accumulate {
				v += dst[o]
			}
			dst[o] = v
		}
	}
}

// bilinearRow sets dst to w0 times the two-tap row of cols on src0 plus w1
// times that on src1: a bilinear forward pass in one sweep of dst, which
// takes half the time of two.
func bilinearRow(dst, src0, src1 []float32, w0, w1 float32, cols *ResampleAxis) {
	n := len(dst)
	index, w := cols.Index[:2*n], cols.Weight[:2*n]
	for o := range dst {
		i, t := index[2*o:][:2], w[2*o:][:2]
		a, b := src0[i[0]], src0[i[1]]
		c, d := src1[i[0]], src1[i[1]]
		dst[o] = w0*(t[0]*a+t[1]*b) + w1*(t[0]*c+t[1]*d)
	}
}
