package flow_test

import (
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
