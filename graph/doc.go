// Package graph plans and runs an ONNX network on float32 tensors: forward
// to chosen tensors, and backward from an objective on those tensors to the
// input (never to the weights), which is all DeepDream needs.
//
// A Model is loaded once from an ONNX file. Model.Plan then fixes the input
// shapes and the targets, infers every shape, folds everything that depends
// only on constants (shape arithmetic included), picks a kernel per node and
// allocates every buffer; Plan.Forward and Plan.Backward then run step after
// step without allocating. Only the nodes the targets depend on are planned.
//
// Layout: tensors are dense, row-major, NCHW for images, batch 1 in
// practice. A tensor computed by Reshape, Flatten, Squeeze, Unsqueeze,
// Identity or Dropout shares its input's buffer (and gradient buffer).
//
// Memory: buffers whose lives do not overlap share memory, in one arena
// per plan (lifetimes.go). A value lives until its last reader in the
// forward pass, or, when a backward step reads it (Built.BackwardReads
// says which), until that step's backward pass; a gradient lives from the
// first backward step that adds into it to the step that reads it; a
// kernel's saved state from its forward pass to its backward pass, its
// scratch while it runs. So after Forward only the inputs, the targets
// and what the backward pass needs are readable, and the caller writes the
// targets' gradients; after Backward (once per Forward), only the inputs
// and their gradients, until the next Forward.
// A Conv whose output only a Relu reads is planned as one fused step (and
// when only a MaxPool reads the Relu's output, the MaxPool's backward pass
// applies the Relu's mask); pointwise Convs of one input (an inception
// module's 1x1 branches) as one stacked Conv whose output their outputs
// view; and the inputs that only a Concat reads are written straight into
// its output, their gradients read from its gradient in place (the Concat
// then runs as soon as the inputs it still copies are made). Spec.Memory
// lends the buffers of plans made one after another (a dream's octaves)
// out of one pool.
//
// Files: plan.go is the API and the run loop (Spec, Options, Plan, Forward,
// Backward), lifetimes.go decides when each buffer lives and when
// gradients are cleared, arena.go where in the plan's memory each lies,
// estimate.go what a plan's memory comes to (EstimateMemory), fold.go
// runs what depends on constants at plan time, fuse.go and siblings.go
// are the fusions, inplace.go the concatenations in place, memory.go the
// pool of pages plans borrow.
//
// Operators live one family per file (op_*.go), each registering a Builder
// for its ONNX op types; the arithmetic is in package ops (ops/X.go pairs
// with op_X.go).
//
// Element-wise operators are tables, so that adding one touches at most
// three files. A function of one tensor (Exp, HardSwish) is a row of
// ops.unaryOps (ops/unary.go) plus a row of unaryCases
// (graph/op_unary_test.go); a function of several broadcast tensors (Pow,
// Max, Equal) is a row of ops.elementwiseOps (ops/elementwise.go) plus a
// row of elementwiseCases (graph/op_elementwise_test.go). The third file,
// only if one of its ONNX node tests cannot pass, is conformanceSkips
// (graph/conformance_test.go). One builder registers every row, and the
// tests fail for a row without a test case.
//
// Engine choices (Options: Winograd or direct convolutions, the GEMM
// micro-kernel, the fusions) are part of a plan's Spec; none is a package
// variable. A Builder returns a Built: output shapes, a Kernel, and
// what the planner needs to know of it (the inputs it cannot
// differentiate, what its backward pass reads, the buffers it keeps from
// Forward for Backward, its scratch memory, its FLOPs). A Kernel keeps no
// buffers: Forward and Backward get them all in a Run, which the planner
// fills in once. Backward kernels add into gradient buffers, which
// Plan.Backward clears when their life starts, so a tensor read by several
// nodes collects the sum of their gradients; a kernel that can set the
// buffer it writes first instead (Built.CanSet, Run.Accumulate) spares
// that clear.
package graph
