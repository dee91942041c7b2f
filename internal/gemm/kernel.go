package gemm

import (
	"fmt"
	"strings"
)

// A kernelFunc computes one mr x nr tile of C from packed panels:
//
//	acc[i][j] = sum_{p<k} a[p*mr+i] * b[p*nr+j]
//	c[i*ldc+j] = acc[i][j]                  if beta == 0 (c is not read)
//	c[i*ldc+j] = beta*c[i*ldc+j] + acc[i][j] otherwise
//
// a holds k*mr and b holds k*nr values; c must hold (mr-1)*ldc+nr values.
// The driver guarantees these lengths, and passes beta == 0 as +0 so
// assembly can test its bits; assembly kernels do not check lengths.
type kernelFunc func(k int, a, b, c []float32, ldc int, beta float32)

// A Kernel is a micro-kernel with the tile, block sizes and packing
// layout tuned for it. Its methods compute products with it; a nil
// *Kernel means Default(). Kernels are made by this package (Default,
// Lookup, Available, Geometry) and never change.
type Kernel struct {
	name   string
	mr, nr int // register tile
	kc     int // depth of a packed panel: kc*nr floats of B stay in L1
	mc     int // rows of a kc-deep packed A block, kept in L2 (multiple of mr; see maxBlockRows)
	nc     int // columns of B packed at a time, kept in L2 (multiple of nr)
	fn     kernelFunc
	copyB  copyFunc
	// rows[m], where set, computes only the first m rows of the tile (C
	// holding (m-1)*ldc+nr values): the last rows of C when M is not a
	// multiple of mr, without a whole tile and a copy (edgeTile).
	rows rowKernels
}

// rowKernels are a kernel's partial-row variants, by row count.
type rowKernels [8]kernelFunc

// A copyFunc copies one row of a block of B into its panels: for each
// j < panels, src[j*nr : j*nr+nr] goes to dst[j*ps : j*ps+nr]. It may
// prefetch pf[:panels*nr], a row that will be copied soon.
type copyFunc func(dst, src, pf []float32, panels, nr, ps int)

// kernels lists the kernels this machine can run, fastest first: the
// assembly ones its CPU supports that pass selfCheck, then the generic
// kernel. rejected holds why the others failed.
var kernels, rejected = checkedKernels(asmKernels(), &Kernel{
	name: "generic", mr: 4, nr: 4, kc: 256, mc: 512, nc: 256, fn: kernelGeneric, copyB: copyPanelsGeneric,
})

// addScalar adds a layer's bias to a row of C: addScalarGo, or its
// assembly twin where the CPU has AVX (kernel_amd64.go).
var addScalar = addScalarGo

// Default returns the kernel the package-level functions use: the fastest
// this machine runs.
func Default() *Kernel { return kernels[0] }

// Available returns the kernels this machine runs, fastest first: a
// subset of "avx512", "avx2" and "generic", which is always last.
func Available() []*Kernel { return append([]*Kernel(nil), kernels...) }

// Lookup returns the available kernel of that name.
func Lookup(name string) (*Kernel, error) {
	for _, k := range kernels {
		if k.name == name {
			return k, nil
		}
	}
	return nil, fmt.Errorf("gemm: kernel %q not available (have %s)", name, strings.Join(Kernels(), ", "))
}

// or returns k, or the default kernel if k is nil.
func (k *Kernel) or() *Kernel {
	if k == nil {
		return Default()
	}
	return k
}

// Name returns the kernel's name ("avx512", "avx2", "generic", or a
// Geometry's name).
func (k *Kernel) Name() string { return k.or().name }

// Tile returns the kernel's register tile: mr rows by nr columns of C.
func (k *Kernel) Tile() (mr, nr int) {
	k = k.or()
	return k.mr, k.nr
}

// Kernels returns the names of the micro-kernels available on this machine,
// fastest first: a subset of "avx512", "avx2" and "generic".
func Kernels() []string {
	names := make([]string, len(kernels))
	for i, k := range kernels {
		names[i] = k.name
	}
	return names
}

// Rejected returns why each assembly kernel this CPU supports but whose
// self-check failed is not used: a fault of this program, to report.
func Rejected() []error { return rejected }

// KernelName returns the name of the default kernel.
func KernelName() string { return Default().name }
