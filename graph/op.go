package graph

import (
	"slices"
	"sort"
)

// Input is what a builder knows about one node input at plan time.
type Input struct {
	Name  string // "" for an omitted optional input
	Shape Shape
	// Const is the input's value when it is known at plan time (weights,
	// shape arithmetic), nil when it changes from run to run.
	Const *Value
}

// Present reports whether the optional input was given.
func (in Input) Present() bool { return in.Name != "" }

// Kernel runs one planned node. Slices are the planned tensors, in the order
// of the node's inputs and outputs; an omitted or integer input is nil (the
// builder captured integer constants it needs).
//
// Forward writes every element of out from in.
//
// Backward adds the gradient of the objective with respect to each input
// into din[i], which is nil where no gradient is wanted; dout[j] is the
// gradient with respect to output j (nil: zero). in and out hold the values of
// the forward run. Backward must add, not assign: a tensor used by several
// nodes receives the sum of their contributions in one buffer.
type Kernel interface {
	Forward(out, in [][]float32)
	Backward(din, dout, in, out [][]float32)
}

// Built is a builder's result.
type Built struct {
	// Out holds the output shapes, one per node output.
	Out []Shape
	// Kernel runs the node; nil when Consts or Alias makes running it needless.
	Kernel Kernel
	// Consts, when set, are the outputs' values, computed at plan time
	// (Shape, integer arithmetic on constants); the node never runs.
	Consts []*Value
	// Alias means output 0 is input 0 viewed with another shape (Reshape,
	// Flatten, Squeeze, Identity...): they share storage and gradient.
	Alias bool
	// NoGrad lists the inputs the kernel cannot differentiate (Conv
	// weights, Reshape's shape). Planning a backward pass through one fails.
	NoGrad []int
	// BackwardReads lists the inputs and outputs Backward reads, besides
	// dout; nil means all of them. Naming fewer lets the planner give the
	// memory of tensors that only the forward pass needs to later tensors.
	BackwardReads *Reads
	// Scratch is the working memory, in floats, the kernel needs while it
	// runs. Kernels run one at a time, so the planner gives them all one
	// buffer, through their setScratch method (see scratchUser).
	Scratch int
}

// scratchUser is implemented by kernels that ask for Built.Scratch.
type scratchUser interface {
	setScratch(buf []float32)
}

// Reads names inputs and outputs of a node by index.
type Reads struct{ In, Out []int }

// A Builder checks a node against its input shapes and prepares its kernel.
type Builder func(n *Node, in []Input) (*Built, error)

var builders = map[string]Builder{}

// Register makes an ONNX operator (default domain) available. It is called
// from init functions of the files that implement the operators.
func Register(opType string, b Builder) {
	if _, dup := builders[opType]; dup {
		panic("graph: operator registered twice: " + opType)
	}
	builders[opType] = b
}

// SupportedOps lists the registered operators, sorted.
func SupportedOps() []string {
	ops := make([]string, 0, len(builders))
	for op := range builders {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

func noGrad(b *Built, i int) bool { return slices.Contains(b.NoGrad, i) }
