package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
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
	// field and value, when set, are the request's field (dream.Field.Key)
	// and the value of it refused, for the page to point at.
	field, value string
}

func (e *httpError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// requestError is a 400 for an error of the request's values, naming the
// field and the value refused when err says them (a *dream.OptionError, a
// *dream.ClassError).
func requestError(err error) error {
	he := &httpError{code: http.StatusBadRequest, msg: strings.TrimPrefix(err.Error(), "dream: ")}
	var oe *dream.OptionError
	var ce *dream.ClassError
	switch {
	case errors.As(err, &oe):
		he.field, he.value = oe.Key, oe.Value
	case errors.As(err, &ce):
		he.field, he.value = "classes", ce.Spec
	}
	return he
}

// Limits of the form fields other than the files.
const (
	maxFieldBytes = 4 << 10
	maxFields     = 64
)

// imageFields are the keys of the request's fields that name an image
// (dream.Fields' kind "image": the mask, the guide): a form sends each as
// a file under its key.
var imageFields = func() []string {
	var keys []string
	for _, f := range dream.Fields() {
		if f.Kind == "image" {
			keys = append(keys, f.Key)
		}
	}
	return keys
}()

// form is a parsed POST /api/jobs: the photo (or the gallery entry whose
// original to use), the request's images and the text fields.
type form struct {
	photo  []byte // the photo, or a video job's clip
	clip   bool   // photo is a clip
	format string // sniffed: "jpeg", "png", "gif", "webp"; a clip's "mp4", "webm", "avi"
	source string // gallery ID instead of a photo
	images []*upload
	values map[string][]string
}

// upload is an image of the request (a mask, the guide) as a form sent
// it: its bytes, decoded by the job only, as the photo's.
type upload struct {
	key    string // the field that names it (imageFields)
	data   []byte
	format string           // sniffed
	header dream.FileHeader // read by newJob
}

// name is what the request calls the image: its field's key and the
// extension of its format ("mask.png", "guide.jpg"), never a name the
// client gave, as the command line calls an image by its file's base name.
func (u *upload) name() string {
	ext := u.format
	if ext == "jpeg" {
		ext = "jpg"
	}
	return u.key + "." + ext
}

// uploaded is the upload that name (upload.name) calls: an image of a
// job taken back from the queue.
func uploaded(name string, data []byte) *upload {
	key, ext, _ := strings.Cut(name, ".")
	if ext == "jpg" {
		ext = "jpeg"
	}
	return &upload{key: key, data: data, format: ext}
}

// image returns the upload of the field key, or nil.
func (f *form) image(key string) *upload {
	for _, u := range f.images {
		if u.key == key {
			return u
		}
	}
	return nil
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

// readForm reads a multipart form with at most maxUpload bytes in each
// file (the photo, each image), streaming it part by part so that nothing
// beyond the limits is read. A file's type is sniffed from its bytes; the
// name and the declared type are ignored. more is called before each file
// after the first, to reserve the memory it may take (the first file's is
// the caller's to reserve); its error stops the reading.
func readForm(r *http.Request, maxUpload int64, more func() error) (*form, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, errorf(http.StatusUnsupportedMediaType, "send the dream as multipart/form-data (a form with a photo), not %q", r.Header.Get("Content-Type"))
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "the form is not valid multipart data: %v", err)
	}
	f := &form{values: map[string][]string{}}
	files := 0
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
		// The photo and the clip are files whatever their parts say; an
		// image field is one when its part has a file name, as a file
		// input's has.
		input := name == "photo" || name == "clip"
		if input || slices.Contains(imageFields, name) && p.FileName() != "" {
			switch {
			case input && f.photo != nil:
				return nil, errorf(http.StatusBadRequest, "send one photo or one clip per job")
			case f.image(name) != nil:
				return nil, errorf(http.StatusBadRequest, "send one %s per dream", name)
			}
			if files++; files > 1 {
				if err := more(); err != nil {
					return nil, err
				}
			}
			data, err := io.ReadAll(io.LimitReader(p, maxUpload+1))
			if err != nil {
				return nil, bodyError(err, maxUpload, errorf(http.StatusBadRequest, "reading the %s: %v", name, err))
			}
			if int64(len(data)) > maxUpload {
				return nil, fileTooLarge(name, maxUpload)
			}
			if input {
				f.photo, f.clip = data, name == "clip"
				continue
			}
			format, err := sniff(name, data)
			if err != nil {
				return nil, err
			}
			f.images = append(f.images, &upload{key: name, data: data, format: format})
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
	case f.clip:
		if f.format, err = sniffClip(f.photo); err != nil {
			return nil, err
		}
	case f.photo != nil:
		if f.format, err = sniff("photo", f.photo); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// sniff returns the format of a file the form sent as what ("photo",
// "mask", "guide"), or why it is none the dream can read.
func sniff(what string, data []byte) (string, error) {
	if len(data) == 0 {
		return "", errorf(http.StatusBadRequest, "the %s is empty", what)
	}
	format, ok := sniffed[http.DetectContentType(data)]
	if !ok {
		return "", errorf(http.StatusUnsupportedMediaType, "the %s is not a photo the studio can read (it looks like %s); use JPEG, PNG, GIF or WebP", what, http.DetectContentType(data))
	}
	return format, nil
}

func fileTooLarge(what string, maxUpload int64) error {
	return errorf(http.StatusRequestEntityTooLarge, "the %s is larger than the limit of %s", what, byteSize(maxUpload))
}

// bodyError turns the error of a request body over http.MaxBytesReader's
// limit into a 413, and one cut off for its pace (timeouts.paced) into a
// 408; other errors become err.
func bodyError(cause error, maxUpload int64, err error) error {
	var mb *http.MaxBytesError
	switch {
	case errors.As(cause, &mb):
		return errorf(http.StatusRequestEntityTooLarge, "the upload is larger than the limit of %s a file", byteSize(maxUpload))
	case errors.Is(cause, os.ErrDeadlineExceeded):
		return errorf(http.StatusRequestTimeout, "the upload arrived too slowly and was cut off; try again on a faster connection")
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

// readHeader reads what the header of a file says, the photo or an image
// of the request (what names it), refusing what the dream could not read
// and more pixels than maxPixels. A file is decoded only by its job, once,
// when it starts: one whose data turns out broken fails its job.
func readHeader(what string, data []byte, maxPixels int) (dream.FileHeader, error) {
	f, err := dream.ReadFileHeader(data)
	switch {
	case err != nil:
		return f, errorf(http.StatusUnsupportedMediaType, "the %s cannot be read: %v", what, err)
	case f.Width <= 0 || f.Height <= 0:
		return f, errorf(http.StatusUnsupportedMediaType, "the %s cannot be read: its header says it is %d×%d", what, f.Width, f.Height)
	case int64(f.Width)*int64(f.Height) > int64(maxPixels):
		return f, errorf(http.StatusRequestEntityTooLarge, "the %s has too many pixels: %d×%d is %.1f megapixels, over the limit of %.1f",
			what, f.Width, f.Height, float64(f.Width)*float64(f.Height)/1e6, float64(maxPixels)/1e6)
	}
	return f, nil
}

// request reads the dream request of the form: each field of the
// request's table (dream.Fields) under its key, the first value of a number
// and every value of a repeatable field (the layers, the classes); an
// empty field keeps the default. An image field (the mask, the guide)
// names the file the form sent under its key (upload.name); text there is
// refused, as is an image the request names and the form did not send (a
// layer's @MASK). It checks the request as the command line does, before
// any model is loaded or file decoded.
func (f *form) request() (dream.Request, error) {
	r := dream.Defaults()
	for _, field := range dream.Fields() {
		for _, v := range f.values[field.Key] {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			if field.Kind == "image" {
				return r, &httpError{code: http.StatusBadRequest, field: field.Key, value: v,
					msg: fmt.Sprintf("the %s is an image: send it as a file (a part with a file name, as a file input sends it), not as the text %q", field.Key, v)}
			}
			if err := field.Set(&r, v); err != nil {
				return r, requestError(err)
			}
			if !field.Repeat {
				break
			}
		}
		if u := f.image(field.Key); u != nil {
			if err := field.Set(&r, u.name()); err != nil {
				return r, requestError(err)
			}
		}
	}
	if err := r.Validate(); err != nil {
		return r, requestError(err)
	}
	c := r
	c.Layers = slices.Clone(r.Layers)
	err := c.RenameImages(func(key, name string) (string, error) {
		if key == "layers" {
			return "", &httpError{code: http.StatusBadRequest, field: key, value: name,
				msg: fmt.Sprintf("a layer has the mask @%s: per-layer masks are the command line's (--layer NAME@MASK); the studio takes one mask, for the whole dream", name)}
		}
		return name, nil
	})
	return r, err
}
