package dream

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"reflect"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/tinynet"
)

// TestDreamPhoto takes a translucent PNG through DreamPhoto: the dream
// keeps the photo's alpha and carries its record, with the default layer
// named.
func TestDreamPhoto(t *testing.T) {
	n, err := NewNetwork(tinynet.Model(), Profile{Preprocess: Caffe, DefaultLayer: "relu", Aliases: map[string]string{"relu": "r"}})
	if err != nil {
		t.Fatal(err)
	}
	photo := image.NewNRGBA(image.Rect(0, 0, 20, 14))
	for y := range 14 {
		for x := range 20 {
			photo.SetNRGBA(x, y, color.NRGBA{uint8(12 * x), uint8(18 * y), 90, uint8(10 * (x + y))})
		}
	}
	var src bytes.Buffer
	if err := png.Encode(&src, photo); err != nil {
		t.Fatal(err)
	}
	req := Defaults()
	req.Octaves, req.Iterations, req.Seed = 2, 2, 9
	rec := Record{Version: "test", Model: "tiny", Request: req}
	file, out, err := n.DreamPhoto(context.Background(), &src, Photo{Format: "png"}, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	dreamed, _, err := imageio.DecodeInfo(bytes.NewReader(file), 0)
	if err != nil {
		t.Fatal(err)
	}
	if dreamed.Bounds() != photo.Bounds() || !reflect.DeepEqual(dreamed.Pix, imageio.NRGBA(out).Pix) {
		t.Fatalf("the file holds a %v image, not the %v dream returned", dreamed.Bounds(), out.Bounds())
	}
	for i := 3; i < len(photo.Pix); i += 4 {
		if dreamed.Pix[i] != photo.Pix[i] {
			t.Fatalf("alpha byte %d is %d, the photo's %d", i, dreamed.Pix[i], photo.Pix[i])
		}
	}
	meta, err := imageio.ReadMetadata(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var got Record
	if err := json.Unmarshal([]byte(meta), &got); err != nil {
		t.Fatal(err)
	}
	rec.Request.Layers = []string{"relu"}
	if !reflect.DeepEqual(got, rec) {
		t.Errorf("embedded record %+v, want %+v", got, rec)
	}
	if _, _, err := n.DreamPhoto(context.Background(), strings.NewReader("not a photo"), Photo{Name: "notes.png", Format: "png"}, rec, nil); err == nil || !strings.HasPrefix(err.Error(), "notes.png: imageio: ") {
		t.Errorf("a text file: %v, want an error naming it", err)
	}
}
