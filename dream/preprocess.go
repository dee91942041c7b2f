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
func (p Preprocess) Tensor(img image.Image) []float32 {
	src := imageio.NRGBA(img)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	out := make([]float32, 3*w*h)
	p.fill(out, src)
	return out
}

func (p Preprocess) fill(out []float32, src *image.NRGBA) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	plane := w * h
	for y := range h {
		row := src.Pix[y*src.Stride:]
		for x := range w {
			for c := range 3 {
				rgb := c
				if p.BGR {
					rgb = 2 - c
				}
				v := float32(row[4*x+rgb])
				out[c*plane+y*w+x] = (v*p.Scale - p.Mean[c]) / p.Std[c]
			}
		}
	}
}

// Image converts a 1x3xHxW tensor back into pixels, rounding and clipping
// to 0..255; alpha is opaque.
func (p Preprocess) Image(t []float32, w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	plane := w * h
	for y := range h {
		row := img.Pix[y*img.Stride:]
		for x := range w {
			for c := range 3 {
				rgb := c
				if p.BGR {
					rgb = 2 - c
				}
				v := (t[c*plane+y*w+x]*p.Std[c] + p.Mean[c]) / p.Scale
				row[4*x+rgb] = uint8(max(0, min(255, math.Round(float64(v)))))
			}
			row[4*x+3] = 255
		}
	}
	return img
}
