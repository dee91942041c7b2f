package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/shared"
)

// TestZooModelsThroughTheCommandLine takes every model of
// ../shared/models/zoo (PyTorch exports of MobileNetV3, ShuffleNetV2,
// ConvNeXt, MNASNet, ResNet-18 and SqueezeNet, with their sidecars) through
// the commands a user runs: layers lists the sidecar's default layer,
// classify prints the top 5 (probabilities, or for the feature extractor
// without a classifier its largest outputs), and a small dream writes a
// PNG. graph's TestZooMatchesPyTorch checks their numbers.
func TestZooModelsThroughTheCommandLine(t *testing.T) {
	zoo := shared.Path(t, filepath.Join("models", "zoo", "fixtures.json"))
	photo := shared.Path(t, filepath.Join("images", "dog.jpg"))
	files, err := filepath.Glob(filepath.Join(filepath.Dir(zoo), "*.onnx"))
	if err != nil || len(files) < 8 {
		t.Fatalf("%d zoo models (%v), want 8", len(files), err)
	}
	ctx := context.Background()
	for _, model := range files {
		name := strings.TrimSuffix(filepath.Base(model), ".onnx")
		t.Run(name, func(t *testing.T) {
			var sidecar struct {
				DefaultLayer string `json:"default_layer"`
			}
			data, err := os.ReadFile(model + ".json")
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &sidecar); err != nil || sidecar.DefaultLayer == "" {
				t.Fatalf("%s.json: default layer %q (%v)", model, sidecar.DefaultLayer, err)
			}

			code, out, errOut := cli(t, ctx, "layers", "--model", model)
			if code != 0 {
				t.Fatalf("layers: exit %d: %s", code, errOut)
			}
			if !strings.Contains(out, "\n"+sidecar.DefaultLayer+" ") {
				t.Errorf("layers does not list the default layer %s:\n%s", sidecar.DefaultLayer, out)
			}

			code, out, errOut = cli(t, ctx, "classify", "--model", model, photo)
			if code != 0 {
				t.Fatalf("classify: exit %d: %s", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 5 {
				t.Fatalf("classify printed %d lines, want 5:\n%s", len(lines), out)
			}
			prev := 2.0
			for _, l := range lines {
				i := strings.LastIndexByte(l, ' ')
				v, err := strconv.ParseFloat(l[i+1:], 64)
				if i < 1 || err != nil || v > prev {
					t.Fatalf("classify line %q: want a label and a value, best first", l)
				}
				prev = v
			}

			dir := t.TempDir()
			out1 := filepath.Join(dir, "dream.png")
			code, _, errOut = cli(t, ctx, "dream", photo, "-o", out1, "--model", model, "-q",
				"--max-size", "128", "--octaves", "2", "--iterations", "2")
			if code != 0 {
				t.Fatalf("dream: exit %d: %s", code, errOut)
			}
			img, err := imageio.ReadFile(out1, 0)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); max(b.Dx(), b.Dy()) != 128 {
				t.Errorf("dream is %dx%d, want 128 on the longer side", b.Dx(), b.Dy())
			}
		})
	}
}
