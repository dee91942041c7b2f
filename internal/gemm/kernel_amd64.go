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

// Block sizes target 48 KiB of L1d and 1-1.25 MiB of L2 per core (Zen
// 4/5, Ice Lake): a kc x nr panel of B fills at most three quarters of L1
// (avx2: 384*16*4 = 24 KiB, avx512: 192*48*4 = 36 KiB) and an mc x kc
// block of A under a third of L2. The avx2 sizes were measured on Zen 5
// (kc 192..512, mc 120..510, nc 128..512 were within the noise of a shared
// machine). The avx512 ones were measured on Ice Lake, one core, the
// fastest of 21-31 interleaved runs: kc 192 ran the 1x1 products of
// inception_3a (K = 192 forward, 176 backward) in 0.85-0.88x the time of
// kc 160, which splits them into two blocks, and the other GoogLeNet
// products within 3%; kc 256..384 did the same as 192 (the panel then
// outgrows L1); mc 960 and nc 192 within 2% of mc 480 and nc 384, mc 240
// up to 6% slower (224x224's 1x1 products), nc 768 and 1536 up to 7%
// (1024x768's).
var (
	avx512Kernel = Kernel{
		name: "avx512", mr: 8, nr: 48, kc: 192, mc: 480, nc: 384,
		fn: kernelAVX512, copyB: copyPanelsAVX2, // AVX-512F CPUs have AVX2
	}
	avx2Kernel = Kernel{
		name: "avx2", mr: 6, nr: 16, kc: 384, mc: 288, nc: 128,
		fn: kernelAVX2, copyB: copyPanelsAVX2,
		rows: rowKernels{2: kernelAVX2R2, 4: kernelAVX2R4},
	}
)

// geometries returns every kernel this build defines, runnable here or not
// (see Geometry), then the generic one; their packing is the AVX2 copy
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
