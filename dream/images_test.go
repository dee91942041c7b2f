package dream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/imageio"
)

// TestImages: LoadImage's sha256 is the whole file's (bytes after the
// image's end too: the file's identity); RenameImages visits each layer's
// @MASK, the mask and the guide with their fields' keys, and renames them;
// a dream that names an image it was not given is refused, naming it and
// what it is; the record keeps each image's sha256 by its name and reads
// it back.
func TestImages(t *testing.T) {
	var file bytes.Buffer
	if err := png.Encode(&file, image.NewGray(image.Rect(0, 0, 30, 20))); err != nil {
		t.Fatal(err)
	}
	file.WriteString("trailing bytes the decoder leaves")
	sum := sha256.Sum256(file.Bytes())
	im, err := LoadImage(bytes.NewReader(file.Bytes()), 0)
	if err != nil || im.SHA256 != hex.EncodeToString(sum[:]) || im.Image.Bounds().Dx() != 30 {
		t.Errorf("LoadImage = %+v, %v; want the file's sha256 and its 30x20 image", im, err)
	}
	if _, err := LoadImage(strings.NewReader("not an image"), 0); err == nil {
		t.Error("LoadImage read text")
	}
	if _, err := LoadImage(bytes.NewReader(file.Bytes()), 599); !errors.Is(err, imageio.ErrTooLarge) {
		t.Errorf("LoadImage over the pixel limit: %v", err)
	}

	req := Defaults()
	req.Mask, req.Guide, req.Layers = "a/m.png", "c/g.png", []string{"r@b/m=1.png", "r:1", "r=2@a/m.png"}
	var seen []string
	err = req.RenameImages(func(key, name string) (string, error) {
		seen = append(seen, key+" "+name)
		return filepath.Base(name), nil
	})
	if want := []string{"layers b/m=1.png", "layers a/m.png", "mask a/m.png", "guide c/g.png"}; err != nil || !reflect.DeepEqual(seen, want) {
		t.Errorf("RenameImages saw %q, %v; want %q", seen, err, want)
	}
	if req.Mask != "m.png" || req.Guide != "g.png" || !reflect.DeepEqual(req.Layers, []string{"r@m=1.png", "r:1", "r=2@m.png"}) {
		t.Errorf("renamed: mask %q, guide %q, layers %q", req.Mask, req.Guide, req.Layers)
	}

	req.Octaves, req.Iterations = 1, 1
	req.Images = map[string]Image{"m.png": im}
	_, err = tinyNetwork().Dream(context.Background(), testImage(8, 8), req, nil)
	if err == nil || !strings.Contains(err.Error(), `the mask "m=1.png" is not loaded`) {
		t.Errorf("a dream without one of its masks: %v", err)
	}
	req.Images["m=1.png"] = im
	_, err = tinyNetwork().Dream(context.Background(), testImage(8, 8), req, nil)
	if err == nil || !strings.Contains(err.Error(), `the guide "g.png" is not loaded`) {
		t.Errorf("a dream without its guide: %v", err)
	}
	req.Images["g.png"] = im
	if _, err = tinyNetwork().Dream(context.Background(), testImage(8, 8), req, nil); err != nil {
		t.Errorf("a dream with its masks: %v", err)
	}

	rec := Record{Version: "v", Model: "tiny", Request: req}
	var back Record
	if err := json.Unmarshal([]byte(rec.String()), &back); err != nil {
		t.Fatal(err)
	}
	want := map[string]Image{"g.png": {SHA256: im.SHA256}, "m.png": {SHA256: im.SHA256}, "m=1.png": {SHA256: im.SHA256}}
	if !strings.Contains(rec.String(), `"mask":"m.png",`) || !strings.Contains(rec.String(), `"guide":"g.png",`) ||
		!strings.HasSuffix(rec.String(), `,"images":{"g.png":"`+im.SHA256+`","m.png":"`+im.SHA256+`","m=1.png":"`+im.SHA256+`"}}`) ||
		!reflect.DeepEqual(back.Request.Images, want) {
		t.Errorf("record %s read back images %+v, want %+v", rec, back.Request.Images, want)
	}
}
