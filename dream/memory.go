package dream

import "fmt"

// PlanBytes returns the bytes of the buffers Dream plans for req at an
// image of w x h, its largest octave (the smaller octaves' plans fit in
// the same memory): activations, gradients, the image's input and
// scratch, lent by one graph.Memory. It plans without allocating
// (graph.Model.EstimateMemory), so it is cheap at any size. A plan's
// buffers grow about linearly with the pixels of its input, but for
// buffers of fixed size (scratch): two sizes predict a larger one.
func (n *Network) PlanBytes(w, h int, req Request) (int64, error) {
	obj, err := n.Resolve(&req)
	if err != nil {
		return 0, err
	}
	est, err := n.Model.EstimateMemory(n.stepSpec(h, w, obj, nil, req.engine()))
	if err != nil {
		return 0, fmt.Errorf("dream: %dx%d: %w", w, h, err)
	}
	return est.Bytes(), nil
}

// PyramidBytes bounds the bytes of the images Dream keeps besides its plan
// when it dreams a w x h image as req asks (w x h after MaxSize): the
// octave pyramid, 3 float32s a pixel per octave, all made before the
// first step; the copy of an octave the loop dreams in and the detail it
// carries up, each at most the second octave's size; and the result as
// 8-bit RGBA.
func PyramidBytes(w, h int, req Request) int64 {
	pixels := float64(w) * float64(h)
	octave := 1.0 // pixels of an octave, relative to the first
	sum := 0.0
	for range req.Octaves {
		sum += octave
		octave /= req.OctaveScale * req.OctaveScale
	}
	if req.Octaves > 1 {
		sum += 2 / (req.OctaveScale * req.OctaveScale)
	}
	return int64(12*pixels*sum + 4*pixels)
}

// LookBytes bounds the bytes Dream keeps for what req asks beyond the
// notebook's step, besides its plan and PyramidBytes, when it dreams a
// w x h image (w x h after MaxSize):
//   - the shaped gradient (keep colors, Laplacian, smooth), its Laplacian
//     pyramid and its blur, which each octave makes at its own size
//     (setLook; the previous octave's are garbage by then): the largest
//     octave's, some 34 bytes a pixel with the three on;
//   - each mask's pyramid (Mask, the layers' @MASK: once per image), made
//     for every octave before the first step (octaveLooks), 4 bytes a
//     pixel of each octave;
//   - the layers' gradient a step keeps while it balances classes against
//     them (Stepper.balance), 12 bytes a pixel;
//   - a guided term's block of dot products (guideBlock).
//
// The images themselves (Request.Images), a mask's plane at its own size
// while it is resized, and the guide's forward pass and features are the
// caller's to count.
func LookBytes(w, h int, req Request) int64 {
	pixels := int64(w) * int64(h)
	c := int64(3)
	if req.KeepColors {
		c = 1 // the gradient of the luminance
	}
	var n int64
	if req.KeepColors || req.Laplacian > 0 || req.Smooth > 0 {
		n += 4 * c * pixels // the shaped gradient
	}
	if req.Laplacian > 0 {
		lh, lw := h, w
		for range req.Laplacian {
			lh, lw = (lh+1)/2, (lw+1)/2
			n += 4 * c * int64(lh) * int64(lw)
		}
		n += 4 * c * int64(h) * int64((w+1)/2) // its scratch
	}
	if req.Smooth > 0 {
		n += 4 * c * pixels
	}
	masks := map[string]bool{}
	r := req
	r.Layers = append([]string(nil), req.Layers...)
	r.RenameImages(func(key, name string) (string, error) {
		if ImageRole(key) == "mask" {
			masks[name] = true
		}
		return name, nil
	})
	for range masks {
		oh, ow := h, w
		for k := range req.Octaves {
			if k > 0 {
				oh, ow = zoomSize(oh, 1/req.OctaveScale), zoomSize(ow, 1/req.OctaveScale)
			}
			n += 4 * int64(oh) * int64(ow)
		}
	}
	if len(req.Classes) > 0 && (len(req.Layers) > 0 || req.Guide != "") {
		n += 12 * pixels
	}
	if req.Guide != "" {
		n += 4 * guideBlock
	}
	return n
}
