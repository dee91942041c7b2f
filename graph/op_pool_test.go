package graph

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func poolNode(op string, attrs ...*onnx.Attribute) *onnx.Node {
	return &onnx.Node{OpType: op, Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: attrs}
}

// GoogLeNet's pool1 in ONNX: Caffe rounds pooled sizes up, which the
// converters express as pads [0,0,1,1] with floor rounding; the sizes must
// agree with Caffe's ceil((H-3)/2)+1 at every size, odd or even, and the
// values with ceil_mode=1 and no padding.
func TestMaxPoolCaffeCeilSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	padded := poolNode("MaxPool", attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 0, 0, 1, 1))
	ceil := poolNode("MaxPool", attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInt("ceil_mode", 1))
	caffe := func(h int) int { return (h-3+1)/2 + 1 }
	for _, hw := range [][2]int{{112, 112}, {111, 111}, {113, 113}, {333, 251}, {167, 126}, {4, 5}} {
		for _, opset := range []int64{10, 12} {
			x := []TestInput{{Name: "x", Shape: Shape{1, 2, hw[0], hw[1]}}}
			p := planNode(t, rng, opset, padded, x, false)
			want := Shape{1, 2, caffe(hw[0]), caffe(hw[1])}
			if got := p.Shape("y"); !got.Equal(want) {
				t.Fatalf("%v input: pool1 output %v, want Caffe's %v", hw, got, want)
			}
			q := planNode(t, rng, opset, ceil, x, false)
			if got := q.Shape("y"); !got.Equal(want) {
				t.Fatalf("%v input, ceil_mode: output %v, want %v", hw, got, want)
			}
			for i, v := range p.Data("y") {
				if q.Data("y")[i] != v {
					t.Fatalf("%v input: pads [0,0,1,1] and ceil_mode differ at %d", hw, i)
				}
			}
		}
	}
	if caffe(112) != 56 || caffe(111) != 55 || caffe(113) != 56 {
		t.Fatal("caffe formula")
	}
}

func TestPoolOutputShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		attrs []*onnx.Attribute
		in    Shape
		want  Shape
	}{
		// ceil_mode: the last window must start inside the input or the
		// leading padding; 5 with k2 s2 pad 1: windows start at -1, 1, 3,
		// and one at 5 would start in the trailing padding.
		{[]*onnx.Attribute{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1), attrInt("ceil_mode", 1)}, Shape{1, 1, 5, 4}, Shape{1, 1, 3, 3}},
		{[]*onnx.Attribute{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInt("ceil_mode", 1)}, Shape{1, 1, 4, 4}, Shape{1, 1, 2, 2}},
		{[]*onnx.Attribute{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrString("auto_pad", "SAME_UPPER")}, Shape{1, 1, 5, 6}, Shape{1, 1, 3, 3}},
		{[]*onnx.Attribute{attrInts("kernel_shape", 3, 3), attrString("auto_pad", "VALID")}, Shape{2, 1, 5, 6}, Shape{2, 1, 3, 4}},
		{[]*onnx.Attribute{attrInts("kernel_shape", 2, 2), attrInts("dilations", 2, 2)}, Shape{1, 1, 4, 5}, Shape{1, 1, 2, 3}},
		{[]*onnx.Attribute{attrInts("kernel_shape", 3), attrInts("strides", 2)}, Shape{1, 3, 9}, Shape{1, 3, 4}},
	} {
		node := poolNode("MaxPool", c.attrs...)
		p := planNode(t, rng, 12, node, []TestInput{{Name: "x", Shape: c.in}}, false)
		if got := p.Shape("y"); !got.Equal(c.want) {
			t.Errorf("%s on %v: output %v, want %v", describe(node), c.in, got, c.want)
		}
	}
}

// AveragePool on ones shows the divisor: with count_include_pad the padded
// cells count (ones become 4/9 at a corner of a 3x3 window padded by 1),
// without they do not (ones stay ones); with ceil_mode the cells past the
// padded input never count.
func TestAveragePoolDivisor(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ones := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	for _, c := range []struct {
		attrs []*onnx.Attribute
		want  []float32
	}{
		{[]*onnx.Attribute{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1)}, []float32{1, 1, 1, 1}},
		{[]*onnx.Attribute{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1), attrInt("count_include_pad", 1)},
			[]float32{4. / 9, 6. / 9, 6. / 9, 1}},
		// 4x4, k3 s2, ceil: the second window in each direction covers
		// index 4, past the input with no padding: it does not count even
		// with count_include_pad.
		{[]*onnx.Attribute{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInt("ceil_mode", 1), attrInt("count_include_pad", 1)},
			[]float32{1, 1, 1, 1}},
		// The same windows over one row and column of end padding: now
		// that padding counts.
		{[]*onnx.Attribute{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 0, 0, 1, 1), attrInt("ceil_mode", 1), attrInt("count_include_pad", 1)},
			[]float32{1, 6. / 9, 6. / 9, 4. / 9}},
	} {
		node := poolNode("AveragePool", c.attrs...)
		p := planNode(t, rng, 11, node, []TestInput{{Name: "x", Shape: Shape{1, 1, 4, 4}, F: ones}}, false)
		for i, v := range p.Data("y") {
			if d := v - c.want[i]; d > 1e-6 || d < -1e-6 {
				t.Errorf("%s: y = %v, want %v", describe(node), p.Data("y"), c.want)
				break
			}
		}
	}
}

func TestPoolGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	variants := [][]*onnx.Attribute{
		{attrInts("kernel_shape", 2, 2)},
		{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 0, 0, 1, 1)},
		{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1)},
		{attrInts("kernel_shape", 3, 3), attrInts("pads", 1, 1, 1, 1)},
		{attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInt("ceil_mode", 1)},
		{attrInts("kernel_shape", 2, 2), attrInts("strides", 1, 1), attrInts("dilations", 2, 2)},
		{attrInts("kernel_shape", 3, 2), attrInts("strides", 2, 1), attrString("auto_pad", "SAME_UPPER")},
		{attrInts("kernel_shape", 2, 3), attrInts("strides", 2, 2), attrString("auto_pad", "SAME_LOWER")},
		{attrInts("kernel_shape", 3, 3), attrString("auto_pad", "VALID")},
	}
	shape := Shape{2, 3, 7, 6}
	for _, attrs := range variants {
		CheckGradient(t, 12, poolNode("MaxPool", attrs...), []TestInput{{Name: "x", Shape: shape, F: distinct(rng, shape.Size()), Grad: true}})
		for _, include := range []int64{0, 1} {
			avg := append(attrs[:len(attrs):len(attrs)], attrInt("count_include_pad", include))
			CheckGradient(t, 19, poolNode("AveragePool", avg...), []TestInput{{Name: "x", Shape: shape, Grad: true}})
		}
	}
	line := Shape{1, 2, 11}
	CheckGradient(t, 12, poolNode("MaxPool", attrInts("kernel_shape", 3), attrInts("strides", 2), attrInts("pads", 1, 1)),
		[]TestInput{{Name: "x", Shape: line, F: distinct(rng, line.Size()), Grad: true}})
	CheckGradient(t, 11, poolNode("AveragePool", attrInts("kernel_shape", 3), attrInts("pads", 1, 0)), []TestInput{{Name: "x", Shape: line, Grad: true}})
	CheckGradient(t, 1, poolNode("GlobalAveragePool"), []TestInput{{Name: "x", Shape: shape, Grad: true}})
	CheckGradient(t, 1, poolNode("GlobalMaxPool"), []TestInput{{Name: "x", Shape: shape, F: distinct(rng, shape.Size()), Grad: true}})
}

func TestPoolErrors(t *testing.T) {
	for _, c := range []struct {
		node *onnx.Node
		in   Shape
		want string
	}{
		{poolNode("MaxPool", attrInts("kernel_shape", 2, 2, 2)), Shape{1, 1, 4, 4, 4}, "3-D pooling is not supported"},
		{poolNode("MaxPool"), Shape{1, 1, 4, 4}, "kernel_shape"},
		{poolNode("MaxPool", attrInts("kernel_shape", 2, 2), attrString("auto_pad", "SAME")), Shape{1, 1, 4, 4}, `unknown auto_pad "SAME"`},
		{poolNode("AveragePool", attrInts("kernel_shape", 5, 5)), Shape{1, 1, 4, 4}, "larger than the padded input"},
		{poolNode("MaxPool", attrInts("kernel_shape", 2, 2), attrInts("pads", 1, 1)), Shape{1, 1, 4, 4}, "attribute pads = [1 1]: want 4 values"},
		{poolNode("MaxPool", attrInts("kernel_shape", 2, 2), attrInts("strides", 0, 1)), Shape{1, 1, 4, 4}, "each must be at least 1"},
	} {
		m, err := Load(nodeModel(12, c.node, []TestInput{{Name: "x", Shape: c.in}}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Plan(Spec{Inputs: []InputSpec{{Name: "x", Shape: c.in}}, Targets: []string{"y"}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s on %v: error %v, want one mentioning %q", describe(c.node), c.in, err, c.want)
		}
	}
}

// Forward and Backward of the stateful kernels (LRN scale) must
// not allocate.
func TestPoolLRNSoftmaxNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ctx := context.Background()
	for _, node := range []*onnx.Node{
		poolNode("MaxPool", attrInts("kernel_shape", 3, 3), attrInts("strides", 2, 2), attrInts("pads", 0, 0, 1, 1)),
		poolNode("AveragePool", attrInts("kernel_shape", 3, 3)),
		poolNode("LRN", attrInt("size", 5)),
		poolNode("Softmax"),
		poolNode("Clip", attrFloat("min", 0)),
	} {
		p := planNode(t, rng, 10, node, []TestInput{{Name: "x", Shape: Shape{1, 16, 20, 20}, Grad: true}}, true)
		if a := testing.AllocsPerRun(5, func() {
			_ = p.Forward(ctx)
			_ = p.Backward(ctx)
		}); a != 0 {
			t.Errorf("%s allocates %v times per run", node.OpType, a)
		}
	}
}
