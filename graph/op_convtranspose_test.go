package graph

import (
	"math/rand/v2"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func convTransposeNode(bias bool, attrs ...*onnx.Attribute) *onnx.Node {
	in := []string{"x", "w"}
	if bias {
		in = append(in, "b")
	}
	return &onnx.Node{OpType: "ConvTranspose", Inputs: in, Outputs: []string{"y"}, Attrs: attrs}
}

// naiveConvTranspose2D is y = conv^T(x, w) + b from the definition, for
// x [1 x c x h x w], weights [c x m/group x k x k] and the output's shape
// y; begin holds the padding before each spatial axis.
func naiveConvTranspose2D(x, w, b []float32, xs, ws Shape, ys Shape, group, stride, dilation int, begin [2]int) []float32 {
	c, h, wd := xs[1], xs[2], xs[3]
	mg, k := ws[1], ws[2]
	oh, ow := ys[2], ys[3]
	y := make([]float32, ys.Size())
	for i := range y {
		if b != nil {
			y[i] = b[i/(oh*ow)]
		}
	}
	for ci := range c {
		g := ci / (c / group)
		for iy := range h {
			for ix := range wd {
				for ml := range mg {
					for kh := range k {
						for kw := range k {
							oy, ox := iy*stride-begin[0]+kh*dilation, ix*stride-begin[1]+kw*dilation
							if oy >= 0 && oy < oh && ox >= 0 && ox < ow {
								y[((g*mg+ml)*oh+oy)*ow+ox] += x[(ci*h+iy)*wd+ix] * w[((ci*mg+ml)*k+kh)*k+kw]
							}
						}
					}
				}
			}
		}
	}
	return y
}

// TestConvTransposeGeometry checks the output shape and values the
// attributes give against the definition, where the ONNX node tests do
// not reach: SAME_LOWER, output_shape splitting an odd total padding,
// groups with a bias.
func TestConvTransposeGeometry(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		attrs    []*onnx.Attribute
		xs, ws   Shape
		group    int
		stride   int
		dilation int
		ys       Shape
		begin    [2]int
	}{
		// natural 2*(4-1)+3 = 9 rows and columns; SAME: 8, total 1.
		{[]*onnx.Attribute{attrString("auto_pad", "SAME_LOWER"), attrInts("strides", 2, 2)}, Shape{1, 2, 4, 4}, Shape{2, 3, 3, 3}, 1, 2, 1, Shape{1, 3, 8, 8}, [2]int{1, 1}},
		{[]*onnx.Attribute{attrString("auto_pad", "SAME_UPPER"), attrInts("strides", 2, 2)}, Shape{1, 2, 4, 4}, Shape{2, 3, 3, 3}, 1, 2, 1, Shape{1, 3, 8, 8}, [2]int{0, 0}},
		// output_shape 6x7 of natural 9x9: totals 3 and 2, the odd one
		// more at the start.
		{[]*onnx.Attribute{attrInts("output_shape", 6, 7), attrInts("strides", 2, 2)}, Shape{1, 2, 4, 4}, Shape{2, 3, 3, 3}, 1, 2, 1, Shape{1, 3, 6, 7}, [2]int{2, 1}},
		{[]*onnx.Attribute{attrString("auto_pad", "VALID"), attrInts("strides", 3, 3), attrInts("dilations", 2, 2)}, Shape{1, 2, 3, 2}, Shape{2, 1, 2, 2}, 1, 3, 2, Shape{1, 1, 9, 6}, [2]int{0, 0}},
		// Groups and a bias; pads and output padding.
		{[]*onnx.Attribute{attrInt("group", 2), attrInts("pads", 1, 0, 2, 1), attrInts("output_padding", 1, 0), attrInts("strides", 2, 2)}, Shape{1, 4, 3, 5}, Shape{4, 3, 3, 3}, 2, 2, 1, Shape{1, 6, 5, 10}, [2]int{1, 0}},
	} {
		bias := c.group == 2
		node := convTransposeNode(bias, c.attrs...)
		in := []TestInput{
			{Name: "x", Shape: c.xs, F: randomFloats(rng, c.xs.Size())},
			{Name: "w", Shape: c.ws, F: randomFloats(rng, c.ws.Size()), Const: true},
		}
		var b []float32
		if bias {
			b = randomFloats(rng, c.ys[1])
			in = append(in, TestInput{Name: "b", Shape: Shape{c.ys[1]}, F: b, Const: true})
		}
		want := naiveConvTranspose2D(in[0].F, in[1].F, b, c.xs, c.ws, c.ys, c.group, c.stride, c.dilation, c.begin)
		checkNodeOutput(t, 11, node, in, c.ys, want)
	}
}

