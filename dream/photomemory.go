package dream

import (
	"bytes"
	"image"
	"image/color"
)

// The memory of DreamPhoto, estimated from the files' headers before
// anything is decoded: what the studio admits a job by, and what a job
// sent to the workers of a queue says it needs (queue.Task.Peak), be it
// the studio's or batch --nats's.
//
// DreamPhoto has two stages. First the request's images (a mask, a
// guide) and the photo are decoded (imageio.DecodeInfo: a copy of the
// file, the decoder's image, its NRGBA copy, the upright copy, the alpha
// channel), the guide runs forward once, and the photo is brought to its
// dream size. Then the dream makes its octaves one at a time, plans its
// buffers and steps, tiled if the photo is larger than a tile (Estimate
// counts it all: the plan of a window, the octaves, the look), and
// encodes its result. The dream gives the garbage of the first stage back
// to the system before it writes the plan's buffers, so the peak is the
// larger stage, not their sum.
//
// Measured on GoogLeNet, the estimate is 8-11% above a dream's peak RSS
// at 1024x768 and larger (the README has the figures), more for small
// photos and where the decoding is the larger stage: a JPEG's is counted
// as a progressive one's.

// FileHeader is what an image file's header says (image.DecodeConfig),
// and the file's size.
type FileHeader struct {
	Format        string // "jpeg", "png", "gif", "webp"
	Width, Height int
	ColorModel    color.Model
	Bytes         int64
}

// ReadFileHeader reads the header of the image file data.
func ReadFileHeader(data []byte) (FileHeader, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return FileHeader{}, err
	}
	return FileHeader{Format: format, Width: cfg.Width, Height: cfg.Height, ColorModel: cfg.ColorModel, Bytes: int64(len(data))}, nil
}

// decodeBytes bounds the memory of decoding the file
// (imageio.DecodeInfo): the file read again into memory (up to twice its
// size as it grows), the decoder's own image (a progressive JPEG also
// keeps each component's coefficients, an int32 a pixel), then its NRGBA
// copy, the upright copy, and the alpha channel.
func (f FileHeader) decodeBytes() int64 {
	pixels := int64(f.Width) * int64(f.Height)
	native := nativeBytesPerPixel(f.ColorModel)
	if f.Format == "jpeg" {
		native += 4 * min(native, 4) // a byte a component, at 4:4:4
	}
	return 2*f.Bytes + pixels*(native+4+4+1)
}

// nativeBytesPerPixel is the size of a pixel of the image a decoder
// returns for a colour model: the largest of what it may be.
func nativeBytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model:
		return 2
	case color.YCbCrModel: // 4:4:4 at most
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8 // 16-bit RGBA, and anything else
}

// A peak is estimated 5% and 8 MB above what its parts add up to: for
// a pooling's rounding and a photo's aspect ratio, and for the state of
// the plans and of the runtime beside their buffers.
const (
	peakMargin = 1.05
	peakExtra  = 8 << 20
)

// PhotoPeak estimates the memory DreamPhoto takes at its peak to dream
// the photo whose file's header is photo as req asks, at 8 bits a sample,
// the files of req's images (Request.Images, by the names req gives them)
// having the headers images; the files' bytes themselves are not in it.
// An image req names that images lacks is counted as none. The error is
// Estimate's at the photo's dream size (a tile the layers cannot take, a
// photo too small for them).
//
// The images are decoded first, then the photo, then the guide runs
// forward once (Network.Guided): all in the first stage. The dream holds
// each image decoded (NRGBA, 4 bytes a pixel) to its end, and, while it
// makes a mask's pyramid, the mask's plane at its own size and its rows
// resized to the dream's width (4 bytes each).
func (n *Network) PhotoPeak(photo FileHeader, images map[string]FileHeader, req Request) (int64, error) {
	w, h := DreamSize(photo.Width, photo.Height, req.MaxSize)
	pixels := int64(w) * int64(h)
	var decodeImages, holdImages int64
	r := req
	r.Layers = append([]string(nil), req.Layers...) // RenameImages writes the layers' masks' names
	seen := map[string]bool{}
	r.RenameImages(func(key, name string) (string, error) {
		im, ok := images[name]
		if !ok || seen[name] {
			return name, nil
		}
		seen[name] = true
		decodeImages += im.decodeBytes()
		iw, ih := int64(im.Width), int64(im.Height)
		holdImages += 4 * iw * ih
		if ImageRole(key) == "mask" {
			holdImages += 4*iw*ih + 4*max(iw, ih)*int64(w)
		}
		return name, nil
	})
	e, err := n.Estimate(photo.Width, photo.Height, req)
	if err != nil {
		return 0, err
	}
	var guide int64
	if req.Guide != "" {
		// The guide runs forward once, its longer side at the network's
		// input size: at most a square plan of that side, backward
		// included.
		side := max(n.Size())
		if guide, err = n.PlanBytes(side, side, req); err != nil {
			return 0, err
		}
	}
	// The decoding, and the copy at the dream's size (the dream makes
	// each octave when it dreams it).
	decoding := decodeImages + photo.decodeBytes() + 4*pixels + guide
	dreaming := e.Bytes + holdImages
	// The result, once the plan has gone, with the photo's alpha and its
	// PNG as it grows in a buffer (up to twice its 4 bytes a pixel).
	result := 12*pixels + 4*pixels + 8*pixels + holdImages
	return int64(peakMargin*float64(max(decoding, dreaming, result))) + peakExtra, nil
}
