package dream

import (
	"context"
	"fmt"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/shared"
)

// BenchmarkStep times one make_step of BVLC GoogLeNet to inception_4c at
// two sizes and reports GFLOP/s counted as 2 x the forward convolution
// FLOPs, as `deepdream bench` does. Needs ../shared (skips without it).
//
//	go test -run '^$' -bench Step -benchtime 5x ./dream
func BenchmarkStep(b *testing.B) {
	m, err := graph.Open(shared.GoogLeNet(b))
	if err != nil {
		b.Fatal(err)
	}
	n, err := NewNetwork(m, Profile{Preprocess: Caffe})
	if err != nil {
		b.Fatal(err)
	}
	for _, sz := range [][2]int{{224, 224}, {1024, 768}} {
		w, h := sz[0], sz[1]
		b.Run(fmt.Sprintf("%dx%d", w, h), func(b *testing.B) {
			s, err := n.NewStepper(h, w, Objective{{Name: "inception_4c/output_1"}}, graph.Options{}, Tiling{})
			if err != nil {
				b.Fatal(err)
			}
			src := make([]float32, 3*h*w)
			for i := range src {
				src[i] = float32(i%251) - 125
			}
			ctx := context.Background()
			if _, err := s.Step(ctx, src, 3, 5, 1.5); err != nil { // warm-up
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := s.Step(ctx, src, i%7, i%5, 1.5); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(2*s.ForwardFLOPs())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkLook times a step of internal/tinynet at 1024x768, whose
// network costs next to nothing, with each option of the look: the time
// over the plain step's is the option's own cost per step, to set against
// BenchmarkStep's GoogLeNet step at the same size.
//
//	go test -run '^$' -bench Look -benchtime 20x ./dream
func BenchmarkLook(b *testing.B) {
	const h, w = 768, 1024
	n := tinyNetwork()
	mask := make([]float32, h*w)
	for i := range mask {
		mask[i] = float32(i%w) / w
	}
	for _, tc := range []struct {
		name string
		look look
	}{
		{"plain", look{}},
		{"laplacian4", look{laplacian: 4}},
		{"smooth1", look{smooth: 1}},
		{"smooth3", look{smooth: 3}},
		{"keep-colors", look{keepColors: true}},
		{"mask", look{mask: mask}},
		{"layer-mask", look{layerMasks: [][]float32{mask}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := n.NewStepper(h, w, Objective{{Name: "r", Mask: "m"}}, graph.Options{}, Tiling{})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.setLook(tc.look); err != nil {
				b.Fatal(err)
			}
			src := make([]float32, 3*h*w)
			for i := range src {
				src[i] = float32(i%251) - 125
			}
			ctx := context.Background()
			for i := 0; b.Loop(); i++ {
				if _, err := s.Step(ctx, src, i%7, i%5, 1.5); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
