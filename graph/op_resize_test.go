package graph

import (
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

// resizeNode is a Resize of x by the inputs named (roi, scales, sizes;
// "" where omitted), from opset 11.
func resizeNode(inputs []string, attrs ...*onnx.Attribute) *onnx.Node {
	return &onnx.Node{OpType: "Resize", Inputs: append([]string{"x"}, inputs...), Outputs: []string{"y"}, Attrs: attrs}
}

func scalesInput(s ...float32) TestInput {
	return TestInput{Name: "scales", Shape: Shape{len(s)}, F: s, Const: true}
}

func sizesInput(s ...int64) TestInput {
	return TestInput{Name: "sizes", Shape: Shape{len(s)}, I: s}
}

// The 2x3 plane 0 10 20 / 30 40 50 resized bilinearly to 3x5, worked out
// by hand (ops.TestResizeBilinearByHand derives the coordinates).
func TestResizeBilinearValues(t *testing.T) {
	x := TestInput{Name: "x", Shape: Shape{1, 1, 2, 3}, F: []float32{0, 10, 20, 30, 40, 50}}
	for mode, want := range map[string][]float32{
		"half_pixel":    {0, 4, 10, 16, 20, 15, 19, 25, 31, 35, 30, 34, 40, 46, 50},
		"align_corners": {0, 5, 10, 15, 20, 15, 20, 25, 30, 35, 30, 35, 40, 45, 50},
	} {
		node := resizeNode([]string{"", "", "sizes"}, attrString("mode", "linear"), attrString("coordinate_transformation_mode", mode))
		checkNodeOutput(t, 13, node, []TestInput{x, sizesInput(1, 1, 3, 5)}, Shape{1, 1, 3, 5}, want)
	}
}

func TestResizeGradient(t *testing.T) {
	x := func(s ...int) TestInput { return TestInput{Name: "x", Shape: Shape(s), Grad: true} }
	for _, c := range []struct {
		opset  int64
		inputs []TestInput // x first
		attrs  []*onnx.Attribute
	}{
		// Opset 10: scales, asymmetric coordinates.
		{10, []TestInput{x(1, 2, 3, 4), scalesInput(1, 1, 2, 1.5)}, []*onnx.Attribute{attrString("mode", "nearest")}},
		{10, []TestInput{x(1, 2, 3, 4), scalesInput(1, 1, 2, 0.5)}, []*onnx.Attribute{attrString("mode", "linear")}},
		// Opset 11: roi, scales (empty when sizes are given), sizes.
		{11, []TestInput{x(1, 2, 5, 4), {Name: "roi", Shape: Shape{0}, F: []float32{}, Const: true}, scalesInput(), sizesInput(1, 2, 3, 7)},
			[]*onnx.Attribute{attrString("mode", "linear"), attrString("coordinate_transformation_mode", "pytorch_half_pixel")}},
		{11, []TestInput{x(1, 1, 4, 5), {Name: "roi", Shape: Shape{8}, F: []float32{0, 0, 0.1, -0.2, 1, 1, 0.8, 1.3}, Const: true}, scalesInput(1, 1, 1.5, 1.2)},
			[]*onnx.Attribute{attrString("mode", "linear"), attrString("coordinate_transformation_mode", "tf_crop_and_resize"), attrFloat("extrapolation_value", 3)}},
		// Opset 13, every mode and coordinate mapping.
		{13, []TestInput{x(2, 3, 4, 5), scalesInput(1, 1, 1.75, 0.6)}, []*onnx.Attribute{attrString("mode", "linear")}},
		{13, []TestInput{x(1, 2, 4, 5), scalesInput(1, 1, 2, 2)}, []*onnx.Attribute{attrString("mode", "linear"), attrString("coordinate_transformation_mode", "align_corners")}},
		{13, []TestInput{x(1, 2, 4, 5), scalesInput(1, 1, 3, 0.5)}, []*onnx.Attribute{attrString("mode", "linear"), attrString("coordinate_transformation_mode", "asymmetric")}},
		{13, []TestInput{x(1, 2, 3, 3), scalesInput(1, 1, 2.5, 2)}, []*onnx.Attribute{attrString("mode", "nearest"), attrString("nearest_mode", "floor"), attrString("coordinate_transformation_mode", "tf_half_pixel_for_nn")}},
		{13, []TestInput{x(1, 2, 3, 3), scalesInput(1, 1, 2.5, 2)}, []*onnx.Attribute{attrString("mode", "nearest"), attrString("nearest_mode", "round_prefer_ceil")}},
		{13, []TestInput{x(1, 2, 6, 6), scalesInput(1, 1, 0.5, 0.7)}, []*onnx.Attribute{attrString("mode", "nearest"), attrString("nearest_mode", "ceil")}},
		{13, []TestInput{x(1, 2, 4, 4), scalesInput(1, 1, 1.5, 0.75)}, []*onnx.Attribute{attrString("mode", "cubic")}},
		{13, []TestInput{x(1, 2, 4, 4), scalesInput(1, 1, 2, 0.8)}, []*onnx.Attribute{attrString("mode", "cubic"), attrFloat("cubic_coeff_a", -0.5), attrInt("exclude_outside", 1)}},
		// Ranks 1, 2 and 3 (linear, bilinear on the last two axes).
		{13, []TestInput{x(7), scalesInput(1.5)}, []*onnx.Attribute{attrString("mode", "linear")}},
		{13, []TestInput{x(3, 4), scalesInput(2, 0.5)}, []*onnx.Attribute{attrString("mode", "linear")}},
		{13, []TestInput{x(3, 4, 5), scalesInput(1, 2, 0.5)}, []*onnx.Attribute{attrString("mode", "linear")}},
		// Opset 18: axes, keep_aspect_ratio_policy; 19: half_pixel_symmetric.
		{18, []TestInput{x(1, 2, 4, 6), scalesInput(1.5, 0.5)}, []*onnx.Attribute{attrString("mode", "linear"), attrInts("axes", 2, 3)}},
		{18, []TestInput{x(1, 2, 4, 6), sizesInput(9, 9)}, []*onnx.Attribute{attrString("mode", "linear"), attrInts("axes", -1, -2), attrString("keep_aspect_ratio_policy", "not_larger")}},
		{18, []TestInput{x(1, 2, 4, 6), scalesInput(1, 1, 2, 2)}, []*onnx.Attribute{attrString("mode", "linear"), attrInt("antialias", 1)}},
		{19, []TestInput{x(1, 2, 4, 6), scalesInput(1, 1, 1.5, 0.75)}, []*onnx.Attribute{attrString("mode", "linear"), attrString("coordinate_transformation_mode", "half_pixel_symmetric")}},
	} {
		names := make([]string, 0, 3)
		for _, in := range c.inputs[1:] {
			names = append(names, in.Name)
		}
		// From opset 13 the tests omit roi (and scales before sizes).
		switch {
		case c.opset >= 13 && names[0] == "scales":
			names = []string{"", "scales"}
		case c.opset >= 13 && names[0] == "sizes":
			names = []string{"", "", "sizes"}
		}
		CheckGradient(t, c.opset, resizeNode(names, c.attrs...), c.inputs)
	}
}

func TestUpsample(t *testing.T) {
	x := []float32{1, 2, 3, 4}
	want := []float32{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}
	// Opset 7: the scales an attribute; 9: an input.
	up7 := &onnx.Node{OpType: "Upsample", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{
		{Name: "scales", Type: onnx.AttrFloats, Floats: []float32{1, 1, 2, 3}}}}
	in7 := []TestInput{{Name: "x", Shape: Shape{1, 1, 2, 2}, F: x, Grad: true}}
	checkNodeOutput(t, 7, up7, in7, Shape{1, 1, 4, 6}, want)
	CheckGradient(t, 7, up7, in7)
	up9 := &onnx.Node{OpType: "Upsample", Inputs: []string{"x", "scales"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrString("mode", "linear")}}
	in9 := []TestInput{{Name: "x", Shape: Shape{1, 2, 3, 2}, Grad: true}, scalesInput(1, 1, 2, 2.5)}
	CheckGradient(t, 9, up9, in9)
}

// checkConstPlanError is checkPlanError with the inputs' constants (I, or
// F with Const) given as such.
func checkConstPlanError(t *testing.T, opset int64, node *onnx.Node, in []TestInput, want string) {
	t.Helper()
	m, err := Load(nodeModel(opset, node, in))
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Targets: []string{node.Outputs[0]}, Consts: map[string]*Value{}}
	for _, x := range in {
		switch {
		case x.I != nil:
			spec.Consts[x.Name] = IntValue(x.Shape, x.I)
		case x.Const:
			spec.Consts[x.Name] = FloatValue(x.Shape, x.F)
		default:
			spec.Inputs = append(spec.Inputs, InputSpec{Name: x.Name, Shape: x.Shape})
		}
	}
	if _, err = m.Plan(spec); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s on %v: error %v, want it to contain %q", describe(node), in, err, want)
	}
}

