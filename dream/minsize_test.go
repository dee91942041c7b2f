package dream

import (
	"context"
	"errors"
	"image"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/tinynet"
	"github.com/deepdream-go/deepdream/onnx"
)

// pooledNet is tinynet with two 4x4 max pools of stride 4 after it: r ->
// p1 (needs 4 pixels) -> p2 (needs 16).
func pooledNet(t *testing.T) *Network {
	t.Helper()
	g := tinynet.Model().Graph
	pool := func(in, out string) *onnx.Node {
		return &onnx.Node{Index: len(g.Nodes), OpType: "MaxPool", Inputs: []string{in}, Outputs: []string{out}, Attrs: []*onnx.Attribute{
			{Name: "kernel_shape", Type: onnx.AttrInts, Ints: []int64{4, 4}},
			{Name: "strides", Type: onnx.AttrInts, Ints: []int64{4, 4}},
		}}
	}
	g.Nodes = append(g.Nodes, pool("r", "p1"))
	g.Nodes = append(g.Nodes, pool("p1", "p2"))
	g.Outputs = []*onnx.ValueInfo{{Name: "p2", ElemType: onnx.Float}}
	m, err := graph.Load(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: g})
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNetwork(m, Profile{Preprocess: Caffe, Aliases: map[string]string{"deep": "p2"}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMinSide(t *testing.T) {
	n := pooledNet(t)
	for _, c := range []struct {
		layers []string
		side   int
		layer  string
	}{
		{[]string{"r"}, 1, "r"},
		{[]string{"p1"}, 4, "p1"},
		{[]string{"r", "deep", "p1"}, 16, "deep"},
	} {
		obj, err := n.Resolve(&Request{Layers: c.layers})
		if err != nil {
			t.Fatal(err)
		}
		if side, layer := n.MinSide(obj); side != c.side || layer != c.layer {
			t.Errorf("%v: MinSide %d (%s), want %d (%s)", c.layers, side, layer, c.side, c.layer)
		}
	}
}

// TestDreamTooSmall dreams images the layer is too deep for, also once
// MaxSize has shrunk a panorama: each is refused with the least size and
// the layer that needs it, where the engine's error said "window larger
// than the padded input"; one just large enough dreams.
func TestDreamTooSmall(t *testing.T) {
	n := pooledNet(t)
	for _, c := range []struct {
		w, h, maxSize int
		ok            bool
	}{
		{1, 1, 0, false}, {10, 10, 0, false}, {2000, 30, 256, false}, {16, 16, 0, true}, {40, 16, 0, true},
	} {
		req := Defaults()
		req.Layers, req.Octaves, req.Iterations, req.MaxSize = []string{"deep"}, 2, 1, c.maxSize
		_, err := n.Dream(context.Background(), image.NewNRGBA(image.Rect(0, 0, c.w, c.h)), req, nil)
		var small *TooSmallError
		switch {
		case c.ok && err != nil:
			t.Errorf("%dx%d: %v", c.w, c.h, err)
		case !c.ok && !errors.As(err, &small):
			t.Errorf("%dx%d (max size %d): %v, want a TooSmallError", c.w, c.h, c.maxSize, err)
		case !c.ok && (small.Min != 16 || small.Layer != "deep"):
			t.Errorf("%dx%d: %v, want at least 16 pixels for layer deep", c.w, c.h, err)
		}
	}
}
