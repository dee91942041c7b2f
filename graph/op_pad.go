package graph

import (
	"fmt"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("Pad", buildPad)
}

var padModes = map[string]ops.PadMode{"constant": ops.PadConstant, "reflect": ops.PadReflect, "edge": ops.PadEdge}

// Pad: pads (negative ones crop) and the constant value are attributes
// before opset 11, constant inputs from then on; opset 18 adds the axes the
// pads apply to. The backward of a constant pad is a crop; edge and reflect
// add each padded element's gradient back onto the element it repeats.
func buildPad(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 4); err != nil {
		return nil, err
	}
	mode, err := n.String("mode", "constant")
	if err != nil {
		return nil, err
	}
	pm, ok := padModes[mode]
	if !ok {
		return nil, fmt.Errorf("mode %q is not supported (constant, reflect, edge are)", mode)
	}
	data := in[0].Shape
	rank := len(data)
	var pads []int
	var fill float32
	if n.Opset < 11 {
		if err := wantInputs(in, 1, 1); err != nil {
			return nil, err
		}
		name := "pads"
		if n.Opset < 2 {
			name = "paddings"
		}
		if pads, err = n.Ints(name, nil); err != nil {
			return nil, err
		}
		if pads == nil {
			return nil, fmt.Errorf("attribute %q is required", name)
		}
		if fill, err = n.Float("value", 0); err != nil {
			return nil, err
		}
	} else {
		if pads, fill, err = padInputs(in, rank); err != nil {
			return nil, err
		}
	}
	if len(pads) != 2*rank {
		return nil, fmt.Errorf("%d pads for an input of rank %d (%v), want %d", len(pads), rank, data, 2*rank)
	}
	p, err := ops.NewPad(data, pads, pm)
	if err != nil {
		return nil, err
	}
	b, err := remapBuilt(in[0], Shape(p.Dims[:rank]), p, fill, 1, 2, 3)
	if err != nil {
		return nil, err
	}
	if k, ok := b.Kernel.(*remapKernel); ok && len(in) > 2 && in[2].Present() && in[2].Const == nil {
		k.fillInput = 2 // a float fill that changes from run to run
	}
	return b, nil
}

// padInputs reads the pads, constant_value and axes inputs of opset 11 on,
// all constant at plan time, and spreads the pads over every axis.
func padInputs(in []Input, rank int) (pads []int, fill float32, err error) {
	if err := wantInputs(in, 2, 4); err != nil {
		return nil, 0, err
	}
	given, err := planTimeInts(in[1], "pads")
	if err != nil {
		return nil, 0, err
	}
	if len(in) > 2 && in[2].Present() {
		if in[2].Shape.Size() != 1 {
			return nil, 0, fmt.Errorf("constant_value input %q has shape %v, want one element", in[2].Name, in[2].Shape)
		}
		if in[2].Const != nil {
			fill = in[2].Const.Floats()[0]
		}
	}
	axes := make([]int64, rank)
	for i := range axes {
		axes[i] = int64(i)
	}
	if len(in) > 3 && in[3].Present() {
		if axes, err = planTimeInts(in[3], "axes"); err != nil {
			return nil, 0, err
		}
	}
	if len(given) != 2*len(axes) {
		return nil, 0, fmt.Errorf("%d pads for %d axes, want %d", len(given), len(axes), 2*len(axes))
	}
	pads = make([]int, 2*rank)
	for i, a := range axes {
		ax, err := axisIn(int(a), rank, "axis")
		if err != nil {
			return nil, 0, err
		}
		before, after := given[i], given[len(axes)+i]
		if max(before, after) > 1<<31 || min(before, after) < -1<<31 {
			return nil, 0, fmt.Errorf("pads %v are out of range", given)
		}
		pads[ax], pads[rank+ax] = int(before), int(after)
	}
	return pads, fill, nil
}
