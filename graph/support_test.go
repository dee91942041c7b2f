package graph_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/shared"
	"github.com/deepdream-go/deepdream/onnx"
)

// supportModel loads a graph from "out = Op(in, in...)" lines: input "x",
// initializer "w" (and "w" only), opset 13; the last node's first output
// is the graph output.
func supportModel(t testing.TB, lines ...string) *graph.Model {
	g := &onnx.Graph{
		Inputs:       []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float}},
		Initializers: []*onnx.Tensor{onnx.NewFloatTensor("w", []int64{1}, []float32{1})},
	}
	for i, l := range lines {
		out, call, _ := strings.Cut(l, " = ")
		op, args, _ := strings.Cut(strings.TrimSuffix(call, ")"), "(")
		n := &onnx.Node{Index: i, Name: "n" + fmt.Sprint(i), OpType: op, Inputs: strings.Split(args, ", "), Outputs: []string{out}}
		if i := strings.LastIndexByte(op, '.'); i >= 0 {
			n.Domain, n.OpType = op[:i], op[i+1:]
		}
		g.Nodes = append(g.Nodes, n)
	}
	g.Outputs = []*onnx.ValueInfo{{Name: g.Nodes[len(g.Nodes)-1].Outputs[0]}}
	m, err := graph.Load(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: g})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestUnsupportedNamesNodeOpAndOpset(t *testing.T) {
	m := supportModel(t,
		"c = Conv(x, w)",
		"f = Frobnicate(c)",
		"r = Relu(f)",
		"q = com.microsoft.QuickGelu(r)",
	)
	errs := m.Unsupported()
	if len(errs) != 2 {
		t.Fatalf("Unsupported() = %v, want the Frobnicate and QuickGelu nodes", errs)
	}
	for i, want := range []string{
		`graph: node 1 ("n1"): Frobnicate -> "f" (opset 13): unsupported operator "Frobnicate"`,
		`graph: node 3 ("n3"): QuickGelu -> "q" (opset 0): operator domain "com.microsoft" is not supported`,
	} {
		if errs[i].Error() != want {
			t.Errorf("error %d = %q, want %q", i, errs[i], want)
		}
	}
}

func TestFromInputsLeavesOutWeightsAndShapes(t *testing.T) {
	m := supportModel(t,
		"w2 = Identity(w)", // an exporter's copy of a weight
		"s = Shape(x)",
		"k = Constant()",
		"s2 = Concat(s, k)",
		"c = Conv(x, w2)",
		"y = Reshape(c, s2)",
	)
	got := slices.Sorted(maps.Keys(m.FromInputs()))
	if want := []string{"c", "x", "y"}; !slices.Equal(got, want) {
		t.Errorf("FromInputs() = %v, want %v", got, want)
	}
}

func TestBlockOutputs(t *testing.T) {
	residual := supportModel(t,
		"stem = Conv(x, w)",
		"a = Relu(stem)",
		"b1 = Conv(a, w)", // block 1: a + conv(relu(conv(a)))
		"b2 = Relu(b1)",
		"b3 = Conv(b2, w)",
		"sum1 = Add(b3, a)",
		"out1 = Relu(sum1)",
		"c1 = Conv(out1, w)", // block 2: a two-branch concat
		"c2 = MaxPool(out1)",
		"cat = Concat(c1, c2)",
		"g = Mul(cat, cat)", // a gate is no join
		"head = GlobalAveragePool(g)",
	)
	if got, want := residual.BlockOutputs(), []string{"out1", "cat"}; !slices.Equal(got, want) {
		t.Errorf("residual net: BlockOutputs() = %v, want %v", got, want)
	}
	chain := supportModel(t, // VGG: no joins, every tensor is a narrowing
		"c1 = Conv(x, w)",
		"r1 = Relu(c1)",
		"p1 = MaxPool(r1)",
		"c2 = Conv(p1, w)",
		"r2 = Relu(c2)",
	)
	if got, want := chain.BlockOutputs(), []string{"r1", "p1", "r2"}; !slices.Equal(got, want) {
		t.Errorf("chain: BlockOutputs() = %v, want %v", got, want)
	}
}

// TestBlockOutputsOfRealNetworks checks the blocks found in GoogLeNet (its
// nine inception modules) and in two PyTorch exports.
func TestBlockOutputsOfRealNetworks(t *testing.T) {
	for _, tc := range []struct {
		file        string
		n           int
		first, last string
	}{
		{"models/googlenet-bvlc.onnx", 9, "inception_3a/output_1", "inception_5b/output_1"},
		{"models/zoo/resnet18_op17.onnx", 8, "/layer1/layer1.0/relu_1/Relu_output_0", "/layer4/layer4.1/relu_1/Relu_output_0"},
		{"models/zoo/squeezenet1_1_op9.onnx", 8, "/features/features.3/Concat_output_0", "/features/features.12/Concat_output_0"},
	} {
		m, err := graph.Open(shared.Path(t, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		b := m.BlockOutputs()
		if len(b) != tc.n || b[0] != tc.first || b[len(b)-1] != tc.last {
			t.Errorf("%s: BlockOutputs() = %v, want %d from %s to %s", tc.file, b, tc.n, tc.first, tc.last)
		}
	}
}

func ExampleModel_Unsupported() {
	m, err := graph.Load(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Inputs: []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float}},
		Nodes: []*onnx.Node{
			{Name: "gate", OpType: "NonMaxSuppression", Inputs: []string{"x"}, Outputs: []string{"g"}},
			{Index: 1, OpType: "Relu", Inputs: []string{"g"}, Outputs: []string{"y"}},
		},
	}})
	if err != nil {
		panic(err)
	}
	for _, e := range m.Unsupported() {
		fmt.Println(e.Index, e.OpType, e.Opset)
	}
	// Output:
	// 0 NonMaxSuppression 13
}

func ExampleModel_BlockOutputs() {
	// y = relu(x + relu(x)): one residual block.
	m, err := graph.Load(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Inputs: []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float}},
		Nodes: []*onnx.Node{
			{OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"branch"}},
			{Index: 1, OpType: "Add", Inputs: []string{"x", "branch"}, Outputs: []string{"sum"}},
			{Index: 2, OpType: "Relu", Inputs: []string{"sum"}, Outputs: []string{"y"}},
		},
		Outputs: []*onnx.ValueInfo{{Name: "y"}},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(m.BlockOutputs())
	// Output:
	// [y]
}

func ExampleModel_FromInputs() {
	// y = Conv(x, Identity(w)) reshaped to Shape(x): only x, c and y carry
	// the image; the weight's copy and the shape do not.
	m, err := graph.Load(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Inputs:       []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float}},
		Initializers: []*onnx.Tensor{onnx.NewFloatTensor("w", []int64{1, 1, 1, 1}, []float32{2})},
		Nodes: []*onnx.Node{
			{OpType: "Identity", Inputs: []string{"w"}, Outputs: []string{"w2"}},
			{Index: 1, OpType: "Shape", Inputs: []string{"x"}, Outputs: []string{"s"}},
			{Index: 2, OpType: "Conv", Inputs: []string{"x", "w2"}, Outputs: []string{"c"}},
			{Index: 3, OpType: "Reshape", Inputs: []string{"c", "s"}, Outputs: []string{"y"}},
		},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(slices.Sorted(maps.Keys(m.FromInputs())))
	// Output:
	// [c x y]
}
