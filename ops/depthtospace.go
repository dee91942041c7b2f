package ops

// NewDepthToSpace moves blocks of channels of an [N, C, H, W] tensor into
// b x b spatial blocks: [N, C/(b*b), H*b, W*b]. ONNX's DCR mode reads the
// channels as [b, b, C/(b*b)] (depth, column, row), CRD mode as
// [C/(b*b), b, b]. It is a transpose of the input viewed in 6-D. The
// caller checks that b*b divides C.
func NewDepthToSpace(dims []int, b int, crd bool) (*RemapParams, error) {
	n, c, h, w := dims[0], dims[1]/(b*b), dims[2], dims[3]
	if crd {
		return NewTranspose([]int{n, c, b, b, h, w}, []int{0, 1, 4, 2, 5, 3})
	}
	return NewTranspose([]int{n, b, b, c, h, w}, []int{0, 3, 4, 1, 5, 2})
}

// NewSpaceToDepth is DepthToSpace's inverse in DCR mode: [N, C, H, W] to
// [N, C*b*b, H/b, W/b], each b x b block becoming b*b channel planes. The
// caller checks that b divides H and W.
func NewSpaceToDepth(dims []int, b int) (*RemapParams, error) {
	n, c, h, w := dims[0], dims[1], dims[2]/b, dims[3]/b
	return NewTranspose([]int{n, c, h, b, w, b}, []int{0, 3, 5, 1, 2, 4})
}
