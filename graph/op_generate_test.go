package graph

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func TestConstantOfShapeRangeSize(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 42))
	scalar := func(name string, v int64) TestInput { return TestInput{Name: name, Shape: Shape{}, I: []int64{v}} }
	fscalar := func(name string, v float32) TestInput {
		return TestInput{Name: name, Shape: Shape{}, F: []float32{v}, Const: true}
	}
	for _, c := range []struct {
		node   *onnx.Node
		inputs []TestInput
		want   *Value
	}{
		{shapeNode("ConstantOfShape", []string{"s"}), []TestInput{ints("s", 2, 1)}, FloatValue(Shape{2, 1}, []float32{0, 0})},
		{shapeNode("ConstantOfShape", []string{"s"}, &onnx.Attribute{Name: "value", Type: onnx.AttrTensor, T: onnx.NewInt64Tensor("", []int64{1}, []int64{-3})}),
			[]TestInput{ints("s", 3)}, IntValue(Shape{3}, []int64{-3, -3, -3})},
		{shapeNode("ConstantOfShape", []string{"s"}, &onnx.Attribute{Name: "value", Type: onnx.AttrTensor, T: onnx.NewFloatTensor("", []int64{1}, []float32{0.5})}),
			[]TestInput{{Name: "s", Shape: Shape{0}, I: []int64{}}}, FloatValue(Shape{}, []float32{0.5})},
		{shapeNode("Range", []string{"a", "b", "d"}), []TestInput{scalar("a", 10), scalar("b", 3), scalar("d", -3)}, IntValue(Shape{3}, []int64{10, 7, 4})},
		{shapeNode("Range", []string{"a", "b", "d"}), []TestInput{scalar("a", 0), scalar("b", 0), scalar("d", 1)}, IntValue(Shape{0}, []int64{})},
		{shapeNode("Range", []string{"a", "b", "d"}), []TestInput{fscalar("a", 1), fscalar("b", 2), fscalar("d", 0.25)}, FloatValue(Shape{4}, []float32{1, 1.25, 1.5, 1.75})},
		{shapeNode("Size", []string{"x"}), []TestInput{{Name: "x", Shape: Shape{2, 3, 7}}}, IntValue(Shape{}, []int64{42})},
	} {
		v := planNode(t, rng, 13, c.node, c.inputs, false).tensors["y"].cnst
		if v == nil || v.Int != c.want.Int || !v.Shape.Equal(c.want.Shape) || !slices.Equal(v.I, c.want.I) || !slices.Equal(v.F, c.want.F) {
			t.Errorf("%s %v = %+v, want %+v", describe(c.node), c.inputs, v, c.want)
		}
	}

	for _, c := range []struct {
		node   *onnx.Node
		inputs []TestInput
		want   string
	}{
		{shapeNode("ConstantOfShape", []string{"s"}), []TestInput{ints("s", 2, -1)}, "negative"},
		{shapeNode("ConstantOfShape", []string{"s"}), []TestInput{ints("s", 1<<20, 1<<20)}, "more than"},
		{shapeNode("Range", []string{"a", "b", "d"}), []TestInput{scalar("a", 0), scalar("b", 5), scalar("d", 0)}, "delta is 0"},
		{shapeNode("Range", []string{"a", "b", "d"}), []TestInput{scalar("a", -1<<62), scalar("b", 1<<62), scalar("d", 1)}, "more than"},
		{shapeNode("Range", []string{"a", "b", "d"}), []TestInput{{Name: "a", Shape: Shape{}}, scalar("b", 5), scalar("d", 1)}, "the output's length depends on it"},
	} {
		if err := planError(t, 13, c.node, c.inputs); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", describe(c.node), err, c.want)
		}
	}
}
