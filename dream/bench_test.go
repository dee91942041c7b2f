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
			s, err := n.NewStepper(h, w, Objective{{Name: "inception_4c/output_1"}}, graph.Options{})
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
