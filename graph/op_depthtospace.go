package graph

import (
	"fmt"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("DepthToSpace", buildDepthToSpace)
	Register("SpaceToDepth", buildSpaceToDepth)
}

// blocksize reads the required blocksize attribute and checks that the
// input is 4-D (NCHW).
func blocksize(n *Node, shape Shape) (int, error) {
	if len(shape) != 4 {
		return 0, fmt.Errorf("input has shape %v, want 4-D (NCHW)", shape)
	}
	if n.Attr("blocksize") == nil {
		return 0, fmt.Errorf("attribute \"blocksize\" is required")
	}
	b, err := n.IntAttr("blocksize", 0)
	if err != nil {
		return 0, err
	}
	if b < 1 {
		return 0, fmt.Errorf("blocksize %d is not positive", b)
	}
	return b, nil
}

// DepthToSpace rearranges [N, C, H, W] into [N, C/b², H*b, W*b], reading
// the channels as [b, b, C/b²] (mode DCR, the default) or [C/b², b, b]
// (CRD, opset 11): the pixel shuffle of super-resolution networks.
func buildDepthToSpace(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	shape := in[0].Shape
	b, err := blocksize(n, shape)
	if err != nil {
		return nil, err
	}
	mode, err := n.String("mode", "DCR")
	if err != nil {
		return nil, err
	}
	if mode != "DCR" && mode != "CRD" {
		return nil, fmt.Errorf("mode %q is not DCR or CRD", mode)
	}
	if shape[1]%(b*b) != 0 {
		return nil, fmt.Errorf("%d channels (input %v) are not a multiple of blocksize² = %d", shape[1], shape, b*b)
	}
	p, err := ops.NewDepthToSpace(shape, b, mode == "CRD")
	if err != nil {
		return nil, err
	}
	return remapBuilt(in[0], Shape{shape[0], shape[1] / (b * b), shape[2] * b, shape[3] * b}, p, 0)
}

// SpaceToDepth is DepthToSpace's inverse (DCR): [N, C, H, W] into
// [N, C*b², H/b, W/b].
func buildSpaceToDepth(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	shape := in[0].Shape
	b, err := blocksize(n, shape)
	if err != nil {
		return nil, err
	}
	if shape[2]%b != 0 || shape[3]%b != 0 {
		return nil, fmt.Errorf("height and width of %v are not multiples of blocksize %d", shape, b)
	}
	p, err := ops.NewSpaceToDepth(shape, b)
	if err != nil {
		return nil, err
	}
	return remapBuilt(in[0], Shape{shape[0], shape[1] * b * b, shape[2] / b, shape[3] / b}, p, 0)
}
