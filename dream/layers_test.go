package dream

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/shared"
	"github.com/deepdream-go/deepdream/internal/tinynet"
	"github.com/deepdream-go/deepdream/onnx"
)

func TestLayersListsShapesAndAliases(t *testing.T) {
	n, err := NewNetwork(tinynet.Model(), Profile{Preprocess: Caffe, Aliases: map[string]string{"relu": "r", "b": "r", "conv": "c", "gone": "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := n.Layers(10, 6)
	if err != nil || got.Failed != 0 || len(got.Causes) != 0 {
		t.Fatal(got, err)
	}
	want := []LayerInfo{{Tensor: "c", Alias: "conv", Shape: []int{1, 4, 6, 10}}, {Tensor: "r", Alias: "b", Shape: []int{1, 4, 6, 10}, Main: true}}
	if len(got.Layers) != len(want) {
		t.Fatalf("layers %+v, want %+v", got.Layers, want)
	}
	for i, w := range want {
		if l := got.Layers[i]; l.Tensor != w.Tensor || l.Alias != w.Alias || !l.Shape.Equal(w.Shape) || l.Main != w.Main || !l.Dreamable() {
			t.Errorf("layer %d = %+v, want %+v", i, l, w)
		}
	}
	if _, ok := n.Aliases["gone"]; ok {
		t.Error(`the alias "gone" names no tensor of the model, yet applies`)
	}
}

func TestTensorNamesLayersOnly(t *testing.T) {
	n, err := NewNetwork(tinynet.Model(), Profile{Preprocess: Caffe, Aliases: map[string]string{"c": "r", "relu": "r", "gone": "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want, err string }{
		{"c", "c", ""},    // an exact tensor name wins over the alias "c"
		{"relu", "r", ""}, // an alias whose tensor exists
		{"gone", "", `no layer "gone"`},
		{"x", "", `"x" is the model's input, not a layer`},
		{"w", "", `"w" is a weight or constant of the model, not a layer`},
		{"rr", "", `no layer "rr"; closest tensor names: r, c`},
	} {
		got, err := n.Tensor(tc.name)
		if tc.err == "" && (err != nil || got != tc.want) {
			t.Errorf("Tensor(%q) = %q, %v; want %q", tc.name, got, err, tc.want)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Tensor(%q) error %v, want one with %q", tc.name, err, tc.err)
		}
	}
}

func TestResolveFillsTheDefaultAndChecksChannels(t *testing.T) {
	n, err := NewNetwork(tinynet.Model(), Profile{Preprocess: Caffe, DefaultLayer: "relu:2", Aliases: map[string]string{"relu": "r"}})
	if err != nil {
		t.Fatal(err)
	}
	req := Defaults()
	obj, err := n.Resolve(&req)
	if err != nil || !slices.Equal(req.Layers, []string{"relu:2"}) || len(obj) != 1 || obj[0].Name != "r" || !slices.Equal(obj[0].Channels, []int{2}) {
		t.Fatalf("Resolve(no layers) = %+v, %v, request layers %v; want r:2 and the default in the request", obj, err, req.Layers)
	}
	for spec, want := range map[string]string{
		"r:4":    "channel 4 does not exist",
		"r=x":    `layer "r=x": weight "x" is not a number`,
		"input1": `no layer "input1"`,
	} {
		req.Layers = []string{spec}
		if _, err := n.Resolve(&req); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve(%q) error %v, want one with %q", spec, err, want)
		}
	}
}

// TestDefaultLayerOfModelFiles checks the default layer chosen for
// PyTorch exports that name none: the output of the block at about two
// thirds of the depth, as their sidecars' friendly names say (resnet18's
// layer3, squeezenet's fire7, the registry's choice for its SqueezeNet).
func TestDefaultLayerOfModelFiles(t *testing.T) {
	for _, tc := range []struct{ file, layer, how string }{
		{"models/zoo/resnet18_op17.onnx", "/layer3/layer3.1/relu_1/Relu_output_0", "block 6 of 8"},
		{"models/zoo/squeezenet1_1_op9.onnx", "/features/features.10/Concat_output_0", "block 6 of 8"},
	} {
		m, err := graph.Open(shared.Path(t, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		n, err := NewNetwork(m, Profile{Preprocess: ImageNet})
		if err != nil {
			t.Fatal(err)
		}
		if n.DefaultLayer != tc.layer || !strings.Contains(n.Chosen, tc.how) || len(n.MainLayers) != 8 {
			t.Errorf("%s: default layer %q (%s), %d main layers; want %q (%s), 8", tc.file, n.DefaultLayer, n.Chosen, len(n.MainLayers), tc.layer, tc.how)
		}
	}
}

// TestLayersNameWhatCannotBeComputed lists a model with an operator the
// engine lacks: the layers before it are listed, those after it counted,
// and the node named.
func TestLayersNameWhatCannotBeComputed(t *testing.T) {
	w := onnx.NewFloatTensor("w", []int64{4, 3, 1, 1}, make([]float32, 12))
	m, err := graph.Load(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Inputs:       []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float}},
		Initializers: []*onnx.Tensor{w},
		Nodes: []*onnx.Node{
			{OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"c"}},
			{Index: 1, Name: "swish", OpType: "Swish", Inputs: []string{"c"}, Outputs: []string{"s"}},
			{Index: 2, OpType: "Relu", Inputs: []string{"s"}, Outputs: []string{"r"}},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNetwork(m, Profile{Preprocess: Caffe})
	if err != nil {
		t.Fatal(err)
	}
	got, err := n.Layers(8, 8)
	if err != nil {
		t.Fatal(err)
	}
	var ne *graph.NodeError
	if len(got.Layers) != 1 || got.Layers[0].Tensor != "c" || got.Failed != 2 || len(got.Causes) != 1 ||
		!errors.As(got.Causes[0], &ne) || ne.OpType != "Swish" || ne.Index != 1 || ne.Opset != 13 {
		t.Errorf("Layers = %+v, want c listed, s and r failed at node 1 (Swish, opset 13)", got)
	}
	if n.DefaultLayer != "c" {
		t.Errorf("default layer %q, want c, the one layer the engine can compute", n.DefaultLayer)
	}
	req := Request{Layers: []string{"r"}}
	if _, err := n.Resolve(&req); err == nil || !strings.Contains(err.Error(), `layer "r" cannot be computed: it depends on graph: node 1 ("swish"): Swish`) {
		t.Errorf("Resolve(r) error %v, want one naming the Swish node", err)
	}
}