func TestConvTransposeGradient(t *testing.T) {
	for _, c := range []struct {
		xs, ws  Shape
		bias    bool
		runtime bool // weights fed at run time: not packed
		attrs   []*onnx.Attribute
	}{
		{Shape{1, 2, 3, 3}, Shape{2, 3, 3, 3}, false, false, nil},
		{Shape{1, 4, 4, 5}, Shape{4, 2, 2, 2}, true, false, []*onnx.Attribute{attrInts("strides", 2, 2)}}, // DBNet's upsampling
		{Shape{2, 3, 4, 3}, Shape{3, 2, 3, 3}, true, true, []*onnx.Attribute{attrInts("strides", 3, 2), attrInts("pads", 1, 2, 1, 0)}},
		{Shape{1, 2, 3, 4}, Shape{2, 2, 3, 2}, false, false, []*onnx.Attribute{attrInts("dilations", 2, 3), attrInts("strides", 2, 1), attrInts("output_padding", 1, 0)}},
		{Shape{1, 4, 3, 3}, Shape{4, 3, 3, 3}, true, false, []*onnx.Attribute{attrInt("group", 2), attrInts("strides", 2, 2), attrInts("output_shape", 8, 7)}},
		{Shape{1, 3, 5, 4}, Shape{3, 1, 3, 3}, false, false, []*onnx.Attribute{attrInt("group", 3), attrInts("strides", 2, 2), attrString("auto_pad", "SAME_UPPER")}}, // depthwise
		{Shape{1, 3, 5, 4}, Shape{3, 2, 1, 1}, true, false, nil},                                                                                                      // pointwise
		{Shape{1, 2, 7}, Shape{2, 3, 3}, true, false, []*onnx.Attribute{attrInts("strides", 2), attrInts("pads", 1, 0), attrInts("output_padding", 1)}},               // 1-D
		{Shape{1, 2, 7}, Shape{2, 3, 3}, false, true, []*onnx.Attribute{attrString("auto_pad", "SAME_LOWER"), attrInts("strides", 3)}},
	} {
		in := []TestInput{
			{Name: "x", Shape: c.xs, Grad: true},
			{Name: "w", Shape: c.ws, Const: !c.runtime},
		}
		if c.bias {
			in = append(in, TestInput{Name: "b", Shape: Shape{c.ws[1] * c.xs[1] / c.ws[0] * groupOf(c.attrs)}, Const: !c.runtime})
		}
		CheckGradient(t, 11, convTransposeNode(c.bias, c.attrs...), in)
	}
}

func groupOf(attrs []*onnx.Attribute) int {
	for _, a := range attrs {
		if a.Name == "group" {
			return int(a.I)
		}
	}
	return 1
}

// A ConvTranspose whose input another node reads too adds its gradient
// (through the scratch room ops.ConvTransposeScratchSize keeps for it).
func TestConvTransposeGradientAccumulates(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ct := convTransposeNode(false, attrInts("strides", 2, 2))
	ct.Outputs = []string{"t"}
	sum := &onnx.Node{OpType: "Add", Inputs: []string{"t", "x2"}, Outputs: []string{"y"}}
	up := &onnx.Node{OpType: "Resize", Inputs: []string{"x", "", "scales"}, Outputs: []string{"x2"}, Attrs: []*onnx.Attribute{attrString("mode", "nearest")}}
	inputs := []TestInput{
		{Name: "x", Shape: Shape{1, 2, 3, 3}, Grad: true},
		{Name: "w", Shape: Shape{2, 2, 2, 2}, Const: true},
		scalesInput(1, 1, 2, 2),
	}
	g := &onnx.Graph{Nodes: []*onnx.Node{ct, up, sum}} // Backward runs ct last: it adds
	model := nodeModel(13, ct, inputs)
	model.Graph.Nodes = g.Nodes
	model.Graph.Outputs[0].Name = "y"
	m, err := Load(model)
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Consts: map[string]*Value{
		"w":      FloatValue(inputs[1].Shape, randomFloats(rng, 16)),
		"scales": FloatValue(Shape{4}, inputs[2].F),
	}, Targets: []string{"y"}, Backward: true, Inputs: []InputSpec{{Name: "x", Shape: inputs[0].Shape, Grad: true}}}
	p, err := m.Plan(spec)
	if err != nil {
		t.Fatal(err)
	}
	copy(p.Data("x"), randomFloats(rng, 18))
	checkPlanGradient(t, rng, p, "y", []string{"x"}, "ConvTranspose + Resize")
}

func TestConvTransposeErrors(t *testing.T) {
	in := []TestInput{{Name: "x", Shape: Shape{1, 2, 3, 3}}, {Name: "w", Shape: Shape{2, 3, 3, 3}}}
	checkPlanError(t, 11, convTransposeNode(false, attrInts("strides", 2)), in, "ConvTranspose: strides is [2], want 2 values")
	checkPlanError(t, 11, convTransposeNode(false, attrInts("strides", 0, 1)), in, "ConvTranspose: strides[0] is 0, want >= 1")
	checkPlanError(t, 11, convTransposeNode(false, attrInt("group", 2)), []TestInput{{Name: "x", Shape: Shape{1, 3, 3, 3}}, {Name: "w", Shape: Shape{3, 3, 3, 3}}}, "ConvTranspose: 3 input channels are not a multiple of group 2")
	checkPlanError(t, 11, convTransposeNode(false), []TestInput{{Name: "x", Shape: Shape{1, 3, 3, 3}}, {Name: "w", Shape: Shape{2, 3, 3, 3}}}, "ConvTranspose: input has 3 channels, the weights 2x3x3x3 expect 2")
	checkPlanError(t, 11, convTransposeNode(false, attrInts("pads", 2, 2, 3, 3)), in, "ConvTranspose: pads [2 2 3 3] leave no output on spatial axis 0 (5 before padding)")
	checkPlanError(t, 11, convTransposeNode(false, attrInts("output_padding", 2, 0)), in, "ConvTranspose: output size 7 on spatial axis 0 leaves 2 rows past the taps' reach, want fewer than the stride 1")
	checkPlanError(t, 11, convTransposeNode(false, attrString("auto_pad", "SAME")), in, `ConvTranspose: auto_pad is "SAME", want NOTSET, VALID, SAME_UPPER or SAME_LOWER`)
	checkPlanError(t, 11, convTransposeNode(false), []TestInput{{Name: "x", Shape: Shape{1, 2, 3, 3, 3}}, {Name: "w", Shape: Shape{2, 3, 3, 3, 3}}}, "ConvTranspose: input is 1x2x3x3x3; only 1-D and 2-D transposed convolutions")
	checkPlanError(t, 11, convTransposeNode(true), append(in, TestInput{Name: "b", Shape: Shape{2}}), "ConvTranspose: bias is 2, want 3 values")
}
