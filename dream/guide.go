package dream

import (
	"context"
	"errors"
	"fmt"
	"image"
	"slices"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/gemm"
)

// Guided dreams: the notebook's objective_guide. Instead of the L2 norm of
// a layer, a guided term maximises, at each position of the layer, the dot
// product of its feature vector with the guide image's feature vector at
// the same layer that matches it best: its gradient there is that guide
// vector (y[:, A.argmax(1)] in the notebook).

// GuideFeatures are a guide image's feature vectors at one layer: the
// layer's chosen channels at each of its positions, channel by channel
// (Channels x Positions, as the layer's tensor lays them out).
type GuideFeatures struct {
	Channels, Positions int
	Data                []float32
}

// guideSize returns the size a w x h guide is dreamed at: its longer side
// scaled to side, the network's input size, its proportions kept, as the
// notebook's guide (a 224x224 photo for GoogLeNet's 224x224 input).
func guideSize(w, h, side int) (int, int) {
	f := float64(side) / float64(max(w, h))
	return max(1, int(float64(w)*f+0.5)), max(1, int(float64(h)*f+0.5))
}

// Guided returns obj with each of its layer terms guided by the image
// guide (its class terms stay as they are): the guide, its longer side
// scaled to the network's input size (Size), is run forward once to the
// layers, and each term keeps the guide's features on its channels. The
// engine options opts are a dream's (Request.Winograd).
func (n *Network) Guided(ctx context.Context, obj Objective, guide image.Image, opts graph.Options) (Objective, error) {
	var layers Objective
	for _, l := range obj {
		if l.Class == nil {
			layers = append(layers, l)
		}
	}
	if len(layers) == 0 {
		return obj, nil
	}
	b := guide.Bounds()
	w, h := guideSize(b.Dx(), b.Dy(), max(n.w, n.h))
	var small *TooSmallError
	if err := n.checkSize(h, w, layers); errors.As(err, &small) {
		return nil, fmt.Errorf("dream: the guide, scaled to %dx%d, is too small for the layers: at least %d pixels on the shorter side (layer %s)", w, h, small.Min, small.Layer)
	}
	p, err := n.Model.Plan(graph.Spec{
		Inputs:  []graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, h, w}}},
		Targets: layers.Targets(),
		Options: opts,
	})
	if err != nil {
		return nil, fmt.Errorf("dream: the guide at %dx%d: %w", w, h, err)
	}
	if err := layers.check(p); err != nil {
		return nil, err
	}
	copy(p.Data(n.Input), n.Preprocess.Tensor(imageio.Resize(guide, w, h)))
	if err := p.Forward(ctx); err != nil {
		return nil, err
	}
	out := slices.Clone(obj)
	for i, l := range out {
		if l.Class != nil {
			continue
		}
		shape := p.Shape(l.Name)
		f := &GuideFeatures{Positions: shape.Size() / (shape[0] * shape[1])}
		f.Data = gather(nil, p.Data(l.Name), shape[1], f.Positions, l.Channels)
		f.Channels = len(f.Data) / f.Positions
		out[i].Guide = f
	}
	return out, nil
}

// gather returns the channels of a (a C x plane tensor, its first image)
// in dst (grown if need be): all of them when channels is empty.
func gather(dst, a []float32, c, plane int, channels []int) []float32 {
	if len(channels) == 0 {
		return append(dst[:0], a[:c*plane]...)
	}
	dst = slices.Grow(dst[:0], len(channels)*plane)
	for _, ch := range channels {
		dst = append(dst, a[ch*plane:(ch+1)*plane]...)
	}
	return dst
}

// guideBlock is how many floats of dot products a guided term computes at
// once: positions of the layer x positions of the guide, 4 MB.
const guideBlock = 1 << 20

// eval returns the guided term on a (the layer's tensor, of this shape,
// its first image, restricted to channels): the sum over its positions of
// the largest dot product with a guide vector, each weighed by the mask
// there (nil: none); and adds w times that weight times the best guide
// vector at each position to g unless g is nil. The dot products are one
// matrix product, a block of positions at a time.
func (f *GuideFeatures) eval(a, g []float32, shape graph.Shape, channels []int, w float32, mask []float32, s *scratch) float64 {
	n, m, c := shape.Size()/(shape[0]*shape[1]), f.Positions, f.Channels
	x := a
	if len(channels) > 0 {
		s.feats = gather(s.feats, a, shape[1], n, channels)
		x = s.feats
	}
	rows := max(1, min(n, guideBlock/m))
	if cap(s.dots) < rows*m {
		s.dots = make([]float32, rows*m)
	}
	dots := s.dots[:rows*m]
	sum := 0.0
	for i0 := 0; i0 < n; i0 += rows {
		nb := min(rows, n-i0)
		// dots[i][j] = x[:, i0+i] . f[:, j]: x^T is stored C x N.
		gemm.Sgemm(true, false, nb, m, c, 1, x[i0:], n, f.Data, m, 0, dots, m)
		for i := range nb {
			row := dots[i*m : (i+1)*m]
			best := 0
			for j, v := range row {
				if v > row[best] {
					best = j
				}
			}
			mv := float32(1)
			if mask != nil {
				mv = mask[i0+i]
			}
			sum += float64(mv) * float64(row[best])
			if g == nil {
				continue
			}
			for k := range c {
				ch := k
				if len(channels) > 0 {
					ch = channels[k]
				}
				g[ch*n+i0+i] += w * mv * f.Data[k*m+best]
			}
		}
	}
	return sum
}
