package dream

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"io"
	"strings"

	"github.com/deepdream-go/deepdream/imageio"
)

// Image is an image a request names (a mask), with its identity.
type Image struct {
	// SHA256 is the sha256 of the image's file, which a record keeps to
	// find the file again (lower-case hex).
	SHA256 string
	// Image is the image; nil in a request read from a record, until the
	// file is found and loaded.
	Image image.Image
}

// LoadImage reads an image file for Request.Images as DreamPhoto reads a
// photo (JPEG, PNG, GIF or WebP, at most maxPixels, 0 for
// imageio.DefaultMaxPixels, EXIF orientation applied), and hashes it.
func LoadImage(r io.Reader, maxPixels int) (Image, error) {
	h := sha256.New()
	img, _, err := imageio.DecodeInfo(io.TeeReader(r, h), maxPixels)
	if err != nil {
		return Image{}, err
	}
	// DecodeInfo reads to the end or fails: the hash is the whole file's.
	return Image{SHA256: hex.EncodeToString(h.Sum(nil)), Image: img}, nil
}

// RenameImages calls rename for every image name of r, with the key of
// its field: "mask" for Mask, "layers" for each layer's @MASK (a name may
// come more than once), and names the image as rename returns, e.g. a
// path given on the command line by its base name. It stops at the first
// error.
func (r *Request) RenameImages(rename func(key, name string) (string, error)) error {
	if r.Mask != "" {
		name, err := rename("mask", r.Mask)
		if err != nil {
			return err
		}
		r.Mask = name
	}
	for i, spec := range r.Layers {
		at := strings.IndexByte(spec, '@')
		if at < 0 {
			continue
		}
		name, err := rename("layers", spec[at+1:])
		if err != nil {
			return err
		}
		r.Layers[i] = spec[:at+1] + name
	}
	return nil
}

// image returns the loaded image r names, or an error saying it is not
// loaded.
func (r *Request) image(name string) (image.Image, error) {
	im := r.Images[name]
	if im.Image == nil {
		return nil, fmt.Errorf("dream: the mask %q is not loaded (Request.Images)", name)
	}
	return im.Image, nil
}

// checkImages refuses a request that names an image it has not loaded.
func (r *Request) checkImages() error {
	c := *r
	c.Layers = append([]string(nil), r.Layers...)
	return c.RenameImages(func(_, name string) (string, error) {
		_, err := r.image(name)
		return name, err
	})
}
