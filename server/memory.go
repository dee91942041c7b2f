package server

import (
	"fmt"
	"image/color"
	"net/http"
	"slices"
	"strings"

	"github.com/deepdream-go/deepdream/dream"
)

// The memory of a dream, estimated before it is queued so that the studio
// never starts more than its budget (Config.MaxMemory) holds.
//
// A dream has two stages. First the request's images (a mask, a guide)
// and the photo are decoded (imageio.DecodeInfo: a copy of the file, the
// decoder's image, its NRGBA copy, the upright copy, the alpha channel),
// the guide runs forward once, and the photo is brought to its dream size.
// Then the dream makes its octaves one at a time, plans its buffers and
// steps, tiled if the photo is larger than a tile (dream.Network.Estimate
// counts it all: the plan of a window, the octaves, the look), and
// encodes its result. Dream gives the garbage of the first stage back to
// the system before it writes the plan's buffers, so the peak is the
// larger stage, not their sum. Beside it the files' bytes are held from
// the upload to the job's end.
//
// Measured on GoogLeNet, the estimate is 8-11% above a dream's peak RSS
// at 1024x768 and larger (the README has the figures), more for small
// photos and where the decoding is the larger stage: a JPEG's is counted
// as a progressive one's.

// planFit is a plan's bytes as a linear function of its input's pixels,
// fitted on two plans at 2 and 4 times the network's input size (estimated
// without allocating, dream.PlanBytes): the buffers of a convolutional
// network grow with its input's pixels, but for buffers of fixed size
// (scratch), which a fit at smaller sizes would count as growing.
type planFit struct {
	base, perPixel float64
}

func (f planFit) bytes(w, h int) int64 {
	return int64(f.base + f.perPixel*float64(w)*float64(h))
}

// A job's peak is estimated 5% and 8 MB above what its parts add up to:
// for the fit's error between its sizes and a photo's aspect ratio (a
// pooling's rounding, under 2% on GoogLeNet), and for the state of the
// plans and of the runtime beside their buffers.
const (
	peakMargin = 1.05
	peakExtra  = 8 << 20
)

// fitPlan returns the fit of m's plans for the layers and engine of req,
// made once per model, layers and engine.
func (m *Model) fitPlan(net *dream.Network, req dream.Request) (planFit, error) {
	obj, err := net.Resolve(&req)
	if err != nil {
		return planFit{}, err
	}
	targets := obj.Targets()
	slices.Sort(targets)
	key := fmt.Sprintf("%v %s", req.Winograd, strings.Join(targets, "\x00"))
	m.fitMu.Lock()
	defer m.fitMu.Unlock()
	if f, ok := m.fits[key]; ok {
		return f, nil
	}
	w, h := net.Size()
	w, h = 2*w, 2*h
	small, err := net.PlanBytes(w, h, req)
	if err != nil {
		return planFit{}, err
	}
	large, err := net.PlanBytes(2*w, 2*h, req)
	if err != nil {
		return planFit{}, err
	}
	perPixel := float64(large-small) / float64(3*w*h)
	f := planFit{base: float64(small) - perPixel*float64(w*h), perPixel: perPixel}
	if m.fits == nil {
		m.fits = map[string]planFit{}
	}
	m.fits[key] = f
	return f, nil
}

// photoHeader is what the studio knows of a photo before decoding it.
type photoHeader struct {
	format        string // "jpeg", "png", "gif", "webp"
	width, height int
	model         color.Model
	fileBytes     int64
}

