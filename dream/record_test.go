package dream

import (
	"context"
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/deepdream-go/deepdream/internal/tinynet"
)

// recordSeeds returns the records of real dreams in testdata/records.
func recordSeeds(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "records", "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no records in testdata/records: %v", err)
	}
	var seeds []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, string(b))
	}
	return seeds
}

// FuzzRecord reads records as --from does, seeded from real dreams' (the
// fuzzed text is a whole record): a record read without error and whose
// request validates writes itself back unchanged, its layers resolve or
// fail without panicking on a small network, and its request dreams
// there with the network's layer (octaves and iterations capped, to keep
// runs short: they only count loops), a grey stand-in for each image it
// names (masks, guide), and without its classes, as the network has no
// classifier.
func FuzzRecord(f *testing.F) {
	for _, s := range recordSeeds(f) {
		f.Add(s)
	}
	n, err := NewNetwork(tinynet.Model(), Profile{Preprocess: Caffe, DefaultLayer: "r"})
	if err != nil {
		f.Fatal(err)
	}
	photo := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range photo.Pix {
		photo.Pix[i] = uint8(i * 13)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var rec Record
		if err := json.Unmarshal([]byte(text), &rec); err != nil {
			return
		}
		if rec.Preprocess != nil {
			if err := rec.Preprocess.Check(); err != nil {
				t.Fatalf("a record with preprocessing %+v was read: %v", *rec.Preprocess, err)
			}
		}
		if err := rec.Request.Validate(); err != nil {
			return
		}
		var back Record
		if err := json.Unmarshal([]byte(rec.String()), &back); err != nil {
			t.Fatalf("%s does not read back: %v", rec, err)
		}
		if len(back.Request.Layers) == 0 && len(rec.Request.Layers) == 0 {
			back.Request.Layers = rec.Request.Layers // none is written "layers": []
		}
		if !reflect.DeepEqual(back, rec) {
			t.Fatalf("%+v reads back as %+v", rec, back)
		}
		req := rec.Request
		n.Resolve(&req)
		req.Layers, req.Classes, req.Octaves, req.Iterations = nil, nil, min(req.Octaves, 3), 1
		grey := image.NewGray(image.Rect(0, 0, 4, 3))
		for i := range grey.Pix {
			grey.Pix[i] = 128
		}
		req.Images = map[string]Image{}
		req.RenameImages(func(_, name string) (string, error) {
			req.Images[name] = Image{Image: grey}
			return name, nil
		})
		if _, err := n.Dream(context.Background(), photo, req, nil); err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
	})
}