func TestResizeErrors(t *testing.T) {
	x := TestInput{Name: "x", Shape: Shape{1, 3, 4, 4}}
	sizes := func(v ...int64) []TestInput { return []TestInput{x, sizesInput(v...)} }
	bySizes := func(attrs ...*onnx.Attribute) *onnx.Node { return resizeNode([]string{"", "", "sizes"}, attrs...) }
	checkConstPlanError(t, 13, bySizes(), sizes(1, 6, 4, 4), "Resize: axis 1 of input 1x3x4x4 would be resampled (to 6, scale 2); only the last two axes can be")
	checkConstPlanError(t, 13, bySizes(), sizes(1, 3, 8), "Resize: sizes has 3 values, want 4 (one per axis of [0 1 2 3])")
	checkConstPlanError(t, 13, bySizes(attrString("mode", "bicubic")), sizes(1, 3, 8, 8), `Resize: mode "bicubic" is not one ONNX defines`)
	checkConstPlanError(t, 13, bySizes(attrString("coordinate_transformation_mode", "corners")), sizes(1, 3, 8, 8), `Resize: coordinate_transformation_mode "corners" is not one ONNX defines`)
	checkConstPlanError(t, 18, bySizes(attrString("mode", "linear"), attrInt("antialias", 1)), sizes(1, 3, 2, 8), "Resize: antialias = 1 is not supported where a linear or cubic filter shrinks an axis (axis 2: 4 to 2)")
	checkConstPlanError(t, 18, bySizes(attrInts("axes", 2, 2)), sizes(8, 8), "Resize: axes [2 2] names axis 2 twice")
	checkConstPlanError(t, 13, bySizes(), sizes(1, 3, 0, 4), "Resize: sizes[2] = 0, want a positive size")
	checkConstPlanError(t, 13, resizeNode(nil), []TestInput{x}, "Resize: neither scales nor sizes is given")
	checkConstPlanError(t, 13, resizeNode([]string{"", "scales"}), []TestInput{x, scalesInput(1, 1, 0, 1)}, "Resize: scales[2] = 0, want a positive scale")
	// A scales input fed at run time cannot fix the output shape.
	checkConstPlanError(t, 13, resizeNode([]string{"", "scales"}), []TestInput{x, {Name: "scales", Shape: Shape{4}}}, `input 2 "scales" must be known when the plan is made`)
	checkConstPlanError(t, 9, &onnx.Node{OpType: "Upsample", Inputs: []string{"x", "scales"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrString("mode", "cubic")}},
		[]TestInput{x, scalesInput(1, 1, 2, 2)}, `Upsample: mode "cubic" is not supported, want nearest or linear`)
}
