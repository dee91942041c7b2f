package graph

import (
	"errors"
	"fmt"
	"math"

	"github.com/deepdream-go/deepdream/internal/gemm"
	"github.com/deepdream-go/deepdream/onnx"
)

// Node is one ONNX node as an operator builder sees it: the decoded node,
// the opset its domain imports, and attribute getters with defaults.
type Node struct {
	*onnx.Node
	Opset int64
	// Fused says what the planner merged into the node (see
	// fuseConvRelu); zero for a node as the file has it.
	Fused Fusion
	// shapesOnly tells builders that only the output shapes are wanted
	// (InferShapes): the kernel will not run, so its buffers and
	// transformed weights need not be made.
	shapesOnly bool
	// opts are the plan's engine options (nil: the defaults), kernel the
	// GEMM micro-kernel they name (nil: gemm.Default()).
	opts   *Options
	kernel *gemm.Kernel
	// derive, when a plan sizes its memory, counts what memo would keep.
	derive func(v *Value, key string, floats int)
}

// memo returns v.Memo(key, compute): data derived once from a constant
// and kept with the model (transformed, packed weights), of floats
// floats. With only shapes wanted it computes nothing and returns nil,
// and a plan that sizes its memory counts the floats
// (MemoryEstimate.Constants).
func (n *Node) memo(v *Value, key string, floats int, compute func() any) any {
	if n.shapesOnly {
		if n.derive != nil {
			n.derive(v, key, floats)
		}
		return nil
	}
	return v.Memo(key, compute)
}

// Fusion is what the planner merged into a node.
type Fusion struct {
	// Relu: a Conv applies the Relu that alone reads its output, to each
	// output tile while it is in cache, and masks its output gradient by
	// y > 0 before its own backward pass.
	Relu bool
	// ReluMaskedByReader: that Relu's output is read only by a node with
	// ReluInput set, whose backward pass applies its mask, so the Conv
	// keeps none.
	ReluMaskedByReader bool
	// ReluInput: a MaxPool or LRN whose input is the output of a fused
	// Relu that only it reads: a MaxPool stores no tap for maxima that are
	// not positive (ops.MaxPoolPositive), an LRN zeroes its input gradient
	// where its input is not positive (ops.LRNParams.Relu).
	ReluInput bool
}

// Options returns the engine options the node is planned with.
func (n *Node) Options() Options {
	if n.opts == nil {
		return Options{}
	}
	return *n.opts
}

// NodeError says which node a planning or loading problem is about.
type NodeError struct {
	Index  int
	Name   string
	OpType string
	Output string
	Opset  int64
	Err    error
}

func (e *NodeError) Error() string {
	name := ""
	if e.Name != "" {
		name = fmt.Sprintf(" (%q)", e.Name)
	}
	return fmt.Sprintf("graph: node %d%s: %s -> %q (opset %d): %v", e.Index, name, e.OpType, e.Output, e.Opset, e.Err)
}

func (e *NodeError) Unwrap() error { return e.Err }

// Errorf returns a *NodeError for n.
func (n *Node) Errorf(format string, args ...any) error {
	return n.wrap(fmt.Errorf(format, args...))
}

func (n *Node) wrap(err error) error {
	var ne *NodeError
	if errors.As(err, &ne) {
		return err
	}
	out := ""
	if len(n.Outputs) > 0 {
		out = n.Outputs[0]
	}
	return &NodeError{Index: n.Index, Name: n.Name, OpType: n.OpType, Output: out, Opset: n.Opset, Err: err}
}

// Int returns integer attribute name, or def when absent.
func (n *Node) Int(name string, def int64) (int64, error) {
	a := n.Attr(name)
	if a == nil {
		return def, nil
	}
	if a.Type != onnx.AttrInt && a.Type != onnx.AttrUndefined {
		return 0, n.Errorf("attribute %q: want an int, have type %d", name, a.Type)
	}
	return a.I, nil
}

// IntAttr is Int converted to int, rejecting values that do not fit comfortably.
func (n *Node) IntAttr(name string, def int) (int, error) {
	v, err := n.Int(name, int64(def))
	if err != nil {
		return 0, err
	}
	if v > math.MaxInt32 || v < math.MinInt32 {
		return 0, n.Errorf("attribute %q = %d is out of range", name, v)
	}
	return int(v), nil
}

// Float returns float attribute name, or def when absent.
func (n *Node) Float(name string, def float32) (float32, error) {
	a := n.Attr(name)
	if a == nil {
		return def, nil
	}
	if a.Type != onnx.AttrFloat && a.Type != onnx.AttrUndefined {
		return 0, n.Errorf("attribute %q: want a float, have type %d", name, a.Type)
	}
	return a.F, nil
}

// String returns string attribute name, or def when absent.
func (n *Node) String(name string, def string) (string, error) {
	a := n.Attr(name)
	if a == nil {
		return def, nil
	}
	if a.Type != onnx.AttrString && a.Type != onnx.AttrUndefined {
		return "", n.Errorf("attribute %q: want a string, have type %d", name, a.Type)
	}
	return a.S, nil
}

// Ints returns the ints attribute name as ints, or def when absent.
func (n *Node) Ints(name string, def []int) ([]int, error) {
	a := n.Attr(name)
	if a == nil {
		return def, nil
	}
	if a.Type != onnx.AttrInts && a.Type != onnx.AttrUndefined {
		return nil, n.Errorf("attribute %q: want ints, have type %d", name, a.Type)
	}
	out := make([]int, len(a.Ints))
	for i, v := range a.Ints {
		if v > math.MaxInt32 || v < math.MinInt32 {
			return nil, n.Errorf("attribute %q[%d] = %d is out of range", name, i, v)
		}
		out[i] = int(v)
	}
	return out, nil
}

// Floats returns the floats attribute name, or def when absent.
func (n *Node) Floats(name string, def []float32) ([]float32, error) {
	a := n.Attr(name)
	if a == nil {
		return def, nil
	}
	if a.Type != onnx.AttrFloats && a.Type != onnx.AttrUndefined {
		return nil, n.Errorf("attribute %q: want floats, have type %d", name, a.Type)
	}
	return a.Floats, nil
}
