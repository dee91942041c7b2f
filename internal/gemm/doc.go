// Package gemm implements single-precision matrix multiplication (SGEMM),
// the engine behind convolutions (im2col) and fully connected layers.
//
// # Layout
//
// All matrices are row-major: element (i, j) of a matrix with row stride ld
// is x[i*ld+j], and ld may exceed the row length, so a column tile of a
// wider matrix can be passed without copying. op(X) is X or its transpose;
// a transposed operand is stored in its untransposed shape, so with transA
// A is stored k x m with row stride lda.
//
// # Aliasing
//
// C must not overlap A or B. A and B may overlap each other; neither is
// written. With beta == 0, C is write-only and may hold NaN or Inf.
// Elements of C's slice outside the m x n matrix (the gaps between rows when
// ldc > n) are never read or written.
//
// # Algorithm and threading
//
// Sgemm follows Goto/BLIS. For each kc-deep slice of the product, an
// mc x kc block of op(A) is packed (scaled by alpha) and kept in L2, then
// op(B) is packed kc x nc at a time, just before use, and a micro-kernel
// computes mr x nr tiles of C in registers, reusing one kc x nr panel of B
// from L1 across the whole block of A. Partial tiles at the edges of C are
// computed into a scratch tile and then merged, so no element outside the
// m x n matrix is touched; a kernel may have variants for a tile's first
// rows only (avx2: 4 and 2), which write full-width partial tiles in place. Packing buffers are recycled through a free list
// that survives garbage collections, so Sgemm does not allocate in steady
// state.
//
// SgemmLayer computes a layer's output: the product plus a bias per row of
// C, then the caller's epilogue (a fused ReLU) on each row of each block,
// the bias and the epilogue applied to a block just after the kernel
// completes it, while it is in cache.
//
// A matrix multiplied many times (a layer's constant weights) can be packed
// once with Pack; SgemmPacked then skips packing A. A Packed matrix keeps
// the micro-kernel it was packed for (Packed.Kernel), which its products
// use.
//
// Sgemm splits C into chunks of whole register tiles along n (columns) or m
// (rows), whichever divides more evenly among the workers, and runs them
// with parallel.For. Every chunk packs its own blocks, so chunks are
// independent and Sgemm may be called from several goroutines at once,
// including from inside another parallel.For.
//
// # Kernels
//
// A Kernel is a micro-kernel with its tile, block sizes and packing
// layout. At init the kernels the CPU supports are listed with
// golang.org/x/sys/cpu, fastest first (Available): "avx512" (AVX-512F, 8x48
// tiles in ZMM registers), "avx2" (AVX2 and FMA, 6x16 tiles in YMM
// registers) and the portable "generic" Go kernel (4x4). The build tag
// purego, or any architecture other than amd64, leaves only "generic".
// Before an assembly kernel is listed, it computes one tile of small
// integers, which must come out exact (selfCheck): a kernel that fails is
// left out, and Rejected says why.
//
// The kernel is chosen per call, not by switching a package variable: the Kernel
// methods (Sgemm, SgemmLayer, Pack) compute with their receiver, nil
// meaning Default, the fastest available; the package-level functions are
// the methods of Default. Lookup finds a kernel by name, and Geometry makes
// a portable Go kernel with another kernel's tile, blocks and packing, so
// that code built on gemm can test its layouts for a kernel this CPU
// lacks (ops' Winograd tests pack for Geometry("avx512") through
// ConvParams.Kernel).
//
// Every assembly routine (kernel_amd64.s) has a pure-Go twin with the same
// signature (kernel_generic.go), and one table test runs Sgemm with every
// kernel available on the machine.
package gemm
