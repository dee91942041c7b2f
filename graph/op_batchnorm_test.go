package graph

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func batchNormNode(attrs ...*onnx.Attribute) *onnx.Node {
	return &onnx.Node{OpType: "BatchNormalization", Inputs: []string{"x", "scale", "b", "mean", "var"}, Outputs: []string{"y"}, Attrs: attrs}
}

// batchNormInputs returns x and the four parameters for c channels,
// variances positive; the parameters are constant (folded at build time)
// or fed at run time.
func batchNormInputs(rng *rand.Rand, x Shape, constParams bool) []TestInput {
	c := x[1]
	variance := make([]float32, c)
	for i := range variance {
		variance[i] = rng.Float32() + 0.1
	}
	return []TestInput{
		{Name: "x", Shape: x, Grad: true},
		{Name: "scale", Shape: Shape{c}, Const: constParams},
		{Name: "b", Shape: Shape{c}, Const: constParams},
		{Name: "mean", Shape: Shape{c}, Const: constParams},
		{Name: "var", Shape: Shape{c}, F: variance, Const: constParams},
	}
}

func TestBatchNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, shape := range []Shape{{2, 3}, {1, 4, 5}, {2, 3, 4, 5}} {
		for _, constParams := range []bool{true, false} {
			for _, opset := range []int64{7, 9, 15} {
				node := batchNormNode(attrFloat("epsilon", 0.01))
				in := batchNormInputs(rng, shape, constParams)
				planNode(t, rng, opset, node, in, false) // fills in random data
				x, scale, b, mean, variance := in[0].F, in[1].F, in[2].F, in[3].F, in[4].F
				inner := shape[2:].Size()
				want := make([]float32, len(x))
				for i := range want {
					c := i / inner % shape[1]
					want[i] = scale[c]*(x[i]-mean[c])/float32(math.Sqrt(float64(variance[c])+0.01)) + b[c]
				}
				checkNodeOutput(t, opset, node, in, shape, want)
				CheckGradient(t, opset, node, in)
			}
		}
	}
}

func TestBatchNormErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	in := batchNormInputs(rng, Shape{1, 3, 4, 4}, false)
	checkPlanError(t, 15, batchNormNode(attrInt("training_mode", 1)), in, "BatchNormalization: training_mode = 1 is not supported, only inference")
	checkPlanError(t, 7, batchNormNode(attrInt("spatial", 0)), in, "BatchNormalization: spatial = 0 is not supported")
	training := batchNormNode()
	training.Outputs = []string{"y", "running_mean", "running_var"}
	checkPlanError(t, 9, training, in, `output "running_mean" (running or saved statistics) is computed only in training mode`)
	in[3].Shape = Shape{4}
	checkPlanError(t, 15, batchNormNode(), in, "BatchNormalization: mean is 4, want 3 values (one per channel of input 1x3x4x4)")
}
