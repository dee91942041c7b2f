package flow

import (
	"image"
	"math"
)

// The Middlebury colour coding of flow (Baker et al., "A Database and
// Evaluation Methodology for Optical Flow", IJCV 2011, and its
// flowToColor): the hue is the direction of motion, the saturation its
// length. Right is red, down yellow, left cyan, up blue-violet; no motion
// is white.

// The colour wheel's segments: red to yellow, yellow to green, green to
// cyan, cyan to blue, blue to magenta, magenta to red, in as many steps as
// Middlebury's (55 colours in all), chosen there for perceptual evenness.
const (
	wheelRY = 15
	wheelYG = 6
	wheelGC = 4
	wheelCB = 11
	wheelBM = 13
	wheelMR = 6
)

// wheel is the colour wheel, 0..255 per channel.
var wheel = func() [][3]float32 {
	var w [][3]float32
	ramp := func(n int, f func(t float32) [3]float32) {
		for i := range n {
			w = append(w, f(float32(math.Floor(255*float64(i)/float64(n)))))
		}
	}
	ramp(wheelRY, func(t float32) [3]float32 { return [3]float32{255, t, 0} })
	ramp(wheelYG, func(t float32) [3]float32 { return [3]float32{255 - t, 255, 0} })
	ramp(wheelGC, func(t float32) [3]float32 { return [3]float32{0, 255, t} })
	ramp(wheelCB, func(t float32) [3]float32 { return [3]float32{0, 255 - t, 255} })
	ramp(wheelBM, func(t float32) [3]float32 { return [3]float32{t, 0, 255} })
	ramp(wheelMR, func(t float32) [3]float32 { return [3]float32{255, 0, 255 - t} })
	return w
}()

// Color draws f in the Middlebury colour coding: a motion of maxMotion
// pixels or more has the full colour of its direction, shorter ones are
// paler, towards white for none; longer ones are darkened to 3/4, as
// Middlebury's code marks motions out of range. maxMotion <= 0 takes the
// field's longest motion (as flowToColor does), so that the image uses
// the whole range.
func (f *Field) Color(maxMotion float32) *image.RGBA {
	if !(maxMotion > 0) {
		maxMotion = 0
		for i := 0; i < len(f.D); i += 2 {
			maxMotion = max(maxMotion, float32(math.Hypot(float64(f.D[i]), float64(f.D[i+1]))))
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, f.W, f.H))
	n := len(wheel)
	for i := range f.W * f.H {
		u, v := float64(f.D[2*i]), float64(f.D[2*i+1])
		p := img.Pix[4*i : 4*i+4 : 4*i+4]
		p[3] = 255
		if math.IsNaN(u) || math.IsNaN(v) {
			continue // black: no motion known
		}
		var rad float64
		if maxMotion > 0 {
			rad = math.Hypot(u, v) / float64(maxMotion)
		}
		// The angle from -1 (right, going clockwise) to 1.
		a := math.Atan2(-v, -u) / math.Pi
		fk := (a + 1) / 2 * float64(n-1)
		k0 := int(fk)
		k1 := (k0 + 1) % n
		t := float32(fk - float64(k0))
		for c := range 3 {
			col := ((1-t)*wheel[k0][c] + t*wheel[k1][c]) / 255
			if rad <= 1 {
				col = 1 - float32(rad)*(1-col)
			} else {
				col *= 0.75
			}
			p[c] = uint8(math.Floor(float64(255 * col)))
		}
	}
	return img
}
