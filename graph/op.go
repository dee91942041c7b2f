package graph

import (
	"slices"
	"sort"

	"github.com/deepdream-go/deepdream/ops"
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

// Kernel runs one planned node. Its Forward and Backward get the node's
// buffers in a Run, which the planner fills in once; a kernel keeps no
// buffers of its own, so that the planner can pool and reuse them all.
//
// Forward writes every element of r.Out from r.In (and records r.Saved,
// when it has them, for Backward).
//
// Backward writes the gradient of the objective with respect to each input
// into r.DIn[i], which is nil where no gradient is wanted: it adds into it
// where r.Accumulate[i] is true (a tensor read by several nodes collects
// the sum of their contributions in one buffer) and sets every element of
// it where it is false, which the planner asks only of inputs listed in
// Built.CanSet. r.DOut[j] is the gradient with respect to output j (nil:
// zero). r.In and r.Out hold the values of the Forward run just before it,
// as far as Built.BackwardReads keeps them.
type Kernel interface {
	Forward(r *Run)
	Backward(r *Run)
}

// Run holds one planned node's buffers for a call of its kernel. The
// planner fills it in once; kernels only read the slices.
type Run struct {
	// In and Out are the node's values: In[i] is nil for an omitted or an
	// integer input (the builder captured integer constants it needs), or
	// for an input a Concat takes in place (see concatsInPlace).
	In, Out [][]float32
	// DIn and DOut are the gradients: DIn[i] is nil where no gradient
	// is wanted, DOut[j] nil for a zero one.
	DIn, DOut [][]float32
	// Accumulate[i] says whether Backward adds into DIn[i] (true) or sets
	// it (false, only for inputs in Built.CanSet).
	Accumulate []bool
	// Saved holds the buffers of Built.Saved, kept from Forward to
	// Backward; their slices are nil when no backward pass runs through
	// the node, and Forward then records nothing.
	Saved []Saved
	// Scratch is Built.Scratch floats of working memory, valid during
	// the call: the arena lends it to other buffers between calls.
	Scratch []float32
}

// Saved is a buffer a kernel keeps from Forward for Backward: one of F, B
// and Bits is set, as its SavedSpec asks.
type Saved struct {
	F    []float32
	B    []byte
	Bits []uint64
}

// SavedSpec asks the planner for one Saved buffer: Floats float32s, Bytes
// bytes or Bits bits (set one of them).
type SavedSpec struct{ Floats, Bytes, Bits int }

// floats is the buffer's size in float32s, rounded up to whole uint64s.
func (s SavedSpec) floats() int {
	return s.Floats + (s.Bytes+7)/8*2 + (s.Bits+63)/64*2
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
	// DOut and Saved; nil means all of them. Naming fewer lets the planner
	// give the memory of tensors that only the forward pass needs to later
	// tensors.
	BackwardReads *Reads
	// CanSet lists the inputs whose gradient Backward can set instead of
	// adding to it (Run.Accumulate): where the node is the first to write
	// a gradient buffer, the planner then need not clear it first.
	CanSet []int
	// GradInPlace says Backward can set the gradient of input 0 over
	// that of output 0, of the same size, which it reads (DIn[0] and
	// DOut[0] one buffer): the planner gives them one buffer where the
	// node is the first to write the input's gradient, and has it set.
	GradInPlace bool
	// Saved lists the buffers Forward records for Backward (a ReLU's mask,
	// a max pool's taps). The planner allocates them with the plan's other
	// buffers, and only when a backward pass runs through the node;
	// Forward writes them whole (their memory held other buffers before).
	Saved []SavedSpec
	// Scratch is the working memory, in floats, the kernel needs while it
	// runs (Run.Scratch).
	Scratch int
	// FLOPs is the forward pass's arithmetic, 2 per multiply-add, counted
	// for the operators whose cost is arithmetic (convolutions, matrix
	// products); 0 for data movement and element-wise work.
	FLOPs int64
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

// clearSet clears the input gradients that a Backward with no output
// gradient (a zero one) has nothing to set from: the planner did not clear
// the buffers it asked the kernel to set.
func clearSet(r *Run) {
	for i, d := range r.DIn {
		if d != nil && !r.Accumulate[i] {
			ops.Clear(d)
		}
	}
}

// runOnce runs b's kernel forward on constant inputs, at plan time (folding
// a node, or pooling integers), with outputs and scratch of its own.
func runOnce(b *Built, in [][]float32) [][]float32 {
	r := &Run{In: in, Out: make([][]float32, len(b.Out)), Saved: make([]Saved, len(b.Saved))}
	for j, s := range b.Out {
		r.Out[j] = make([]float32, s.Size())
	}
	if b.Scratch > 0 {
		r.Scratch = make([]float32, b.Scratch)
	}
	b.Kernel.Forward(r)
	return r.Out
}
