// Package ops holds the arithmetic of the network operators on dense
// float32 slices: each forward kernel with its backward (the gradient with
// respect to the data input) directly below it, destination first.
//
// Conventions:
//   - Tensors are row-major, NCHW for images, batch 1 unless a parameter
//     says otherwise; a Params struct carries the shapes.
//   - Forward kernels overwrite every element of dst.
//   - Backward kernels add into dx (dx += ...), so a tensor read by several
//     operators collects the sum of their gradients; the caller zeroes dx.
//   - dst must not alias an input unless the kernel's comment allows it.
//   - Kernels use every core through internal/parallel and do not allocate;
//     a kernel that needs scratch memory takes it as an argument, sized by a
//     ScratchSize function.
package ops
