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

// Image is an image a request names (a mask, the guide), with its
// identity.
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
// its field, in the table's order: "layers" for each layer's @MASK, then
// each field of kind "image" ("mask" for Mask, "guide" for Guide) that
// names one (a name may come more than once); and names the image as
// rename returns, e.g. a path given on the command line by its base name.
// It stops at the first error.
func (r *Request) RenameImages(rename func(key, name string) (string, error)) error {
	for _, f := range Fields() {
		switch f.Kind {
		case "layers":
			for i, spec := range r.Layers {
				at := strings.IndexByte(spec, '@')
				if at < 0 {
					continue
				}
				name, err := rename(f.Key, spec[at+1:])
				if err != nil {
					return err
				}
				r.Layers[i] = spec[:at+1] + name
			}
		case "image":
			if name := f.Get(r); name != "" {
				name, err := rename(f.Key, name)
				if err != nil {
					return err
				}
				f.Set(r, name)
			}
		}
	}
	return nil
}

// ImageRole says what an image of the field key is, for messages: "mask"
// for a layer's @MASK (key "layers"), else the field's key ("mask",
// "guide").
func ImageRole(key string) string {
	if key == "layers" {
		return "mask"
	}
	return key
}

// image returns the loaded image r names in the field key, or an error
// saying it is not loaded.
func (r *Request) image(key, name string) (image.Image, error) {
	im := r.Images[name]
	if im.Image == nil {
		return nil, fmt.Errorf("dream: the %s %q is not loaded (Request.Images)", ImageRole(key), name)
	}
	return im.Image, nil
}

// checkImages refuses a request that names an image it has not loaded.
func (r *Request) checkImages() error {
	c := *r
	c.Layers = append([]string(nil), r.Layers...)
	return c.RenameImages(func(key, name string) (string, error) {
		_, err := r.image(key, name)
		return name, err
	})
}
