package dream

import (
	"fmt"
	"strings"
)

// TooSmallError says that an image is smaller than the network can take
// at the layers of a request: its pools and strided convolutions would
// have nothing left to work on.
type TooSmallError struct {
	Width, Height int    // the image, as it would be dreamed (after MaxSize)
	Min           int    // the shorter side the layers need, in pixels
	Layer         string // the layer that needs it, as the request names it
	Model         string // the model file's name, "" for a model built in memory
}

func (e *TooSmallError) Error() string {
	model := ""
	if e.Model != "" {
		model = ", model " + e.Model
	}
	return fmt.Sprintf("dream: the image is %dx%d, too small to dream: at least %d pixels on the shorter side (layer %s%s)",
		e.Width, e.Height, e.Min, e.Layer, model)
}

// maxMinSide bounds the search of MinSide: no network needs more.
const maxMinSide = 1 << 14

// MinSide returns the smallest square side an image may have for the
// network to compute every layer of obj, and the layer that needs it (by
// its friendly name); 0 if no size up to 16384 will do. Convolutional
// networks take the height and the width independently, so this is also
// the least shorter side of any image.
func (n *Network) MinSide(obj Objective) (side int, layer string) {
	for _, l := range obj {
		one := Objective{l}
		hi := 1
		for !n.fits(hi, hi, one) { // a network that takes a size takes any larger one
			if hi *= 2; hi > maxMinSide {
				return 0, n.friendly(l.Name)
			}
		}
		lo := hi / 2 // does not fit, or 0
		for hi-lo > 1 {
			if mid := (lo + hi) / 2; n.fits(mid, mid, one) {
				hi = mid
			} else {
				lo = mid
			}
		}
		if hi > side {
			side, layer = hi, n.friendly(l.Name)
		}
	}
	return side, layer
}

// checkSize refuses an h x w image the network cannot take at obj's
// layers when its shorter side is what it lacks; other failures are left
// to the engine to explain.
func (n *Network) checkSize(h, w int, obj Objective) error {
	if n.fits(h, w, obj) {
		return nil
	}
	side, layer := n.MinSide(obj)
	if side == 0 || min(h, w) >= side {
		return nil
	}
	return &TooSmallError{Width: w, Height: h, Min: side, Layer: layer, Model: strings.TrimSuffix(where(n.Model), ": ")}
}
