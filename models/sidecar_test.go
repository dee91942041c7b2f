package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/dream"
)

func writeModel(t *testing.T, sidecar string) string {
	t.Helper()
	model := filepath.Join(t.TempDir(), "net.onnx")
	if err := os.WriteFile(model, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if sidecar != "" {
		if err := os.WriteFile(SidecarPath(model), []byte(sidecar), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return model
}

func TestFileEntryWithoutSidecarAssumesGoogLeNetsPreprocessing(t *testing.T) {
	model := writeModel(t, "")
	e, note, err := FileEntry(model, Override{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Preprocess != dream.Caffe || e.DefaultLayer != "" || e.Aliases != nil || e.Name != "net.onnx" {
		t.Errorf("entry = %+v; want Caffe's preprocessing and no layer names (Open chooses)", e)
	}
	for _, want := range []string{model, "4 preprocessing settings", "net.onnx.json", "GoogLeNet", "channel order BGR", "mean 104/117/123"} {
		if !strings.Contains(note, want) {
			t.Errorf("note %q lacks %q", note, want)
		}
	}
	if strings.Contains(note, "layer") {
		t.Errorf("note %q speaks of layers: Open's note does", note)
	}
}

func TestFileEntryFlagsOverrideSidecar(t *testing.T) {
	model := writeModel(t, `{"channel_order": "rgb", "scale": 0.5, "mean": [1, 2, 3], "std": [4, 5, 6],
		"default_layer": "relu9", "aliases": {"relu9": "vgg0_relu9_fwd"}}`)
	e, note, err := FileEntry(model, Override{})
	if err != nil {
		t.Fatal(err)
	}
	want := dream.Preprocess{Scale: 0.5, Mean: [3]float32{1, 2, 3}, Std: [3]float32{4, 5, 6}}
	if e.Preprocess != want || note != "" || e.DefaultLayer != "relu9" || e.Aliases["relu9"] != "vgg0_relu9_fwd" || len(e.Aliases) != 1 {
		t.Errorf("entry = %+v, note %q", e, note)
	}

	e, note, err = FileEntry(model, Override{BGR: new(true), Mean: &[3]float32{7, 8, 9}})
	if err != nil {
		t.Fatal(err)
	}
	want = dream.Preprocess{BGR: true, Scale: 0.5, Mean: [3]float32{7, 8, 9}, Std: [3]float32{4, 5, 6}}
	if e.Preprocess != want || note != "" {
		t.Errorf("with flags: entry = %+v, note %q", e.Preprocess, note)
	}
}

func TestFileEntryPartialSidecarNamesWhatIsAssumed(t *testing.T) {
	model := writeModel(t, `{"scale": 1, "aliases": {"mine": "t_1"}}`)
	e, note, err := FileEntry(model, Override{Std: &[3]float32{2, 2, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(note, "2 preprocessing settings") || !strings.Contains(note, "channel order BGR, mean 104/117/123") ||
		strings.Contains(note, "scale") || strings.Contains(note, "std") {
		t.Errorf("note = %q", note)
	}
	if e.Aliases["mine"] != "t_1" {
		t.Error("the sidecar's aliases are lost")
	}
}

func TestBadSidecarsAreRefused(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"means": [1, 2, 3]}`, `unknown field "means"`},
		{`{"channel_order": "GBR"}`, `channel_order "GBR"`},
		{`{"mean": [1, 2]}`, "mean has 2 values, want 3"},
		{`{"std": [1, 0, 1]}`, "has a zero"},
		{`{"scale": -1}`, "scale -1 is not a positive finite number"},
		{`{"scale": "1"}`, "net.onnx.json"},
	} {
		_, _, err := FileEntry(writeModel(t, tc.json), Override{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("sidecar %s: err = %v, want %q", tc.json, err, tc.want)
		}
	}
	if _, _, err := FileEntry(writeModel(t, ""), Override{Scale: new(float32(0))}); err == nil || !strings.Contains(err.Error(), "scale 0") {
		t.Errorf("zero scale flag: err = %v", err)
	}
}
