package dream_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/imageio"
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
	net, err := dream.NewNetwork(tinyModel(), dream.Profile{Preprocess: dream.Caffe})
	if err != nil {
		panic(err)
	}
	photo := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for i := range photo.Pix {
		photo.Pix[i] = uint8(i * 31)
	}
	req := dream.Defaults() // the notebook's: 4 octaves of 10 steps, step 1.5, jitter 32
	req.Layers = []string{"features"}
	req.Octaves, req.Iterations, req.Seed = 2, 3, 42
	steps := 0
	out, err := net.Dream(context.Background(), photo, req, func(p dream.Progress) {
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
	net, err := dream.NewNetwork(tinyModel(), dream.Profile{Preprocess: dream.Caffe})
	if err != nil {
		panic(err)
	}
	s, err := net.NewStepper(32, 32, dream.Objective{{Name: "features"}}, graph.Options{}, dream.Tiling{})
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

func ExampleNetwork_Resolve() {
	net, err := dream.NewNetwork(tinyModel(), dream.Profile{
		Preprocess: dream.Caffe,
		Aliases:    map[string]string{"relu": "features", "conv": "conv"},
	})
	if err != nil {
		panic(err)
	}
	// No default layer in the profile: NewNetwork chose one from the graph.
	fmt.Println("default:", net.DefaultLayer, "-", net.Chosen)
	req := dream.Defaults()
	req.Layers = []string{"relu:0,5=2", "conv"} // an alias; a tensor name, which wins over the alias "conv"
	obj, err := net.Resolve(&req)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", obj)
	req.Layers = []string{"data"}
	_, err = net.Resolve(&req)
	fmt.Println(err)
	// Output:
	// default: relu - the output of block 1 of 1, about two thirds of the way through the network
	// [{Name:features Weight:2 Channels:[0 5] Mask: Guide:<nil> Class:<nil>} {Name:conv Weight:1 Channels:[] Mask: Guide:<nil> Class:<nil>}]
	// dream: "data" is the model's input, not a layer
}

func ExampleFields() {
	req := dream.Defaults()
	for _, f := range dream.Fields() {
		fmt.Printf("--%s %s: %s\n", f.Flag, f.Get(&req), f.Label)
	}
	// Output:
	// --layer : Layer
	// --octaves 4: Octaves
	// --octave-scale 1.4: Octave scale
	// --iterations 10: Iterations per octave
	// --step 1.5: Step size (pixel levels)
	// --jitter 32: Jitter (pixels)
	// --seed 0: Seed
	// --max-size 0: Max size (pixels, 0 = full size)
	// --tile 0: Tile (pixels, 0 = automatic)
	// --winograd true: Winograd convolutions
	// --laplacian 0: Laplacian levels (0 = off)
	// --smooth 0: Smooth (pixels, 0 = off)
	// --keep-colors false: Keep colours
	// --mask : Mask (grey image)
	// --class : Classes
	// --guide : Guide image
}

func ExampleRecord() {
	req := dream.Defaults()
	req.Layers, req.Seed = []string{"inception_4c/output:97"}, 7
	rec := dream.Record{Version: "v1.0", Model: "googlenet", Request: req}
	fmt.Println(rec) // the text embedded in a dream file
	// Output:
	// {"version":"v1.0","model":"googlenet","layers":["inception_4c/output:97"],"octaves":4,"octave_scale":1.4,"iterations":10,"step":1.5,"jitter":32,"seed":7,"max_size":0,"tile":0,"winograd":true,"laplacian":0,"smooth":0,"keep_colors":false,"mask":"","classes":[],"guide":""}
}

// An objective on a plan of one's own, as `deepdream probe` uses it.
func ExampleObjective() {
	m := tinyModel()
	p, err := m.Plan(graph.Spec{
		Inputs:   []graph.InputSpec{{Name: "data", Shape: graph.Shape{1, 3, 8, 8}, Grad: true}},
		Targets:  []string{"features"},
		Backward: true,
	})
	if err != nil {
		panic(err)
	}
	for i := range p.Data("data") {
		p.Data("data")[i] = float32(i%5) - 2
	}
	if err := p.Forward(context.Background()); err != nil {
		panic(err)
	}
	obj := dream.Objective{{Name: "features"}}
	fmt.Printf("objective %.4g\n", obj.Seed(p)) // and the gradient w.r.t. features, for Backward
	if err := p.Backward(context.Background()); err != nil {
		panic(err)
	}
	fmt.Println("input gradient:", len(p.Grad("data")), "values")
	// Output:
	// objective 27.04
	// input gradient: 192 values
}

func ExampleNetwork_DreamPhoto() {
	net, err := dream.NewNetwork(tinyModel(), dream.Profile{Preprocess: dream.Caffe})
	if err != nil {
		panic(err)
	}
	var photo bytes.Buffer // a photo file as read from disk or an upload
	img := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	if err := png.Encode(&photo, img); err != nil {
		panic(err)
	}
	req := dream.Defaults()
	req.Octaves, req.Iterations = 2, 3
	rec := dream.Record{Version: "example", Model: "tiny", Request: req}
	file, out, err := net.DreamPhoto(context.Background(), &photo, dream.Photo{Format: "png"}, rec, nil)
	if err != nil {
		panic(err)
	}
	meta, _ := imageio.ReadMetadata(bytes.NewReader(file)) // what --from reads back
	fmt.Println(out.Bounds(), strings.Contains(meta, `"layers":["features"]`))
	// Output:
	// (0,0)-(40,30) true
}

// A mask: the dream scales its steps by the mask's grey, here black on the
// left half, white on the right. The mask is a file (LoadImage); its name
// in the request is how the record names it.
func ExampleLoadImage() {
	net, err := dream.NewNetwork(tinyModel(), dream.Profile{Preprocess: dream.Caffe})
	if err != nil {
		panic(err)
	}
	photo := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for i := range photo.Pix {
		photo.Pix[i] = uint8(i*31) | uint8(i%4/3*255) // opaque
	}
	half := image.NewGray(image.Rect(0, 0, 8, 6)) // resized to the photo
	for y := range 6 {
		for x := 4; x < 8; x++ {
			half.SetGray(x, y, color.Gray{Y: 255})
		}
	}
	var file bytes.Buffer // as read from disk or an upload
	if err := png.Encode(&file, half); err != nil {
		panic(err)
	}
	mask, err := dream.LoadImage(&file, 0)
	if err != nil {
		panic(err)
	}
	req := dream.Defaults()
	req.Layers = []string{"features"}
	req.Octaves, req.Iterations = 2, 3
	req.Mask, req.Images = "half.png", map[string]dream.Image{"half.png": mask}
	req.KeepColors, req.Laplacian, req.Smooth = true, 2, 0.5 // the rest of the look
	out, err := net.Dream(context.Background(), photo, req, nil)
	if err != nil {
		panic(err)
	}
	changed := [2]int{} // pixels of the left and right halves
	for y := range 48 {
		for x := range 64 {
			if out.At(x, y) != photo.At(x, y) {
				changed[x/32]++
			}
		}
	}
	fmt.Println("changed on the left:", changed[0], "on the right:", changed[1] > 0)
	rec := dream.Record{Version: "example", Model: "tiny", Request: req}
	fmt.Println(strings.Contains(rec.String(), `"mask":"half.png",`), strings.HasSuffix(rec.String(), `"images":{"half.png":"`+mask.SHA256+`"}}`))
	// Output:
	// changed on the left: 0 on the right: true
	// true true
}

// A path given on the command line becomes its base name, so that the
// record embedded in the dream names no directory.
func ExampleRequest_RenameImages() {
	req := dream.Defaults()
	req.Mask = "/home/me/masks/sky.png"
	req.Layers = []string{"inception_4c/output@/home/me/masks/left.png", "inception_3b/output"}
	err := req.RenameImages(func(key, name string) (string, error) {
		return filepath.Base(name), nil // and load the file into req.Images
	})
	fmt.Println(req.Mask, req.Layers, err)
	// Output:
	// sky.png [inception_4c/output@left.png inception_3b/output] <nil>
}

// tinyClassifier is tinyModel with a classifier of three classes after
// its features: a global average pool and a fully connected layer.
func tinyClassifier() *graph.Model {
	m := tinyModel().Graph
	fc := make([]float32, 3*8)
	for i := range fc {
		fc[i] = float32(i%5-2) * 0.1
	}
	m.Initializers = append(m.Initializers, onnx.NewFloatTensor("fc", []int64{3, 8}, fc))
	m.Nodes = append(m.Nodes,
		&onnx.Node{Index: 2, OpType: "GlobalAveragePool", Inputs: []string{"features"}, Outputs: []string{"pool"}},
		&onnx.Node{Index: 3, OpType: "Flatten", Inputs: []string{"pool"}, Outputs: []string{"flat"}},
		&onnx.Node{Index: 4, OpType: "Gemm", Inputs: []string{"flat", "fc"}, Outputs: []string{"scores"},
			Attrs: []*onnx.Attribute{{Name: "transB", Type: onnx.AttrInt, I: 1}}})
	m.Outputs = []*onnx.ValueInfo{{Name: "scores", ElemType: onnx.Float}}
	g, err := graph.Load(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: m})
	if err != nil {
		panic(err)
	}
	return g
}

// A dream towards a class of the network's classifier, by name, with a
// layer (the class then moves the image as much as the layer does).
func ExampleNetwork_Dream_class() {
	net, err := dream.NewNetwork(tinyClassifier(), dream.Profile{
		Preprocess: dream.Caffe,
		Classes:    []string{"tench", "goldfish", "great white shark"}, // models.ImageNetClasses() for real models
	})
	if err != nil {
		panic(err)
	}
	photo := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for i := range photo.Pix {
		photo.Pix[i] = uint8(i * 31)
	}
	req := dream.Defaults()
	req.Layers, req.Classes = []string{"features"}, []string{"GoldFish=0.5"}
	req.Octaves, req.Iterations = 2, 3
	obj, err := net.Resolve(&req)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s reads %s\n", obj[1].Class.Label, obj[1].Name)
	if _, err := net.Dream(context.Background(), photo, req, nil); err != nil {
		panic(err)
	}
	for _, spec := range []string{"shark", "gold fsh"} { // whole words of one name; a typo
		req.Classes = []string{spec}
		obj, err = net.Resolve(&req)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(spec, "is", obj[1].Class.Label)
	}
	// Output:
	// goldfish reads scores
	// shark is great white shark
	// dream: class "gold fsh": no such class among the model's 3; closest: goldfish (1), tench (0), great white shark (2)
}

func ExampleParseClass() {
	for _, spec := range []string{"Siberian husky=2", "281=-0.5", "tabby=0"} {
		l, err := dream.ParseClass(spec)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%q index %d weight %v\n", l.Class.Spec, l.Class.Index, l.Weight)
	}
	// Output:
	// "Siberian husky" index -1 weight 2
	// "281" index 281 weight -0.5
	// weight "0" is 0, which would dream nothing of the class: leave the class out instead
}

// A guided dream: the guide is an image of the request, as a mask is: read
// from a file (LoadImage; here a PNG in memory) and named in the request,
// which the record names it by, with its sha256.
func ExampleNetwork_Dream_guide() {
	net, err := dream.NewNetwork(tinyModel(), dream.Profile{Preprocess: dream.Caffe})
	if err != nil {
		panic(err)
	}
	var file bytes.Buffer // a guide image file, e.g. os.Open("flowers.jpg")
	guideImg := image.NewNRGBA(image.Rect(0, 0, 30, 20))
	for i := range guideImg.Pix {
		guideImg.Pix[i] = uint8(i * 5)
	}
	if err := png.Encode(&file, guideImg); err != nil {
		panic(err)
	}
	guide, err := dream.LoadImage(&file, 0)
	if err != nil {
		panic(err)
	}
	req := dream.Defaults()
	req.Guide, req.Images = "flowers.png", map[string]dream.Image{"flowers.png": guide}
	req.Octaves, req.Iterations = 1, 2
	photo := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	out, err := net.Dream(context.Background(), photo, req, nil)
	if err != nil {
		panic(err)
	}
	rec := dream.Record{Version: "example", Model: "tiny", Request: req}
	fmt.Println(out.Bounds(), strings.Contains(rec.String(), `"guide":"flowers.png",`),
		strings.HasSuffix(rec.String(), `"images":{"flowers.png":"`+guide.SHA256+`"}}`))
	// Output:
	// (0,0)-(40,30) true true
}

// The guided objective on a plan of one's own: Guided gives each layer
// term the guide's features at that layer.
func ExampleNetwork_Guided() {
	net, err := dream.NewNetwork(tinyModel(), dream.Profile{Preprocess: dream.Caffe})
	if err != nil {
		panic(err)
	}
	guide := image.NewNRGBA(image.Rect(0, 0, 32, 16))
	for i := range guide.Pix {
		guide.Pix[i] = uint8(i * 3)
	}
	obj, err := net.Guided(context.Background(), dream.Objective{{Name: "features"}}, guide, graph.Options{})
	if err != nil {
		panic(err)
	}
	f := obj[0].Guide // the guide at the network's size, 224 pixels on its longer side
	fmt.Printf("%d vectors of %d channels\n", f.Positions, f.Channels)
	// Output:
	// 25088 vectors of 8 channels
}

func ExampleNetwork_Zoom() {
	net, err := dream.NewNetwork(tinyModel(), dream.Profile{Preprocess: dream.Caffe})
	if err != nil {
		panic(err)
	}
	photo := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for i := range photo.Pix {
		photo.Pix[i] = uint8(i * 31)
	}
	req := dream.ZoomDefaults() // lighter than Defaults: each frame starts from the last one's dream
	req.Layers = []string{"features"}
	req.Octaves, req.Iterations = 1, 2
	z := dream.ZoomOptions{Frames: 3, Camera: dream.Camera{Zoom: 1.05, Rotate: 1}}
	err = net.Zoom(context.Background(), photo, req, z, func(f dream.Frame) error {
		// Write f.Image somewhere (package video writes MP4s, GIFs and
		// frame directories); to resume a job, give ZoomOptions.Done and Last.
		fmt.Println("frame", f.Index, f.Image.Bounds())
		return nil
	}, func(p dream.MotionProgress) {
		// p.Step of p.Steps over the whole job, p.ETA
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// frame 0 (0,0)-(64,48)
	// frame 1 (0,0)-(64,48)
	// frame 2 (0,0)-(64,48)
}

// frames is a dream.FrameReader of frames in memory; video.Open reads
// video files and directories of frames.
type frames []*image.NRGBA

func (f *frames) Read() (*image.NRGBA, error) {
	if len(*f) == 0 {
		return nil, io.EOF
	}
	img := (*f)[0]
	*f = (*f)[1:]
	return img, nil
}

func ExampleNetwork_Video() {
	net, err := dream.NewNetwork(tinyModel(), dream.Profile{Preprocess: dream.Caffe})
	if err != nil {
		panic(err)
	}
	var in frames
	for k := range 3 { // a picture moving right by 2 pixels a frame
		img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
		for y := range 48 {
			for x := range 64 {
				img.Set(x, y, color.NRGBA{uint8((x - 2*k) * 9), uint8(y * 5), uint8((x - 2*k) * y), 255})
			}
		}
		in = append(in, img)
	}
	req := dream.VideoDefaults()
	req.Layers = []string{"features"}
	req.Octaves, req.Iterations = 1, 2
	v := dream.VideoOptions{Blend: dream.DefaultBlend, Measure: true, Frames: len(in)}
	err = net.Video(context.Background(), &in, req, v, func(f dream.Frame) error {
		fmt.Printf("frame %d %v measured: %v\n", f.Index, f.Image.Bounds(), !math.IsNaN(f.Flicker))
		return nil
	}, nil)
	if err != nil {
		panic(err)
	}
	// Output:
	// frame 0 (0,0)-(64,48) measured: false
	// frame 1 (0,0)-(64,48) measured: true
	// frame 2 (0,0)-(64,48) measured: true
}

// Network.Estimate says, before anything is dreamed, how a dream of a
// photo of a size is tiled and what memory it takes at its peak; a
// request whose dream does not fit its MaxMemory is a *MemoryError.
func ExampleNetwork_Estimate() {
	net, err := dream.NewNetwork(tinyModel(), dream.Profile{Preprocess: dream.Caffe})
	if err != nil {
		panic(err)
	}
	req := dream.Defaults()
	req.Layers = []string{"features"}
	req.Tile = 512 // 0 would choose it from req.MaxMemory
	e, err := net.Estimate(3000, 2000, req)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%dx%d in %d windows of %dx%d a step, halo %d\n", e.Width, e.Height, e.Windows, e.WindowWidth, e.WindowHeight, e.Halo)
	req.MaxMemory = e.Bytes / 2
	_, err = net.Estimate(3000, 2000, req)
	var me *dream.MemoryError
	fmt.Println("refused in half of it:", errors.As(err, &me))
	// Output:
	// 3000x2000 in 24 windows of 512x512 a step, halo 4
	// refused in half of it: true
}
