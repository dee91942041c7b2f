package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/internal/shared"
	"github.com/deepdream-go/deepdream/internal/tinynet"
	"github.com/deepdream-go/deepdream/onnx"
)

// writeONNX writes a model file of tinynet's graph (x -> Conv -> c ->
// Relu -> r) with nodes appended after it, reading r first.
func writeONNX(t testing.TB, extra ...*onnx.Node) string {
	t.Helper()
	g := tinynet.Model().Graph
	for i, n := range extra {
		n.Index = len(g.Nodes) + i
	}
	g.Nodes = append(g.Nodes, extra...)
	g.Outputs = []*onnx.ValueInfo{{Name: g.Nodes[len(g.Nodes)-1].Outputs[0], ElemType: onnx.Float}}
	path := filepath.Join(t.TempDir(), "net.onnx")
	if err := os.WriteFile(path, onnx.Encode(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: g}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLayersNamesUnsupportedOperators lists a model with an operator the
// engine lacks: the layers before it, then the operator, its first node
// and opset; the input and the weight are not layers.
func TestLayersNamesUnsupportedOperators(t *testing.T) {
	model := writeONNX(t,
		&onnx.Node{Name: "gate", OpType: "NonMaxSuppression", Inputs: []string{"r"}, Outputs: []string{"g"}},
		&onnx.Node{OpType: "NonMaxSuppression", Inputs: []string{"g"}, Outputs: []string{"g2"}},
	)
	code, out, errOut := cli(t, context.Background(), "layers", "--model", model, "--size", "32x24", "--all")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "1x4x24x32") || strings.Contains(out, " x ") || strings.Contains(out, " w ") {
		t.Errorf("stdout:\n%s\nwant c and r, neither the input x nor the weight w", out)
	}
	want := model + `: 2 tensors cannot be computed at 32x24 and are not listed:
  unsupported operator NonMaxSuppression (opset 13): 2 nodes, the first node 2 ("gate")`
	if !strings.Contains(errOut, want) || strings.Contains(errOut, "another size") || strings.Contains(errOut, "assuming") {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, want)
	}
}

func TestLayersFailsWhenNothingCanBeDreamed(t *testing.T) {
	g := tinynet.Model().Graph
	g.Nodes[0].OpType = "ConvInteger" // the first node: nothing can be computed
	path := filepath.Join(t.TempDir(), "net.onnx")
	if err := os.WriteFile(path, onnx.Encode(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: g}), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cli(t, context.Background(), "layers", "--model", path)
	if code != 1 || !strings.Contains(errOut, `unsupported operator ConvInteger (opset 13): 1 node, the first node 0`) ||
		!strings.Contains(errOut, "nothing to dream with") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 naming ConvInteger", code, errOut)
	}
}

// TestModelFileNotes checks what is said about a model file without a
// sidecar (../shared's resnet18_op17, linked away from its sidecar): each
// assumption once, and only where the command uses it.
func TestModelFileNotes(t *testing.T) {
	src, err := filepath.Abs(shared.Path(t, "models/zoo/resnet18_op17.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	model := filepath.Join(dir, "r18.onnx")
	if err := os.Symlink(src, model); err != nil {
		t.Skip(err)
	}
	photo := writePNG(t, dir, 40, 30)
	npy, err := filepath.Abs(shared.Path(t, "models/zoo/dog_input_224.npy"))
	if err != nil {
		t.Fatal(err)
	}
	const pre, layer = "4 preprocessing settings not set", "dreaming /layer3/layer3.1/relu_1/Relu_output_0, the output of block 6 of 8"
	out := filepath.Join(dir, "o.png")
	small := []string{"--octaves", "1", "--iterations", "1"}
	for _, tc := range []struct {
		args      []string
		pre, deep bool // the notes expected
	}{
		{append([]string{"dream", photo, "-o", out, "--model", model}, small...), true, true},
		{append([]string{"dream", photo, "-o", out, "--model", model, "--layer", "/layer1/layer1.1/relu_1/Relu_output_0"}, small...), true, false},
		{append([]string{"dream", photo, "-o", out, "--model", model, "--bgr=false", "--scale", "0.00392157",
			"--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"}, small...), false, true},
		{[]string{"probe", "--model", model, "--input", npy, "--layer", "/layer3/layer3.1/relu_1/Relu_output_0"}, false, false},
		{[]string{"probe", "--model", model, "--input", photo, "--layer", "/layer2/layer2.0/relu_1/Relu_output_0"}, true, false},
		{[]string{"layers", "--model", model}, false, false},
		{[]string{"bench", "--model", model, "--size", "32x32", "--steps", "1"}, false, true},
	} {
		code, _, errOut := cli(t, context.Background(), tc.args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", tc.args, code, errOut)
		}
		if n := strings.Count(errOut, pre); n != map[bool]int{true: 1}[tc.pre] {
			t.Errorf("%v: the preprocessing note %d times:\n%s", tc.args[:1], n, errOut)
		}
		if n := strings.Count(errOut, layer); n != map[bool]int{true: 1}[tc.deep] {
			t.Errorf("%v: the default layer note %d times:\n%s", tc.args, n, errOut)
		}
	}
}

// TestExactTensorNameWins dreams a layer named exactly like an alias of
// the model ("inception_4c/output", GoogLeNet's name for another tensor):
// the tensor of that name is dreamed, where the alias used to redirect it
// to a tensor the file does not have.
func TestExactTensorNameWins(t *testing.T) {
	model := writeONNX(t, &onnx.Node{OpType: "Relu", Inputs: []string{"r"}, Outputs: []string{"inception_4c/output"}})
	sidecar := `{"aliases": {"inception_4c/output": "inception_4c/output_1", "relu": "r"}, "default_layer": "relu"}`
	if err := os.WriteFile(model+".json", []byte(sidecar), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	code, _, errOut := cli(t, context.Background(), "dream", writePNG(t, dir, 24, 16), "-o", filepath.Join(dir, "o.png"),
		"--model", model, "--layer", "inception_4c/output", "--octaves", "1", "--iterations", "1", "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got := embedded(t, filepath.Join(dir, "o.png")).Request.Layers; len(got) != 1 || got[0] != "inception_4c/output" {
		t.Errorf("recorded layers %v", got)
	}
}
