package graph

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func castNode(to onnx.DataType) *onnx.Node {
	return &onnx.Node{OpType: "Cast", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrInt("to", int64(to))}}
}

// Constants convert at plan time: shape arithmetic (ShuffleNet casts
// int64 to int64) and masks.
func TestCastConstants(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 9))
	ints := TestInput{Name: "x", Shape: Shape{5}, I: []int64{-1, 0, 7, 1<<32 + 5, 300}}
	floats := TestInput{Name: "x", Shape: Shape{5}, F: []float32{-1.7, 0, 2.9, 0.5, 300.2}, Const: true}
	for _, c := range []struct {
		to    onnx.DataType
		input TestInput
		ints  []int64
		float []float32
	}{
		{onnx.Int64, ints, []int64{-1, 0, 7, 1<<32 + 5, 300}, nil},
		{onnx.Int32, ints, []int64{-1, 0, 7, 5, 300}, nil},
		{onnx.Uint8, ints, []int64{255, 0, 7, 5, 44}, nil},
		{onnx.Bool, ints, []int64{1, 0, 1, 1, 1}, nil},
		{onnx.Float, ints, nil, []float32{-1, 0, 7, 1<<32 + 5, 300}},
		{onnx.Int64, floats, []int64{-1, 0, 2, 0, 300}, nil},
		{onnx.Int8, floats, []int64{-1, 0, 2, 0, 44}, nil},
		{onnx.Bool, floats, []int64{1, 0, 1, 1, 1}, nil},
		{onnx.Double, floats, nil, floats.F},
	} {
		p := planNode(t, rng, 13, castNode(c.to), []TestInput{c.input}, false)
		v := p.tensors["y"].cnst
		switch {
		case v == nil:
			t.Errorf("Cast of %v to %v: not a constant", c.input.I, c.to)
		case c.ints != nil && (!v.Int || !slices.Equal(v.I, c.ints)):
			t.Errorf("Cast of %v%v to %v = %+v, want the integers %v", c.input.I, c.input.F, c.to, v, c.ints)
		case c.float != nil && (v.Int || !slices.Equal(v.F, c.float)):
			t.Errorf("Cast of %v%v to %v = %+v, want the floats %v", c.input.I, c.input.F, c.to, v, c.float)
		}
	}
}

// A float tensor cast to a float type is the tensor itself, gradient
// included.
func TestCastFloatIsIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 9))
	for _, to := range []onnx.DataType{onnx.Float, onnx.Double, onnx.Float16, onnx.BFloat16} {
		x := TestInput{Name: "x", Shape: Shape{2, 3}, Grad: true}
		p := planNode(t, rng, 13, castNode(to), []TestInput{x}, false)
		if !slices.Equal(p.Data("y"), p.Data("x")) {
			t.Errorf("Cast to %v: y = %v, want x = %v", to, p.Data("y"), p.Data("x"))
		}
		CheckGradient(t, 13, castNode(to), []TestInput{x})
	}
	// Opset 1 names the type.
	node := &onnx.Node{OpType: "Cast", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrString("to", "INT32")}}
	p := planNode(t, rng, 1, node, []TestInput{{Name: "x", Shape: Shape{1}, I: []int64{1<<31 + 1}}}, false)
	if v := p.tensors["y"].cnst; v == nil || !slices.Equal(v.I, []int64{-1<<31 + 1}) {
		t.Errorf("opset 1 Cast to \"INT32\" of 2^31+1 = %+v, want -2^31+1", v)
	}
}

func TestCastErrors(t *testing.T) {
	for _, c := range []struct {
		opset int64
		node  *onnx.Node
		input TestInput
		want  string
	}{
		{13, castNode(onnx.Int64), TestInput{Name: "x", Shape: Shape{2}}, `input 0 "x" is a float tensor computed at run time; it cannot be cast to INT64`},
		{13, castNode(onnx.String), TestInput{Name: "x", Shape: Shape{2}}, "cast to STRING is not supported"},
		{13, &onnx.Node{OpType: "Cast", Inputs: []string{"x"}, Outputs: []string{"y"}}, TestInput{Name: "x", Shape: Shape{2}}, `attribute "to" is required`},
		{1, &onnx.Node{OpType: "Cast", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrString("to", "INT")}}, TestInput{Name: "x", Shape: Shape{2}}, `unknown element type "INT"`},
	} {
		err := planError(t, c.opset, c.node, []TestInput{c.input})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", describe(c.node), err, c.want)
		}
	}
	// A float constant out of the integers' range.
	m, err := Load(nodeModel(13, castNode(onnx.Int64), []TestInput{{Name: "x", Shape: Shape{1}}}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Plan(Spec{Consts: map[string]*Value{"x": FloatValue(Shape{1}, []float32{1e30})}, Targets: []string{"y"}})
	if want := `element 0, 1e+30, has no INT64 value`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Cast of 1e30 to INT64: error %v, want one saying %q", err, want)
	}
}
