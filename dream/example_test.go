package dream_test

import (
	"context"
	"fmt"
	"image"
	"image/color"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/onnx"
)

// A network small enough to build in code: one 3x3 convolution with ReLU.
// Real code opens a model file with graph.Open (see models.Resolve for
// registry names).
func tinyModel() *graph.Model {
	w := make([]float32, 8*3*3*3)
	for i := range w {
		w[i] = float32(i%7-3) * 0.05
	}
	m, err := graph.Load(&onnx.Model{
		IRVersion: 8,
		Opsets:    map[string]int64{"": 13},
		Graph: &onnx.Graph{
			Inputs:       []*onnx.ValueInfo{{Name: "data", ElemType: onnx.Float}},
			Initializers: []*onnx.Tensor{onnx.NewFloatTensor("w", []int64{8, 3, 3, 3}, w)},
			Nodes: []*onnx.Node{
				{OpType: "Conv", Inputs: []string{"data", "w"}, Outputs: []string{"conv"},
					Attrs: []*onnx.Attribute{{Name: "pads", Type: onnx.AttrInts, Ints: []int64{1, 1, 1, 1}}}},
				{Index: 1, OpType: "Relu", Inputs: []string{"conv"}, Outputs: []string{"features"}},
			},
		},
	})
	if err != nil {
		panic(err)
	}
	return m
}

func ExampleNetwork_Dream() {
	net, err := dream.NewNetwork(tinyModel(), dream.Caffe)
	if err != nil {
		panic(err)
	}
	photo := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for i := range photo.Pix {
		photo.Pix[i] = uint8(i * 31)
	}
	opts := dream.Defaults() // the notebook's: 4 octaves of 10 steps, step 1.5, jitter 32
	opts.Layers = []dream.Layer{{Name: "features", Weight: 1}}
	opts.Octaves, opts.Iterations, opts.Seed = 2, 3, 42
	steps := 0
	out, err := net.Dream(context.Background(), photo, opts, func(p dream.Progress) {
		steps++ // p.Preview() renders the dream so far, e.g. for a live view
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(out.Bounds(), steps, "steps")
	_, _, _, a := out.At(0, 0).RGBA()
	fmt.Println("opaque:", a == 0xffff)
	// Output:
	// (0,0)-(64,48) 6 steps
	// opaque: true
}

func ExampleNetwork_NewStepper() {
	net, err := dream.NewNetwork(tinyModel(), dream.Caffe)
	if err != nil {
		panic(err)
	}
	s, err := net.NewStepper(32, 32, []dream.Layer{{Name: "features"}})
	if err != nil {
		panic(err)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := range 32 {
			img.Set(x, y, color.NRGBA{uint8(8 * x), uint8(8 * y), 128, 255})
		}
	}
	x := dream.Caffe.Tensor(img) // 3x32x32, BGR minus the mean
	before, _ := s.Step(context.Background(), x, 0, 0, 1.5)
	after, _ := s.Step(context.Background(), x, 0, 0, 1.5)
	fmt.Println("objective grows:", after > before)
	fmt.Printf("forward: %.2f MFLOP\n", float64(s.ForwardFLOPs())/1e6)
	// Output:
	// objective grows: true
	// forward: 0.44 MFLOP
}
