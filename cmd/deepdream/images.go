package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
	"github.com/deepdream-go/deepdream/internal/recorded"
)

// imageExts are the files --from looks among for a record's images.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".webp"}

// loadImages loads the images the request names (its --mask, its --guide,
// its layers' @MASK) into o.req.Images under their base names, which the
// request then uses, so that the record embedded in the dream names no
// directory. A name the command line gave is a file; a name the record of
// --from gave is found by the sha256 the record keeps (recorded.Find, as
// the model is), among the images of --images directories, the dream's
// directory and the working directory, whatever the file is called now.
// Two different files of one base name are refused. A --mask or --guide
// given in place of the record's, when it is another file, is warned
// about on stderr.
func (o *dreamOptions) loadImages(stderr io.Writer) error {
	return o.loadImagesOf(&o.req, nil, stderr)
}

// loadImagesOf is loadImages for req (a sweep's cell), keeping the images
// of the fields for which loaded reports true: req.Images holds them
// already, under the names req uses. stderr nil warns of nothing.
func (o *dreamOptions) loadImagesOf(req *dream.Request, loaded func(key string) bool, stderr io.Writer) error {
	images := map[string]dream.Image{}
	paths := map[string]string{} // the file each image was read from
	roles := map[string]string{} // and what it was read as
	err := req.RenameImages(func(key, name string) (string, error) {
		if loaded != nil && loaded(key) {
			images[name] = req.Images[name]
			return name, nil
		}
		role := dream.ImageRole(key)
		path, base := name, filepath.Base(name)
		if o.fromRecord[key] {
			sum := o.rec.Request.Images[name].SHA256
			if sum == "" {
				return "", fmt.Errorf("%s: --from %s: the record names the %s %s without its sha256", o.command, o.from, role, name)
			}
			if im, ok := images[name]; ok && im.SHA256 == sum {
				return name, nil
			}
			dirs := append(append([]string(nil), o.imageDirs...), filepath.Dir(o.from), ".")
			found, err := recorded.Find(sum, base, dirs, imageExts)
			if err != nil {
				return "", fmt.Errorf("%s: --from %s: the dream's %s %s (sha256 %s) is not in %v; pass it with %s, or its directory with --images DIR",
					o.command, o.from, role, name, sum, dirs, imageFlag(key))
			}
			path, base = found, name
		}
		im, ok := images[base]
		if prev := paths[base]; !ok || !atomicfile.SameFile(prev, path) {
			next, err := loadImage(path, role, o.maxPixels)
			if err != nil {
				return "", err
			}
			if ok && im.SHA256 != next.SHA256 {
				return "", usagef("%s: two different files are named %s, the %s %s and the %s %s: rename one", o.command, base, roles[base], prev, role, path)
			}
			im = next
			images[base], paths[base], roles[base] = im, path, role
			if o.imageFiles == nil {
				o.imageFiles = map[string]string{}
			}
			o.imageFiles[base] = path
		}
		if !o.fromRecord[key] {
			o.warnReplaced(stderr, key, path, im)
		}
		return base, nil
	})
	if len(images) > 0 {
		req.Images = images
	}
	return err
}

// warnReplaced warns on stderr (nil: not at all) when path, the file the
// command line gives an image field (--mask, --guide) of --from's dream
// in place of the record's, is not the file that dream was made with.
func (o *dreamOptions) warnReplaced(stderr io.Writer, key, path string, im dream.Image) {
	if stderr == nil || o.rec == nil {
		return
	}
	fields := dream.Fields()
	i := slices.IndexFunc(fields, func(f dream.Field) bool { return f.Key == key && f.Kind == "image" })
	if i < 0 {
		return // a layer's @MASK: the command line's layers are other layers
	}
	was := fields[i].Get(&o.rec.Request)
	if sum := o.rec.Request.Images[was].SHA256; was != "" && sum != im.SHA256 {
		fmt.Fprintf(stderr, "deepdream: warning: %s is not the %s %s was dreamed with (%s, sha256 %s): the dream will differ\n",
			path, key, o.from, was, sum)
	}
}

// imageFlag says how the command line gives an image of the field key.
func imageFlag(key string) string {
	for _, f := range dream.Fields() {
		if f.Key == key && f.Kind == "image" {
			return "--" + f.Flag + " FILE"
		}
	}
	return "--layer NAME@FILE"
}

// loadImage reads the image file at path for a request (dream.LoadImage);
// role says what it is, for errors ("mask", "guide").
func loadImage(path, role string, maxPixels int) (dream.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return dream.Image{}, fmt.Errorf("dream: %s: %w", role, err)
	}
	defer f.Close()
	im, err := dream.LoadImage(f, maxPixels)
	if errors.Is(err, imageio.ErrTooLarge) {
		err = fmt.Errorf("%w (--max-pixels raises the limit)", err)
	}
	if err != nil {
		return dream.Image{}, fmt.Errorf("dream: %s %s: %w", role, path, err)
	}
	return im, nil
}
