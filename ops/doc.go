// Package ops holds the arithmetic of the network operators on dense
// float32 slices: each forward kernel with its backward (the gradient with
// respect to the data input) directly below it, destination first.
//
// Conventions:
//   - Tensors are row-major, NCHW for images, batch 1 unless a parameter
//     says otherwise; a Params struct carries the shapes.
//   - Forward kernels overwrite every element of dst.
//   - An operator has one backward function, with an accumulate flag: it
//     adds into dx (dx += ..., so that a tensor read by several operators
//     collects the sum of their gradients) or, without it, sets every
//     element of dx whatever it held, which spares the caller a pass
//     clearing it.
//   - dst must not alias an input unless the kernel's comment allows it.
//   - Kernels use every core through internal/parallel and do not allocate;
//     a kernel that needs scratch memory takes it as an argument, sized by a
//     ScratchSize function.
//   - Every assembly kernel (*_amd64.s) has a Go twin; the purego build tag
//     runs the twins everywhere, and a test compares the two bit for bit.
//     Which runs is decided by the CPU alone (golang.org/x/sys/cpu); the
//     GEMM micro-kernel is a parameter (ConvParams.Kernel,
//     GemmParams.Kernel).
//
// Files pair with package graph's: X.go holds the arithmetic of the
// operators graph/op_X.go plans (conv.go, with im2col.go and winograd*.go,
// for op_conv.go). The element-wise functions are tables: unaryOps
// (unary.go) for one tensor, elementwiseOps (elementwise.go) for broadcast
// tensors; remap.go moves data by index maps for Transpose, Gather, Pad,
// Slice, Expand, Tile and DepthToSpace.
package ops
