//go:build !purego

package gemm

import "golang.org/x/sys/cpu"

//go:noescape
func kernelAVX512(k int, a []float32, b []float32, c []float32, ldc int, beta float32)

//go:noescape
func kernelAVX2(k int, a []float32, b []float32, c []float32, ldc int, beta float32)

//go:noescape
func copyPanelsAVX2(dst []float32, src []float32, pf []float32, panels int, nr int, ps int)

// asmKernels returns the assembly kernels this CPU supports, fastest first.
//
// Block sizes target Zen 4/5 (48 KiB L1d, 1 MiB L2 per core): a kc x nr
// panel of B fills at most two thirds of L1 (avx2: 384*16*4 = 24 KiB,
// avx512: 160*48*4 = 30 KiB) and an mc x kc block of A about a third of L2.
// The avx2 sizes were measured (kc 192..512, mc 120..510, nc 256..512 were
// within noise of each other); the avx512 ones follow the same rules.
func asmKernels() []*kernel {
	var ks []*kernel
	// copyPanelsAVX2 packs for the AVX-512 kernel too.
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX2 {
		ks = append(ks, &kernel{
			name: "avx512", mr: 8, nr: 48, kc: 160, mc: 240, nc: 384,
			fn: kernelAVX512, copyB: copyPanelsAVX2,
		})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, &kernel{
			name: "avx2", mr: 6, nr: 16, kc: 384, mc: 288, nc: 128,
			fn: kernelAVX2, copyB: copyPanelsAVX2,
		})
	}
	return ks
}
