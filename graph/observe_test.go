package graph_test

import (
	"context"
	"slices"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/tinynet"
)

// TestObserve checks that an observed plan reports each node once per
// Forward, and once per Backward for each node the gradient flows
// through, in execution order, and nothing once the observer is removed.
func TestObserve(t *testing.T) {
	p, err := tinynet.Model().Plan(graph.Spec{
		Inputs:   []graph.InputSpec{{Name: "x", Shape: graph.Shape{1, 3, 6, 5}, Grad: true}},
		Targets:  []string{"r"},
		Backward: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	p.Observe(func(st graph.StepTime) {
		dir := " forward"
		if st.Backward {
			dir = " backward"
		}
		if st.Elapsed < 0 {
			t.Errorf("%s%s took %v", st.Node.OpType, dir, st.Elapsed)
		}
		got = append(got, st.Node.OpType+dir)
	})
	ctx := context.Background()
	if err := p.Forward(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Backward(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"Conv forward", "Relu forward", "Relu backward", "Conv backward"}
	if !slices.Equal(got, want) {
		t.Errorf("observed %q, want %q", got, want)
	}
	p.Observe(nil)
	if err := p.Forward(ctx); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("observer still called after Observe(nil): %q", got[len(want):])
	}
}
