package gemm

import (
	"fmt"
)

// Geometry returns a portable Go kernel with the tile (mr x nr), block
// sizes and packing layout of the named kernel ("avx512", "avx2" or
// "generic"), whether or not this CPU can run that kernel, so that
// packages built on gemm can test their own layouts for it (ops writes B
// panels itself for Winograd). Its results round as a plain loop does,
// not as the named kernel. For tests.
func Geometry(name string) (*Kernel, error) {
	for _, k := range geometries() {
		if k.name != name {
			continue
		}
		kn := *k
		kn.name = name + "-geometry"
		kn.fn, kn.rows = tileKernel(kn.mr, kn.nr), rowKernels{}
		return &kn, nil
	}
	return nil, fmt.Errorf("gemm: no kernel geometry %q in this build", name)
}

// tileKernel is a plain-loop kernel for any mr x nr tile.
func tileKernel(mr, nr int) kernelFunc {
	return func(k int, a, b, c []float32, ldc int, beta float32) {
		for i := range mr {
			for j := range nr {
				var acc float32
				for p := range k {
					acc += a[p*mr+i] * b[p*nr+j]
				}
				if beta != 0 {
					acc += beta * c[i*ldc+j]
				}
				c[i*ldc+j] = acc
			}
		}
	}
}
