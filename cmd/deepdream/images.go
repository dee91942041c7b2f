package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
	"github.com/deepdream-go/deepdream/internal/recorded"
)

// imageExts are the files --from looks among for a record's images.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".webp"}

// loadImages loads the images the request names (its --mask, its layers'
// @MASK) into o.req.Images under their base names, which the request then
// uses, so that the record embedded in the dream names no directory. A
// name the command line gave is a file; a name the record of --from gave
// is found by the sha256 the record keeps (recorded.Find, as the model
// is), among the images of --images directories, the dream's directory and
// the working directory, whatever the file is called now. Two different
// files of one base name are refused.
func (o *dreamOptions) loadImages() error {
	return o.loadImagesOf(&o.req, nil)
}

// loadImagesOf is loadImages for req (a sweep's cell), keeping the images
// of the fields for which loaded reports true: req.Images holds them
// already, under the names req uses.
func (o *dreamOptions) loadImagesOf(req *dream.Request, loaded func(key string) bool) error {
	images := map[string]dream.Image{}
	paths := map[string]string{} // the file each image was read from
	err := req.RenameImages(func(key, name string) (string, error) {
		if loaded != nil && loaded(key) {
			images[name] = req.Images[name]
			return name, nil
		}
		path, base := name, filepath.Base(name)
		if o.fromRecord[key] {
			sum := o.rec.Request.Images[name].SHA256
			if sum == "" {
				return "", fmt.Errorf("dream: --from %s: the record names the mask %s without its sha256", o.from, name)
			}
			if im, ok := images[name]; ok && im.SHA256 == sum {
				return name, nil
			}
			dirs := append(append([]string(nil), o.imageDirs...), filepath.Dir(o.from), ".")
			found, err := recorded.Find(sum, base, dirs, imageExts)
			if err != nil {
				again := "--mask FILE"
				if key == "layers" {
					again = "--layer NAME@FILE"
				}
				return "", fmt.Errorf("dream: --from %s: the dream's mask %s (sha256 %s) is not in %v; pass it with %s, or its directory with --images DIR",
					o.from, name, sum, dirs, again)
			}
			path, base = found, name
		}
		if prev, ok := paths[base]; ok && atomicfile.SameFile(prev, path) {
			return base, nil
		}
		im, err := loadImage(path, o.maxPixels)
		if err != nil {
			return "", err
		}
		if prev, ok := images[base]; ok && prev.SHA256 != im.SHA256 {
			return "", usagef("dream: two different masks are named %s (%s and %s): rename one", base, paths[base], path)
		}
		images[base], paths[base] = im, path
		return base, nil
	})
	if len(images) > 0 {
		req.Images = images
	}
	return err
}

// loadImage reads the image file at path for a request (dream.LoadImage).
func loadImage(path string, maxPixels int) (dream.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return dream.Image{}, fmt.Errorf("dream: mask: %w", err)
	}
	defer f.Close()
	im, err := dream.LoadImage(f, maxPixels)
	if errors.Is(err, imageio.ErrTooLarge) {
		err = fmt.Errorf("%w (--max-pixels raises the limit)", err)
	}
	if err != nil {
		return dream.Image{}, fmt.Errorf("dream: mask %s: %w", path, err)
	}
	return im, nil
}
