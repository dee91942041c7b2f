package server

import (
	"errors"
	"image/color"
	"net/http"
	"strconv"

	"github.com/deepdream-go/deepdream/dream"
)

// model sets the network that estimates a dream of req and returns the
// dream's estimate at the photo's size: its tiling, and an error for a
// request the network cannot dream at that size.
func (mem *dreamMemory) model(net *dream.Network, req dream.Request) (dream.Estimate, error) {
	mem.net = net
	e, err := net.Estimate(mem.photo.Width, mem.photo.Height, req)
	if err != nil {
		return dream.Estimate{}, requestError(err) // a tile the layers cannot take
	}
	return e, nil
}

// estimateView is the answer of GET /api/estimate.
type estimateView struct {
	Width  int `json:"width"` // the dream's size (after max_size)
	Height int `json:"height"`
	// Tile is the tile the dream uses, -1 or 0 when it does not tile (as
	// asked); Windows the windows a step of its largest octave runs.
	Tile    int `json:"tile"`
	Windows int `json:"windows"`
	// Bytes is the job's peak as the studio admits it, the photo's file
	// included; Budget the studio's. FitMaxSize, when the dream does not
	// fit, is the largest max size at which it does (0: none).
	Bytes      int64  `json:"bytes"`
	Budget     int64  `json:"budget"`
	Fits       bool   `json:"fits"`
	FitMaxSize int    `json:"fit_max_size,omitempty"`
	Error      string `json:"error,omitempty"`
}

// handleEstimate answers GET /api/estimate?width=W&height=H with what a
// dream of a W x H photo takes as the studio admits it, for the page to
// show before it sends the photo: the request's fields as the form sends
// them (model, max_size, layers, ...), the file's bytes (bytes, default
// 0) and format (format: jpeg, png, ...; it bounds the decoding). The
// request's images are not counted (the page sends them with the dream).
func (s *Server) handleEstimate(w http.ResponseWriter, r *http.Request) {
	f := &form{values: r.URL.Query()}
	width, errW := strconv.Atoi(f.get("width"))
	height, errH := strconv.Atoi(f.get("height"))
	fileBytes, errB := strconv.ParseInt(f.get("bytes"), 10, 64)
	if f.get("bytes") == "" {
		fileBytes, errB = 0, nil
	}
	switch {
	case errW != nil || errH != nil || width < 1 || height < 1:
		writeError(w, errorf(http.StatusBadRequest, "give the photo's size: width=W&height=H, whole numbers of pixels"))
		return
	case int64(width)*int64(height) > int64(s.cfg.MaxPixels):
		writeError(w, errorf(http.StatusRequestEntityTooLarge, "a %d×%d photo has more than the %d pixels this studio takes", width, height, s.cfg.MaxPixels))
		return
	case errB != nil || fileBytes < 0 || fileBytes > s.cfg.MaxUpload:
		writeError(w, errorf(http.StatusBadRequest, "bytes=%q: want the photo's file size, at most %d", f.get("bytes"), s.cfg.MaxUpload))
		return
	}
	_, net, req, err := s.formRequest(f)
	if err != nil {
		writeError(w, err)
		return
	}
	format := f.get("format")
	model := color.Model(color.NRGBAModel)
	if format == "jpeg" {
		model = color.YCbCrModel
	}
	mem := dreamMemory{photo: dream.FileHeader{Format: format, Width: width, Height: height, ColorModel: model, Bytes: fileBytes}}
	e, err := mem.model(net, req)
	if err != nil {
		writeError(w, err)
		return
	}
	v := estimateView{Width: e.Width, Height: e.Height, Tile: e.Tile, Windows: e.Windows, Budget: s.q.memoryBudget(), Fits: true}
	peak, err := s.admit(mem, req)
	var he *httpError
	switch {
	case err == nil:
		v.Bytes = peak + mem.fileBytes()
	case errors.As(err, &he) && he.code == http.StatusRequestEntityTooLarge:
		v.Fits, v.FitMaxSize, v.Error = false, he.fitMaxSize, he.msg
		peak, _ := mem.peak(req) // admit had it
		v.Bytes = peak + mem.fileBytes()
	default:
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
