package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/internal/shared"
)

// link makes a model file of ../shared appear as dir/net.onnx, without
// the sidecar beside the original.
func link(t *testing.T, rel string) string {
	t.Helper()
	src, err := filepath.Abs(shared.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "net.onnx")
	if err := os.Symlink(src, dst); err != nil {
		t.Skip("cannot link the model:", err)
	}
	return dst
}

func open(t *testing.T, path string) (*Entry, string, string) {
	t.Helper()
	e, preNote, err := FileEntry(path, Override{})
	if err != nil {
		t.Fatal(err)
	}
	net, layerNote, err := e.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	e.Profile = net.Profile
	return e, preNote, layerNote
}

func TestOpenGivesAGoogLeNetFileGoogLeNetsNames(t *testing.T) {
	e, _, note := open(t, link(t, "models/googlenet-bvlc.onnx"))
	if e.DefaultLayer != "inception_4c/output" || e.Aliases["inception_4c/output"] != "inception_4c/output_1" || len(e.MainLayers) != 9 {
		t.Errorf("profile %+v, want GoogLeNet's names", e.Profile)
	}
	if !strings.Contains(note, "GoogLeNet's inception modules") || !strings.Contains(note, "net.onnx.json") {
		t.Errorf("note %q", note)
	}
}

// TestOpenChoosesALayerForOtherFiles opens a PyTorch export without its
// sidecar: no GoogLeNet names, and a default layer from the graph, said.
func TestOpenChoosesALayerForOtherFiles(t *testing.T) {
	e, _, note := open(t, link(t, "models/zoo/resnet18_op17.onnx"))
	const want = "/layer3/layer3.1/relu_1/Relu_output_0"
	if e.DefaultLayer != want || len(e.Aliases) != 0 {
		t.Errorf("profile %+v, want default layer %s and no aliases", e.Profile, want)
	}
	if !strings.Contains(note, "dreaming "+want+", the output of block 6 of 8") {
		t.Errorf("note %q", note)
	}
	// With its sidecar, nothing is assumed.
	e, preNote, note := open(t, shared.Path(t, "models/zoo/resnet18_op17.onnx"))
	if preNote != "" || note != "" || e.DefaultLayer != "layer2" {
		t.Errorf("with the sidecar: default %q, notes %q, %q", e.DefaultLayer, preNote, note)
	}
}
