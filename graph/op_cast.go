package graph

import (
	"fmt"
	"math"

	"github.com/deepdream-go/deepdream/onnx"
)

func init() {
	Register("Cast", buildCast)
}

// Cast converts a tensor to the element type of its "to" attribute (a
// type name before opset 6). The engine keeps float tensors in float32
// and integers and booleans in int64, as plan-time constants only, so:
//   - to a float type (FLOAT, DOUBLE, FLOAT16, BFLOAT16) a float tensor
//     is unchanged, the output sharing its buffer (no rounding to half
//     precision: the engine computes in float32 whatever a model asks),
//     and an integer constant becomes a float constant;
//   - to an integer type or BOOL an integer constant wraps to the type's
//     width as in C (INT64 to INT32 keeps the low 32 bits; BOOL is v != 0),
//     and a float constant is truncated toward zero first; a float tensor
//     computed at run time cannot become an integer one, and is refused.
//
// Cast has no arithmetic of its own in package ops.
func buildCast(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	to, err := castTarget(n)
	if err != nil {
		return nil, err
	}
	x := in[0]
	switch to {
	case onnx.Float, onnx.Double, onnx.Float16, onnx.BFloat16:
		if isInt(x) {
			return &Built{Out: []Shape{x.Shape}, Consts: []*Value{FloatValue(x.Shape, x.Const.Floats())}}, nil
		}
		return &Built{Out: []Shape{x.Shape}, Alias: true}, nil
	case onnx.Bool, onnx.Int8, onnx.Uint8, onnx.Int16, onnx.Uint16, onnx.Int32, onnx.Uint32, onnx.Int64, onnx.Uint64:
	default:
		return nil, fmt.Errorf("attribute \"to\": cast to %v is not supported; the engine has float and integer tensors only", to)
	}
	if x.Const == nil {
		return nil, fmt.Errorf("input 0 %q is a float tensor computed at run time; it cannot be cast to %v: integer tensors exist only as plan-time constants", x.Name, to)
	}
	y := make([]int64, x.Shape.Size())
	if x.Const.Int {
		for i, v := range x.Const.I {
			y[i] = wrapInt(v, to)
		}
	} else {
		for i, f := range x.Const.F {
			if to == onnx.Bool {
				y[i] = 0
				if f != 0 {
					y[i] = 1
				}
				continue
			}
			t := math.Trunc(float64(f))
			if math.IsNaN(t) || t < math.MinInt64 || t >= math.MaxInt64 {
				return nil, fmt.Errorf("input 0 %q: element %d, %v, has no %v value", x.Name, i, f, to)
			}
			y[i] = wrapInt(int64(t), to)
		}
	}
	return &Built{Out: []Shape{x.Shape}, Consts: []*Value{IntValue(x.Shape, y)}}, nil
}

// castTarget reads the "to" attribute: an element type number, or before
// opset 6 its name ("FLOAT").
func castTarget(n *Node) (onnx.DataType, error) {
	if n.Attr("to") == nil {
		return 0, fmt.Errorf("attribute \"to\" is required")
	}
	if n.Opset >= 6 {
		to, err := n.Int("to", 0)
		return onnx.DataType(to), err
	}
	name, err := n.String("to", "")
	if err != nil {
		return 0, err
	}
	for t := onnx.Float; t <= onnx.BFloat16; t++ {
		if t.String() == name {
			return t, nil
		}
	}
	return 0, fmt.Errorf("attribute \"to\": unknown element type %q", name)
}

// wrapInt converts v to an integer type as C does: two's complement,
// keeping the type's low bits.
func wrapInt(v int64, to onnx.DataType) int64 {
	switch to {
	case onnx.Bool:
		if v != 0 {
			return 1
		}
		return 0
	case onnx.Int8:
		return int64(int8(v))
	case onnx.Uint8:
		return int64(uint8(v))
	case onnx.Int16:
		return int64(int16(v))
	case onnx.Uint16:
		return int64(uint16(v))
	case onnx.Int32:
		return int64(int32(v))
	case onnx.Uint32:
		return int64(uint32(v))
	}
	return v // INT64, and UINT64 as the engine stores it
}
