//go:build !purego

package gemm

import "golang.org/x/sys/cpu"

//go:noescape
func kernelAVX512(k int, a []float32, b []float32, c []float32, ldc int, beta float32)

//go:noescape
func kernelAVX2(k int, a []float32, b []float32, c []float32, ldc int, beta float32)

// kernelAVX2R4 and kernelAVX2R2 compute only the first 4 or 2 rows of
// kernelAVX2's tile: c must hold 3*ldc+16 or ldc+16 values.
//
//go:noescape
func kernelAVX2R4(k int, a []float32, b []float32, c []float32, ldc int, beta float32)

//go:noescape
func kernelAVX2R2(k int, a []float32, b []float32, c []float32, ldc int, beta float32)

//go:noescape
func addScalarAVX(x []float32, s float32)

func init() {
	if cpu.X86.HasAVX {
		addScalar = addScalarAVX
	}
}

//go:noescape
func copyPanelsAVX2(dst []float32, src []float32, pf []float32, panels int, nr int, ps int)

// Block sizes target Zen 4/5 (48 KiB L1d, 1 MiB L2 per core): a kc x nr
// panel of B fills at most two thirds of L1 (avx2: 384*16*4 = 24 KiB,
// avx512: 160*48*4 = 30 KiB) and an mc x kc block of A under half of L2.
// The avx2 sizes were measured (kc 192..512, mc 120..510, nc 128..512 were
// within the noise of a shared machine); the avx512 ones follow the same
// rules, unmeasured.
var (
	avx512Kernel = Kernel{
		name: "avx512", mr: 8, nr: 48, kc: 160, mc: 480, nc: 384,
		fn: kernelAVX512, copyB: copyPanelsAVX2, // AVX-512F CPUs have AVX2
	}
	avx2Kernel = Kernel{
		name: "avx2", mr: 6, nr: 16, kc: 384, mc: 288, nc: 128,
		fn: kernelAVX2, copyB: copyPanelsAVX2,
		rows: rowKernels{2: kernelAVX2R2, 4: kernelAVX2R4},
	}
)

// geometries returns every kernel this build defines, runnable here or not
// (see UseGeometry), then the generic one; their packing is the AVX2 copy
// where the CPU has AVX2 (the avx512 kernel's own), else the generic one.
func geometries() []*Kernel {
	var ks []*Kernel
	for _, k := range []Kernel{avx512Kernel, avx2Kernel} {
		if !cpu.X86.HasAVX2 {
			k.copyB = copyPanelsGeneric
		}
		ks = append(ks, &k)
	}
	return append(ks, kernels[len(kernels)-1])
}

// asmKernels returns the assembly kernels this CPU supports, fastest first.
func asmKernels() []*Kernel {
	var ks []*Kernel
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX2 {
		ks = append(ks, &avx512Kernel)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, &avx2Kernel)
	}
	return ks
}
