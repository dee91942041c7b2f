package graph

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

// chainModel builds x -> Relu -> a -> Relu -> b, with a also feeding c.
func chainModel() *onnx.Model {
	return &onnx.Model{
		IRVersion: 7,
		Opsets:    map[string]int64{"": 13},
		Graph: &onnx.Graph{
			Inputs: []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Dims: []onnx.Dim{{Value: 1}, {Value: 2}, {Value: 3}, {Value: 3}}}},
			Nodes: []*onnx.Node{
				{Index: 0, Name: "r1", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"a"}},
				{Index: 1, Name: "r2", OpType: "Relu", Inputs: []string{"a"}, Outputs: []string{"b"}},
				{Index: 2, Name: "r3", OpType: "Relu", Inputs: []string{"a"}, Outputs: []string{"c"}},
				{Index: 3, Name: "bad", OpType: "Einsum", Inputs: []string{"c"}, Outputs: []string{"d"}},
			},
		},
	}
}

func TestPlanStopsAtTargetsAndSumsGradients(t *testing.T) {
	m, err := Load(chainModel())
	if err != nil {
		t.Fatal(err)
	}
	// H and W differ from the declared 3x3: they are free.
	p, err := m.Plan(Spec{
		Inputs:   []InputSpec{{Name: "x", Shape: Shape{1, 2, 2, 2}, Grad: true}},
		Targets:  []string{"b", "c"},
		Backward: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Steps() != 3 {
		t.Errorf("planned %d steps, want 3 (the Einsum past the targets must not be planned)", p.Steps())
	}
	x := p.Data("x")
	copy(x, []float32{-1, 2, -3, 4, 5, -6, 7, -8})
	ctx := context.Background()
	if err := p.Forward(ctx); err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 2, 0, 4, 5, 0, 7, 0}
	for i, v := range p.Data("b") {
		if v != want[i] {
			t.Fatalf("b[%d] = %v, want %v", i, v, want[i])
		}
	}
	for run := range 2 { // a second run must not accumulate stale gradients
		if run > 0 {
			if err := p.Backward(ctx); err == nil {
				t.Fatal("a second Backward after one Forward ran")
			}
			if err := p.Forward(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for i := range p.Grad("b") {
			p.Grad("b")[i] = 1
			p.Grad("c")[i] = 10
		}
		if err := p.Backward(ctx); err != nil {
			t.Fatal(err)
		}
		for i, g := range p.Grad("x") {
			w := float32(0)
			if want[i] > 0 {
				w = 11
			}
			if g != w {
				t.Fatalf("run %d: dx[%d] = %v, want %v", run, i, g, w)
			}
		}
	}
	allocs := testing.AllocsPerRun(20, func() {
		_ = p.Forward(ctx)
		_ = p.Backward(ctx)
	})
	if allocs != 0 {
		t.Errorf("Forward+Backward allocate %v times, want 0", allocs)
	}
}

func TestPlanErrors(t *testing.T) {
	m, err := Load(chainModel())
	if err != nil {
		t.Fatal(err)
	}
	in := []InputSpec{{Name: "x", Shape: Shape{1, 2, 3, 3}}}
	_, err = m.Plan(Spec{Inputs: in, Targets: []string{"d"}})
	for _, want := range []string{"node 3", `"bad"`, "Einsum", `"d"`, "opset 13", "Relu"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("unsupported op error %v does not mention %s", err, want)
		}
	}
	_, err = m.Plan(Spec{Inputs: in, Targets: []string{"B"}})
	var unknown *UnknownTensorError
	if !errors.As(err, &unknown) || unknown.Closest[0] != "b" {
		t.Errorf("unknown target error = %v, want closest b first", err)
	}
	_, err = m.Plan(Spec{Inputs: []InputSpec{{Name: "x", Shape: Shape{1, 3, 3, 3}}}, Targets: []string{"b"}})
	if err == nil || !strings.Contains(err.Error(), "dimension 1 is 3, the model declares 2") {
		t.Errorf("channel mismatch error = %v", err)
	}
}

// TestValueMemo checks that derived data is computed once per value and
// key, also under concurrent planning.
func TestValueMemo(t *testing.T) {
	v := FloatValue(Shape{2}, []float32{1, 2})
	var calls atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := v.Memo("sum", func() any { calls.Add(1); return v.F[0] + v.F[1] }).(float32)
			if got != 3 {
				t.Errorf("Memo gave %v, want 3", got)
			}
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("computed %d times, want once", n)
	}
	if got := v.Memo("other", func() any { return "x" }); got != "x" {
		t.Errorf("another key gave %v", got)
	}
}

// TestInferShapesMakesNoKernelData checks that InferShapes, which only
// wants shapes, leaves a conv's weights without the transformed (Winograd)
// or packed copies a plan keeps with them, and that a plan then makes them.
func TestInferShapesMakesNoKernelData(t *testing.T) {
	w := make([]float32, 4*3*3*3)
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	m, err := Load(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Inputs:       []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Dims: []onnx.Dim{{Value: 1}, {Value: 3}, {Value: 8}, {Value: 8}}}},
		Initializers: []*onnx.Tensor{onnx.NewFloatTensor("w", []int64{4, 3, 3, 3}, w)},
		Nodes: []*onnx.Node{{OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"},
			Attrs: []*onnx.Attribute{{Name: "pads", Type: onnx.AttrInts, Ints: []int64{1, 1, 1, 1}}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	in := []InputSpec{{Name: "x", Shape: Shape{1, 3, 64, 64}}} // Winograd-sized
	if _, _, err := m.InferShapes(in); err != nil {
		t.Fatal(err)
	}
	if n := len(m.consts["w"].memo); n != 0 {
		t.Fatalf("InferShapes made %d derived copies of the weights", n)
	}
	if _, err := m.Plan(Spec{Inputs: in, Targets: []string{"y"}}); err != nil {
		t.Fatal(err)
	}
	if n := len(m.consts["w"].memo); n == 0 {
		t.Fatal("a plan made no derived copy of the weights: the test no longer looks at the right thing")
	}
}
