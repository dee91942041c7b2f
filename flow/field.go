package flow

import (
	"fmt"
	"io"
	"math"

	"github.com/deepdream-go/deepdream/internal/npy"
	"github.com/deepdream-go/deepdream/internal/parallel"
)

// Field is a dense flow: for every pixel (x, y) of the first image, where
// it is in the second: (x+D[2i], y+D[2i+1]), i = y*W+x. D is laid out as
// a C-order H x W x 2 array, OpenCV's and the .npy files' layout.
type Field struct {
	W, H int
	D    []float32
}

// NewField returns a zero w x h field.
func NewField(w, h int) *Field {
	return &Field{W: w, H: h, D: make([]float32, 2*w*h)}
}

// At returns the motion of the pixel (x, y).
func (f *Field) At(x, y int) (dx, dy float32) {
	i := 2 * (y*f.W + x)
	return f.D[i], f.D[i+1]
}

// Warp samples src (planes of channels x H x W float32, e.g. a dream's
// RGB detail) bilinearly along f: dst(x) = src(x + f(x)); samples outside
// are zero; it reports per pixel whether the sample was inside (inside
// may be nil). A sample is inside when x + f(x) lies in [0, W-1] x
// [0, H-1]: it then reads only pixels of src. dst and src must not
// overlap; both hold channels*W*H values, inside W*H.
func (f *Field) Warp(dst, src []float32, channels int, inside []bool) {
	n := f.W * f.H
	if len(dst) < channels*n || len(src) < channels*n || (inside != nil && len(inside) < n) {
		panic(fmt.Sprintf("flow: Warp of a %dx%d field with %d channels: dst has %d values, src %d, inside %d",
			f.W, f.H, channels, len(dst), len(src), len(inside)))
	}
	warpTasks.For(f.H, 8, warpTask{f: f, dst: dst, src: src, channels: channels, inside: inside})
}

type warpTask struct {
	f        *Field
	dst, src []float32
	channels int
	inside   []bool
}

var warpTasks parallel.Tasks[warpTask, *warpTask]

func (t *warpTask) Run(lo, hi int) {
	w, h, n := t.f.W, t.f.H, t.f.W*t.f.H
	xmax, ymax := float32(w-1), float32(h-1)
	for y := lo; y < hi; y++ {
		for x := range w {
			i := y*w + x
			sx, sy := float32(x)+t.f.D[2*i], float32(y)+t.f.D[2*i+1]
			in := sx >= 0 && sx <= xmax && sy >= 0 && sy <= ymax // false for NaN
			if t.inside != nil {
				t.inside[i] = in
			}
			if !in {
				for c := range t.channels {
					t.dst[c*n+i] = 0
				}
				continue
			}
			x0, y0 := int(sx), int(sy)
			x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
			ax, ay := sx-float32(x0), sy-float32(y0)
			i00, i01, i10, i11 := y0*w+x0, y0*w+x1, y1*w+x0, y1*w+x1
			for c := range t.channels {
				p := t.src[c*n : (c+1)*n]
				top := p[i00] + ax*(p[i01]-p[i00])
				bot := p[i10] + ax*(p[i11]-p[i10])
				t.dst[c*n+i] = top + ay*(bot-top)
			}
		}
	}
}

// Consistency thresholds, Sundaram, Brox and Keutzer's (ECCV 2010), as
// Ruder, Dosovitskiy and Brox's artistic style transfer for videos (2016)
// and DeepDreamVideo use them: a pixel is consistent when
// |fwd + bwd|^2 <= consistRel*(|fwd|^2 + |bwd|^2) + consistAbs, bwd taken
// where fwd leads.
const (
	consistRel = 0.01
	consistAbs = 0.5
)

// Consistent marks the pixels where the forward flow fwd (a->b) and the
// backward flow bwd (b->a) agree: |fwd(x) + bwd(x + fwd(x))| small,
// relative to their magnitudes (as DeepDreamVideo and the artistic style
// transfer papers use to find occlusions): |fwd + bwd|^2 <= 0.01
// (|fwd|^2 + |bwd|^2) + 0.5, bwd sampled bilinearly. A pixel that fwd
// takes outside b is not consistent: it is not seen there. mask holds
// W*H values; fwd and bwd must have one size.
func Consistent(fwd, bwd *Field, mask []bool) {
	if fwd.W != bwd.W || fwd.H != bwd.H || len(mask) < fwd.W*fwd.H {
		panic(fmt.Sprintf("flow: Consistent of a %dx%d and a %dx%d field into a mask of %d",
			fwd.W, fwd.H, bwd.W, bwd.H, len(mask)))
	}
	consistentTasks.For(fwd.H, 8, consistentTask{fwd, bwd, mask})
}

type consistentTask struct {
	fwd, bwd *Field
	mask     []bool
}

var consistentTasks parallel.Tasks[consistentTask, *consistentTask]

func (t *consistentTask) Run(lo, hi int) {
	w, h := t.fwd.W, t.fwd.H
	xmax, ymax := float32(w-1), float32(h-1)
	for y := lo; y < hi; y++ {
		for x := range w {
			i := y*w + x
			u, v := t.fwd.D[2*i], t.fwd.D[2*i+1]
			sx, sy := float32(x)+u, float32(y)+v
			if !(sx >= 0 && sx <= xmax && sy >= 0 && sy <= ymax) {
				t.mask[i] = false
				continue
			}
			x0, y0 := int(sx), int(sy)
			x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
			ax, ay := sx-float32(x0), sy-float32(y0)
			b := t.bwd.D
			var back [2]float32
			for c := range back {
				p00, p01 := b[2*(y0*w+x0)+c], b[2*(y0*w+x1)+c]
				p10, p11 := b[2*(y1*w+x0)+c], b[2*(y1*w+x1)+c]
				top := p00 + ax*(p01-p00)
				bot := p10 + ax*(p11-p10)
				back[c] = top + ay*(bot-top)
			}
			du, dv := u+back[0], v+back[1]
			t.mask[i] = du*du+dv*dv <= consistRel*(u*u+v*v+back[0]*back[0]+back[1]*back[1])+consistAbs
		}
	}
}

// WriteNpy writes f as a float32 .npy array of shape H x W x 2 (dx, dy).
func (f *Field) WriteNpy(w io.Writer) error {
	return npy.WriteFloat32(w, []int{f.H, f.W, 2}, f.D)
}

// DecodeField reads a flow from a .npy file's bytes: an H x W x 2 array
// of float32 or float64 (dx, dy), as OpenCV's flows saved by NumPy are.
func DecodeField(data []byte) (*Field, error) {
	a, err := npy.Decode(data)
	if err != nil {
		return nil, err
	}
	if len(a.Shape) != 3 || a.Shape[2] != 2 {
		return nil, fmt.Errorf("flow: an array of shape %v is not a flow: want H x W x 2 (dx, dy)", a.Shape)
	}
	if a.Shape[0] == 0 || a.Shape[1] == 0 {
		return nil, fmt.Errorf("flow: an array of shape %v has no pixels", a.Shape)
	}
	if a.U8 != nil {
		return nil, fmt.Errorf("flow: an array of uint8 is not a flow: want float32 or float64")
	}
	f := &Field{W: a.Shape[1], H: a.Shape[0], D: a.Float32s()}
	for i, v := range f.D {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("flow: the motion of pixel (%d, %d) is %v, not a number of pixels", i/2%f.W, i/2/f.W, v)
		}
	}
	return f, nil
}
