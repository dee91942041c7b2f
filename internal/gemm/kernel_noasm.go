//go:build !amd64 || purego

package gemm

func asmKernels() []*kernel { return nil }

// geometries returns every kernel this build defines: the generic one.
func geometries() []*kernel { return kernels[len(kernels)-1:] }
