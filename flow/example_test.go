package flow_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/deepdream-go/deepdream/flow"
)

func ExampleEstimate() {
	// A pattern, and the same moved 2 px right and 1 px up.
	pattern := func(x, y int) color.Gray {
		fx, fy := float64(x), float64(y)
		return color.Gray{uint8(128 + 50*math.Sin(fx/3.1+fy/7) + 50*math.Cos(fy/4.3-fx/9))}
	}
	a := image.NewGray(image.Rect(0, 0, 64, 48))
	b := image.NewGray(a.Rect)
	for y := range 48 {
		for x := range 64 {
			a.SetGray(x, y, pattern(x, y))
			b.SetGray(x, y, pattern(x-2, y+1))
		}
	}
	f, err := flow.Estimate(context.Background(), flow.Gray(a), flow.Gray(b), flow.Options{})
	if err != nil {
		panic(err)
	}
	dx, dy := f.At(32, 24)
	fmt.Printf("the pixel (32, 24) moved by (%.1f, %.1f)\n", dx, dy)
	// Output: the pixel (32, 24) moved by (2.0, -1.0)
}

func ExampleField_Warp() {
	// Carry a picture (three planes) along a flow: each pixel takes the
	// colour found where the flow says it is.
	f := flow.NewField(4, 1)
	for i := range 4 {
		f.D[2*i] = 1 // everything comes from one pixel to the right
	}
	src := []float32{0, 10, 20, 30, 0, 0, 0, 0, 1, 1, 1, 1}
	dst := make([]float32, len(src))
	inside := make([]bool, 4)
	f.Warp(dst, src, 3, inside)
	fmt.Println(dst[:4], inside)
	// Output: [10 20 30 0] [true true true false]
}

func ExampleEstimateTo() {
	// A video's flows, frame after frame, into one Field: after the first
	// pair, EstimateTo reuses its memory and allocates nothing.
	frames := make([]*flow.Image, 3)
	for k := range frames {
		frames[k] = flow.NewImage(48, 32)
		for y := range 32 {
			for x := range 48 {
				fx, fy := float64(x-k), float64(y) // moving 1 px right a frame
				frames[k].Pix[y*48+x] = float32(128 + 60*math.Sin(fx/3.3+fy/6) + 40*math.Cos(fy/4.1-fx/8))
			}
		}
	}
	var f flow.Field
	for k := 1; k < len(frames); k++ {
		if err := flow.EstimateTo(context.Background(), &f, frames[k-1], frames[k], flow.Options{}); err != nil {
			panic(err)
		}
		dx, dy := f.At(24, 16)
		fmt.Printf("frame %d to %d: %.1f px right, %.1f px down\n", k-1, k, dx, math.Abs(float64(dy)))
	}
	// Output:
	// frame 0 to 1: 1.0 px right, 0.0 px down
	// frame 1 to 2: 1.0 px right, 0.0 px down
}

func ExampleConsistent() {
	// A forward flow of 1 px right and a backward flow that undoes it,
	// except where pixel 2 lands: what is there in the second frame came
	// from elsewhere, pixel 2 is hidden (an occlusion). Pixel 4 leaves the
	// frame.
	fwd, bwd := flow.NewField(5, 1), flow.NewField(5, 1)
	for i := range 5 {
		fwd.D[2*i], bwd.D[2*i] = 1, -1
	}
	bwd.D[2*3] = 2
	mask := make([]bool, 5)
	flow.Consistent(fwd, bwd, mask)
	fmt.Println(mask)
	// Output: [true true false true false]
}

func ExampleField_WriteNpy() {
	// A flow written as .npy (float32 H x W x 2, as NumPy and OpenCV
	// have it) and read back.
	f := flow.NewField(3, 2)
	f.D[2*(1*3+2)], f.D[2*(1*3+2)+1] = 1.5, -0.25 // the pixel (2, 1)
	var buf bytes.Buffer
	if err := f.WriteNpy(&buf); err != nil {
		panic(err)
	}
	g, err := flow.DecodeField(buf.Bytes())
	if err != nil {
		panic(err)
	}
	dx, dy := g.At(2, 1)
	fmt.Printf("%dx%d, (2, 1) moves by (%v, %v)\n", g.W, g.H, dx, dy)
	// Output: 3x2, (2, 1) moves by (1.5, -0.25)
}

func ExampleField_Color() {
	// No motion is white; a motion to the right as long as maxMotion is
	// red, half as long half as saturated.
	f := flow.NewField(3, 1)
	f.D[2*1] = 4
	f.D[2*2] = 2
	img := f.Color(4)
	for x := range 3 {
		fmt.Println(img.RGBAAt(x, 0))
	}
	// Output:
	// {255 255 255 255}
	// {255 0 0 255}
	// {255 127 127 255}
}