// decodeBytes bounds the memory of decoding the photo (imageio.DecodeInfo):
// the file read again into memory (up to twice its size as it grows), the
// decoder's own image (a progressive JPEG also keeps each component's
// coefficients, an int32 a pixel), then its NRGBA copy, the upright copy,
// and the alpha channel.
func (p photoHeader) decodeBytes() int64 {
	pixels := int64(p.width) * int64(p.height)
	native := nativeBytesPerPixel(p.model)
	if p.format == "jpeg" {
		native += 4 * min(native, 4) // a byte a component, at 4:4:4
	}
	return 2*p.fileBytes + pixels*(native+4+4+1)
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

// dreamMemory is what a job's memory is estimated from: its files'
// headers, the fit of its plans, and the guide's forward pass.
type dreamMemory struct {
	photo  photoHeader
	images []*upload // the request's images, their headers read
	fit    planFit
	guide  int64 // the bytes of the guide's forward pass; 0 without a guide
	// estimate, if not nil, is the dream's own estimate at a size
	// (dream.Network.Estimate: tiled as the job will be, the octaves, the
	// look), in place of the untiled fit's.
	estimate func(w, h int, req dream.Request) (dream.Estimate, error)
}

// fileBytes are the bytes of the files uploaded, held from the upload to
// the job's end.
func (m dreamMemory) fileBytes() int64 {
	n := m.photo.fileBytes
	for _, u := range m.images {
		n += u.header.fileBytes
	}
	return n
}

// peak estimates the memory a job takes while it runs, beyond its files'
// bytes, which the queue counts from the submission on.
//
// The request's images are decoded first, then the photo, then the guide
// runs forward once (Network.Guided): all in the first stage. The dream
// holds each image decoded (NRGBA, 4 bytes a pixel) to its end, and, while
// it makes a mask's pyramid, the mask's plane at its own size and its rows
// resized to the dream's width (4 bytes each); the look's buffers
// (dream.LookBytes) are the second stage's, whose peak is the smaller
// octaves', the largest's or the result's.
func (m dreamMemory) peak(req dream.Request) int64 {
	w, h := dream.DreamSize(m.photo.width, m.photo.height, req.MaxSize)
	pixels := int64(w) * int64(h)
	pyramid := dream.PyramidBytes(w, h, req)
	var decodeImages, holdImages int64
	for _, u := range m.images {
		decodeImages += u.header.decodeBytes()
		iw, ih := int64(u.header.width), int64(u.header.height)
		holdImages += 4 * iw * ih
		if dream.ImageRole(u.key) == "mask" {
			holdImages += 4*iw*ih + 4*max(iw, ih)*int64(w)
		}
	}
	// The decoding and the copy at the dream's size (the dream makes each
	// octave when it dreams it).
	decoding := decodeImages + m.photo.decodeBytes() + 4*pixels + m.guide
	look := dream.LookBytes(w, h, req) + holdImages
	// The smaller octaves: the pyramid beside the plans of the smaller
	// octaves, which take at most the second octave's part of the plan's
	// memory.
	sw, sh := int(float64(w)/req.OctaveScale), int(float64(h)/req.OctaveScale)
	smaller := m.fit.bytes(sw, sh) + pyramid + look
	// The largest octave: its plan and its image, which it dreams in place
	// (the smaller octaves and the detail are let go before it).
	largest := m.fit.bytes(w, h) + 12*pixels + look
	// A dream the estimate counts (tiled as the job will be: the plan of a
	// window, the octaves, the look) has its peak instead.
	if m.estimate != nil {
		if e, err := m.estimate(w, h, req); err == nil {
			smaller, largest = 0, e.Bytes+holdImages
		}
	}
	// The result, once the plan has gone, with the photo's alpha and its
	// PNG as it grows in a buffer (up to twice its 4 bytes a pixel).
	result := 12*pixels + 4*pixels + 8*pixels + holdImages
	return int64(peakMargin*float64(max(decoding, smaller, largest, result))) + peakExtra
}

// admit checks that a job of these files and request can ever run within
// the budget, and returns its peak. If it cannot, the refusal says the
// largest max size that fits, found by bisection (the peak grows with the
// max size), in its message and as fitMaxSize for the page to offer.
func (s *Server) admit(m dreamMemory, req dream.Request) (int64, error) {
	budget := s.q.memoryBudget()
	need := func(maxSize int) int64 {
		r := req
		r.MaxSize = maxSize
		return m.peak(r) + m.fileBytes()
	}
	asked := need(req.MaxSize)
	if asked <= budget {
		return asked - m.fileBytes(), nil
	}
	p := m.photo
	longer := max(p.width, p.height)
	size := "at full size"
	if req.MaxSize > 0 && req.MaxSize < longer {
		longer, size = req.MaxSize, fmt.Sprintf("at a max size of %d", req.MaxSize)
	}
	msg := fmt.Sprintf("this %d×%d photo needs about %s of memory to dream %s, more than the studio's budget of %s",
		p.width, p.height, byteSize(asked), size, byteSize(budget))
	lo, hi := smallestMaxSize, longer // need(hi) does not fit
	if lo >= hi || need(lo) > budget {
		return 0, errorf(http.StatusRequestEntityTooLarge, "%s, even at the smallest max size: use a smaller photo", msg)
	}
	for lo+1 < hi { // need(lo) fits, need(hi) does not
		mid := (lo + hi) / 2
		if need(mid) <= budget {
			lo = mid
		} else {
			hi = mid
		}
	}
	return 0, &httpError{code: http.StatusRequestEntityTooLarge, fitMaxSize: lo,
		msg: fmt.Sprintf("%s; it fits at a max size of %d or less", msg, lo)}
}

// smallestMaxSize is the smallest max size a request may ask for.
var smallestMaxSize = func() int {
	for _, f := range dream.Fields() {
		if f.Key == "max_size" {
			return int(f.Min)
		}
	}
	panic("server: the dream request has no max_size field")
}()
