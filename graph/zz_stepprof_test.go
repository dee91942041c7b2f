package graph_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
)

// Throwaway (perf work): one dream step of GoogLeNet at STEP_W x STEP_H.
func BenchmarkZZStep(b *testing.B) {
	w, _ := strconv.Atoi(os.Getenv("STEP_W"))
	h, _ := strconv.Atoi(os.Getenv("STEP_H"))
	if w == 0 {
		w, h = 1024, 768
	}
	m := loadGoogLeNet(b)
	p, err := m.Plan(graph.Spec{
		Inputs:   []graph.InputSpec{{Name: "data_0", Shape: graph.Shape{1, 3, h, w}, Grad: true}},
		Targets:  []string{layer4c},
		Backward: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	x := p.Data("data_0")
	for i := range x {
		x[i] = float32(i%251) - 120
	}
	ctx := context.Background()
	for b.Loop() {
		p.Forward(ctx)
		copy(p.Grad(layer4c), p.Data(layer4c))
		p.Backward(ctx)
	}
}
