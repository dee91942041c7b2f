//go:build !amd64 || purego

package gemm

func asmKernels() []*Kernel { return nil }

// geometries returns every kernel this build defines: the generic one.
func geometries() []*Kernel { return kernels[len(kernels)-1:] }
