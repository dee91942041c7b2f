package models

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/onnx"
)

func TestRegistryEntriesAreWellFormed(t *testing.T) {
	entries := Registry()
	if len(entries) != 9 || entries[0].Name != DefaultName {
		t.Fatalf("registry has %d entries, first %q; want 9, %q first", len(entries), entries[0].Name, DefaultName)
	}
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.Name] {
			t.Errorf("%s: listed twice", e.Name)
		}
		seen[e.Name] = true
		if !hex64.MatchString(e.SHA256) || e.Size <= 0 || !strings.HasSuffix(e.File, ".onnx") || e.InputSize != 224 {
			t.Errorf("%s: bad identity %+v", e.Name, e)
		}
		stem := strings.TrimSuffix(e.File, ".onnx")
		if len(e.URLs) < 2 || e.URLs[0] != "https://huggingface.co/onnxmodelzoo/"+stem+"/resolve/main/"+e.File ||
			!strings.HasPrefix(e.URLs[1], "https://github.com/onnx/models/raw/main/validated/vision/classification/") {
			t.Errorf("%s: URLs %v", e.Name, e.URLs)
		}
		for _, u := range e.URLs {
			if !strings.HasSuffix(u, "/"+e.File) {
				t.Errorf("%s: URL %s does not end in the file name", e.Name, u)
			}
		}
		if e.DefaultLayer == "" {
			t.Errorf("%s: no default layer", e.Name)
		}
		if _, ok := e.Aliases[e.DefaultLayer]; len(e.Aliases) > 0 && !ok {
			t.Errorf("%s: default layer %q is not one of its aliases", e.Name, e.DefaultLayer)
		}
		for _, l := range e.MainLayers {
			if _, ok := e.Aliases[l]; !ok {
				t.Errorf("%s: main layer %q has no alias", e.Name, l)
			}
		}
		if p := e.Preprocess; p != dream.Caffe && p != dream.ImageNet {
			t.Errorf("%s: preprocessing %v is neither Caffe's nor ImageNet's", e.Name, p)
		}
	}
	g, err := Lookup("googlenet")
	if err != nil || g.Aliases["inception_4c/output"] != "inception_4c/output_1" || len(g.MainLayers) != 9 ||
		g.MainLayers[0] != "inception_3a/output" || g.MainLayers[8] != "inception_5b/output" {
		t.Errorf("googlenet = %+v, %v", g, err)
	}
	if _, err := Lookup("alexnet"); err == nil || !strings.Contains(err.Error(), "googlenet, googlenet-12") {
		t.Errorf("Lookup(unknown) error = %v", err)
	}
	v16, _ := Lookup("vgg16")
	v19, _ := Lookup("vgg19")
	if v16.Aliases["conv5_3"] != "vgg0_relu12_fwd" || v19.Aliases["conv5_4"] != "vgg0_relu15_fwd" || v19.Aliases["pool5"] != "vgg0_pool4_fwd" {
		t.Error("VGG aliases do not count convolutions from 0 across blocks")
	}
	r1, _ := Lookup("resnet50")
	r2, _ := Lookup("resnet50-v2")
	if r1.Aliases["stage3"] != "resnetv17_stage3_activation5" || r2.Aliases["stage4"] != "resnetv24_stage4__plus2" {
		t.Error("ResNet stage aliases are wrong")
	}
	sq, _ := Lookup("squeezenet")
	if sq.Aliases["fire9"] != "squeezenet0_concat7" {
		t.Error("SqueezeNet aliases are wrong")
	}
}

// The GoogLeNet aliases must name real tensors: check them against the
// shared copy laid out like googlenet-7.onnx, when it is there.
func TestGoogLeNetAliasesNameRealTensors(t *testing.T) {
	const file = "../../shared/models/googlenet-bvlc.onnx"
	if _, err := os.Stat(file); err != nil {
		t.Skip("shared GoogLeNet not available:", err)
	}
	m, err := onnx.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	produced := map[string]bool{}
	for _, n := range m.Graph.Nodes {
		for _, o := range n.Outputs {
			produced[o] = true
		}
	}
	for alias, tensor := range googLeNetAliases {
		if !produced[tensor] {
			t.Errorf("alias %s -> %s: no node produces that tensor", alias, tensor)
		}
	}
	// The last version of each blob is the one to alias: no node writes a
	// later one.
	for alias, tensor := range googLeNetAliases {
		next := tensor[:len(tensor)-1] + string(tensor[len(tensor)-1]+1)
		if produced[next] {
			t.Errorf("alias %s -> %s, but %s is a later version", alias, tensor, next)
		}
	}
}
