package main

import (
	"context"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/internal/shared"
)

// TestPresets lists the presets with their flags, and dreams with one:
// the flags given win over the preset, which wins over --from's record.
func TestPresets(t *testing.T) {
	code, out, errOut := cli(t, context.Background(), "presets")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, p := range dream.Presets() {
		if !regexp.MustCompile(`(?m)^` + p.Name + "\n  (.*--.*)\n  " + regexp.QuoteMeta(p.Description) + "$").MatchString(out) {
			t.Errorf("presets does not list %s with its flags and description:\n%s", p.Name, out)
		}
	}
	if !strings.Contains(out, "--layer conv2/3x3 --layer inception_3a/output") {
		t.Errorf("presets does not show brush-stroke's layers as flags:\n%s", out)
	}

	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 40, 30)
	first, second := filepath.Join(dir, "first.png"), filepath.Join(dir, "second.png")
	ctx := context.Background()
	if code, _, errOut := cli(t, ctx, "dream", photo, "-o", first, "--model", model, "--layer", "r", "--iterations", "3", "--jitter", "5", "--seed", "9", "-q"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, _, errOut := cli(t, ctx, "dream", photo, "-o", second, "--model", model, "--from", first, "--preset", "notebook", "--jitter", "7", "-q"); code != 0 {
		t.Fatalf("--preset: exit %d: %s", code, errOut)
	}
	got := embedded(t, second).Request
	want := dream.Defaults()
	want.Layers, want.Jitter, want.Seed = []string{"r"}, 7, 9 // the model's default layer; the flag; the record's, which notebook leaves
	if !reflect.DeepEqual(got, want) {
		t.Errorf("--from with --preset notebook and --jitter 7 dreamed %+v, want %+v", got, want)
	}
	code, _, errOut = cli(t, ctx, "dream", photo, "-o", second, "--model", model, "--preset", "dogslug")
	if code != exitUsage || !strings.Contains(errOut, `dream: --preset: no preset "dogslug" (presets: notebook, dog-slug`) {
		t.Errorf("an unknown preset: exit %d, %s", code, errOut)
	}
}

// TestPresetsDreamOnGoogLeNet dreams every preset on GoogLeNet, briefly:
// the layers they name are the model's.
func TestPresetsDreamOnGoogLeNet(t *testing.T) {
	model := shared.GoogLeNet(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 96, 72)
	for _, p := range dream.Presets() {
		out := filepath.Join(dir, p.Name+".png")
		code, _, errOut := cli(t, context.Background(), "dream", photo, "-o", out, "--model", model, "--preset", p.Name, "--octaves", "1", "--iterations", "1", "-q")
		if code != 0 {
			t.Errorf("--preset %s: exit %d: %s", p.Name, code, errOut)
			continue
		}
		req := dream.Defaults()
		if err := p.Apply(&req, nil); err != nil {
			t.Fatal(err)
		}
		req.Octaves, req.Iterations = 1, 1
		if len(req.Layers) == 0 {
			req.Layers = []string{"inception_4c/output"}
		}
		if got := embedded(t, out).Request; !reflect.DeepEqual(got, req) {
			t.Errorf("--preset %s dreamed %+v, want %+v", p.Name, got, req)
		}
	}
}
