package dream

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/deepdream-go/deepdream/imageio"
)

// Preprocess says how a model wants its input image: channel order, value
// scale and per-channel normalisation. A pixel p (0..255) of channel c, in
// the model's channel order, becomes (p*Scale - Mean[c]) / Std[c].
type Preprocess struct {
	BGR   bool
	Scale float32    // 1 for 0..255 models, 1/255 for 0..1 models
	Mean  [3]float32 // in the model's channel order
	Std   [3]float32 // 1 where the model does not divide
}

// Caffe is the preprocessing of BVLC GoogLeNet and the other Caffe models:
// BGR, 0..255, mean (104, 117, 123) subtracted, no division.
var Caffe = Preprocess{BGR: true, Scale: 1, Mean: [3]float32{104, 117, 123}, Std: [3]float32{1, 1, 1}}

// ImageNet is the preprocessing of the MXNet Gluon and torchvision models:
// RGB scaled to 0..1, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).
var ImageNet = Preprocess{Scale: 1.0 / 255, Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225}}

// String describes p the way the flags spell it.
func (p Preprocess) String() string {
	order := "RGB"
	if p.BGR {
		order = "BGR"
	}
	return fmt.Sprintf("%s, scale %g, mean %g/%g/%g, std %g/%g/%g", order, p.Scale,
		p.Mean[0], p.Mean[1], p.Mean[2], p.Std[0], p.Std[1], p.Std[2])
}

// preprocessJSON is Preprocess as a record and a model's sidecar spell
// it.
type preprocessJSON struct {
	ChannelOrder string      `json:"channel_order"`
	Scale        *float32    `json:"scale"`
	Mean         *[3]float32 `json:"mean"`
	Std          *[3]float32 `json:"std"`
}

// MarshalJSON writes p as {"channel_order": "BGR", "scale": 1, "mean":
// [104, 117, 123], "std": [1, 1, 1]}, the keys of a model's sidecar.
func (p Preprocess) MarshalJSON() ([]byte, error) {
	order := "RGB"
	if p.BGR {
		order = "BGR"
	}
	return json.Marshal(preprocessJSON{order, &p.Scale, &p.Mean, &p.Std})
}

// UnmarshalJSON reads what MarshalJSON writes: every key is needed, and
// the numbers must make a finite input (Check).
func (p *Preprocess) UnmarshalJSON(data []byte) error {
	var j preprocessJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	switch {
	case j.ChannelOrder != "RGB" && j.ChannelOrder != "BGR":
		return fmt.Errorf("channel_order %q, want \"RGB\" or \"BGR\"", j.ChannelOrder)
	case j.Scale == nil || j.Mean == nil || j.Std == nil:
		return errors.New("want channel_order, scale, mean and std")
	}
	q := Preprocess{BGR: j.ChannelOrder == "BGR", Scale: *j.Scale, Mean: *j.Mean, Std: *j.Std}
	if err := q.Check(); err != nil {
		return err
	}
	*p = q
	return nil
}

// Check refuses preprocessing that would make the network's input NaN or
// infinite: a scale that is not a positive finite number, a mean or std
// with a value that is not finite, a std with a zero.
func (p Preprocess) Check() error {
	if !(p.Scale > 0 && !math.IsInf(float64(p.Scale), 0)) {
		return fmt.Errorf("scale %g is not a positive finite number", p.Scale)
	}
	for _, v := range []struct {
		name string
		v    [3]float32
	}{{"mean", p.Mean}, {"std", p.Std}} {
		for _, x := range v.v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) || v.name == "std" && x == 0 {
				what := "a value that is not finite"
				if x == 0 {
					what = "a zero"
				}
				return fmt.Errorf("%s %g/%g/%g has %s", v.name, v.v[0], v.v[1], v.v[2], what)
			}
		}
	}
	return nil
}

// Tensor converts img into a 1x3xHxW float32 tensor in the model's layout.
// A 16-bit image (imageio.Depth) keeps its precision: a sample v of
// 0..65535 is the level v/257 of 0..255.
func (p Preprocess) Tensor(img image.Image) []float32 {
	b := img.Bounds()
	out := make([]float32, 3*b.Dx()*b.Dy())
	if imageio.Depth(img) == 16 {
		src := imageio.NRGBA64(img)
		p.fill(out, src.Pix, src.Stride, b.Dx(), b.Dy(), 2)
	} else {
		src := imageio.NRGBA(img)
		p.fill(out, src.Pix, src.Stride, b.Dx(), b.Dy(), 1)
	}
	return out
}

// fill converts the w x h pixels of an NRGBA (n = 1 byte a sample) or
// NRGBA64 (n = 2, big-endian) buffer into out.
func (p Preprocess) fill(out []float32, pix []byte, stride, w, h, n int) {
	plane := w * h
	for y := range h {
		row := pix[y*stride:]
		for x := range w {
			for c := range 3 {
				rgb := c
				if p.BGR {
					rgb = 2 - c
				}
				var v float32
				if i := n * (4*x + rgb); n == 1 {
					v = float32(row[i])
				} else {
					v = float32(uint16(row[i])<<8|uint16(row[i+1])) / 257
				}
				out[c*plane+y*w+x] = (v*p.Scale - p.Mean[c]) / p.Std[c]
			}
		}
	}
}

// Image converts a 1x3xHxW tensor back into pixels, rounding and clipping
// to 0..255; alpha is opaque.
func (p Preprocess) Image(t []float32, w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	p.pixels(img.Pix, img.Stride, t, w, h, 1)
	return img
}

// Image16 is Image at 16 bits a sample: the level v of 0..255 becomes
// v*257, rounded and clipped to 0..65535, so that a dream keeps the
// fractions of a level its steps made.
func (p Preprocess) Image16(t []float32, w, h int) *image.NRGBA64 {
	img := image.NewNRGBA64(image.Rect(0, 0, w, h))
	p.pixels(img.Pix, img.Stride, t, w, h, 2)
	return img
}

// pixels is fill's inverse: it writes the tensor t into an NRGBA (n = 1)
// or NRGBA64 (n = 2) buffer, opaque.
func (p Preprocess) pixels(pix []byte, stride int, t []float32, w, h, n int) {
	plane := w * h
	for y := range h {
		row := pix[y*stride:]
		for x := range w {
			for c := range 3 {
				rgb := c
				if p.BGR {
					rgb = 2 - c
				}
				v := (t[c*plane+y*w+x]*p.Std[c] + p.Mean[c]) / p.Scale
				if i := n * (4*x + rgb); n == 1 {
					row[i] = uint8(max(0, min(255, math.Round(float64(v)))))
				} else {
					s := uint16(max(0, min(65535, math.Round(float64(v)*257))))
					row[i], row[i+1] = uint8(s>>8), uint8(s)
				}
			}
			for i := n * (4*x + 3); i < n*(4*x+4); i++ {
				row[i] = 0xFF
			}
		}
	}
}
