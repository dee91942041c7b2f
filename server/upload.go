package server

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/deepdream-go/deepdream/dream"
)

// httpError is an error with the status code to answer it with; its
// message is shown in the page as is, so it names no file of the server.
type httpError struct {
	code int
	msg  string
	// fitMaxSize, when set, is the largest max size at which the dream
	// refused would fit in memory, for the page to offer.
	fitMaxSize int
}

func (e *httpError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// Limits of the form fields other than the photo.
const (
	maxFieldBytes = 4 << 10
	maxFields     = 64
)

// form is a parsed POST /api/jobs: the photo (or the gallery entry whose
// original to use) and the text fields.
type form struct {
	photo  []byte
	format string // sniffed: "jpeg", "png", "gif", "webp"
	source string // gallery ID instead of a photo
	values map[string][]string
}

func (f *form) get(name string) string {
	if v := f.values[name]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// sniffed maps the content types http.DetectContentType finds to the
// formats imageio decodes.
var sniffed = map[string]string{"image/jpeg": "jpeg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}

// readForm reads a multipart form with at most maxUpload bytes of photo,
// streaming it part by part so that nothing beyond the limits is read.
// The photo's type is sniffed from its bytes; the name and the declared
// type are ignored.
func readForm(r *http.Request, maxUpload int64) (*form, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, errorf(http.StatusUnsupportedMediaType, "send the dream as multipart/form-data (a form with a photo), not %q", r.Header.Get("Content-Type"))
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "the form is not valid multipart data: %v", err)
	}
	f := &form{values: map[string][]string{}}
	for n := 0; ; n++ {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, bodyError(err, maxUpload, errorf(http.StatusBadRequest, "the form is not valid multipart data: %v", err))
		}
		if n >= maxFields {
			return nil, errorf(http.StatusBadRequest, "the form has more than %d fields", maxFields)
		}
		name := p.FormName()
		if name == "photo" {
			if f.photo != nil {
				return nil, errorf(http.StatusBadRequest, "send one photo per dream")
			}
			data, err := io.ReadAll(io.LimitReader(p, maxUpload+1))
			if err != nil {
				return nil, bodyError(err, maxUpload, errorf(http.StatusBadRequest, "reading the photo: %v", err))
			}
			if int64(len(data)) > maxUpload {
				return nil, uploadTooLarge(maxUpload)
			}
			f.photo = data
			continue
		}
		v, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
		if err != nil {
			return nil, bodyError(err, maxUpload, errorf(http.StatusBadRequest, "reading field %q: %v", name, err))
		}
		if len(v) > maxFieldBytes {
			return nil, errorf(http.StatusBadRequest, "field %q is longer than %d bytes", name, maxFieldBytes)
		}
		f.values[name] = append(f.values[name], string(v))
	}
	f.source = f.get("source")
	switch {
	case f.photo == nil && f.source == "":
		return nil, errorf(http.StatusBadRequest, "choose a photo to dream")
	case f.photo != nil && f.source != "":
		return nil, errorf(http.StatusBadRequest, "send a photo or a gallery entry to dream again, not both")
	case f.photo != nil:
		if len(f.photo) == 0 {
			return nil, errorf(http.StatusBadRequest, "the photo is empty")
		}
		format, ok := sniffed[http.DetectContentType(f.photo)]
		if !ok {
			return nil, errorf(http.StatusUnsupportedMediaType, "this file is not a photo the studio can read (it looks like %s); use JPEG, PNG, GIF or WebP", http.DetectContentType(f.photo))
		}
		f.format = format
	}
	return f, nil
}

func uploadTooLarge(maxUpload int64) error {
	return errorf(http.StatusRequestEntityTooLarge, "the photo is larger than the limit of %s", byteSize(maxUpload))
}

// bodyError turns the error of a request body over http.MaxBytesReader's
// limit into a 413, and one cut off for its pace (timeouts.paced) into a
// 408; other errors become err.
func bodyError(cause error, maxUpload int64, err error) error {
	var mb *http.MaxBytesError
	switch {
	case errors.As(cause, &mb):
		return uploadTooLarge(maxUpload)
	case errors.Is(cause, os.ErrDeadlineExceeded):
		return errorf(http.StatusRequestTimeout, "the photo arrived too slowly and was cut off; try again on a faster connection")
	}
	return err
}

// byteSize writes a byte count for people, to a tenth: "25 MB", "1.5 GB".
func byteSize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, " GB"}, {1 << 20, " MB"}, {1 << 10, " KB"}} {
		if n >= u.size {
			return strings.TrimSuffix(strconv.FormatFloat(float64(n)/float64(u.size), 'f', 1, 64), ".0") + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// readHeader reads what the photo's header says, refusing what the dream
// could not read and more pixels than maxPixels. The photo is decoded only
// by its job, once, when it starts: a photo whose data turns out broken
// fails its job.
func readHeader(data []byte, maxPixels int) (photoHeader, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	switch {
	case err != nil:
		return photoHeader{}, errorf(http.StatusUnsupportedMediaType, "the photo cannot be read: %v", err)
	case cfg.Width <= 0 || cfg.Height <= 0:
		return photoHeader{}, errorf(http.StatusUnsupportedMediaType, "the photo cannot be read: its header says it is %d×%d", cfg.Width, cfg.Height)
	case int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels):
		return photoHeader{}, errorf(http.StatusRequestEntityTooLarge, "the photo has too many pixels: %d×%d is %.1f megapixels, over the limit of %.1f",
			cfg.Width, cfg.Height, float64(cfg.Width)*float64(cfg.Height)/1e6, float64(maxPixels)/1e6)
	}
	return photoHeader{format: format, width: cfg.Width, height: cfg.Height, model: cfg.ColorModel, fileBytes: int64(len(data))}, nil
}

// request reads the dream request of the form: each field of the
// request's table (dream.Fields) under its key, the first value of a number
// and every value of a repeatable field (the layers, the classes); an
// empty field keeps the default. It
// checks the request as the command line does, before any model is loaded
// or photo decoded.
func (f *form) request() (dream.Request, error) {
	r := dream.Defaults()
	for _, field := range dream.Fields() {
		for _, v := range f.values[field.Key] {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			if err := field.Set(&r, v); err != nil {
				return r, errorf(http.StatusBadRequest, "%v", err)
			}
			if !field.Repeat {
				break
			}
		}
	}
	if err := r.Validate(); err != nil {
		return r, errorf(http.StatusBadRequest, "%v", err)
	}
	return r, nil
}
