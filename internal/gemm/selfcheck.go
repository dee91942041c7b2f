package gemm

import "fmt"

// selfCheck runs kn's kernel, and each of its partial-row variants, on one
// tile of small integers (every product and sum exact in float32) with
// beta 0 and with beta 2, and returns an error naming the first value that
// differs from kernelFunc's definition, or that it wrote outside the tile.
//
// Sgemm uses only kernels that pass. It guards assembly that the project's
// CI may never run: the avx512 kernel is tested only on machines that have
// AVX-512, which CI's may lack. It costs microseconds, once.
func selfCheck(kn *Kernel) error {
	const k, pad = 7, 3
	mr, nr := kn.mr, kn.nr
	ldc := nr + pad
	a := make([]float32, k*mr)
	for i := range a {
		a[i] = float32(i%7 - 3)
	}
	b := make([]float32, k*nr)
	for i := range b {
		b[i] = float32(i%5 - 2)
	}
	c := make([]float32, mr*ldc)
	for m := mr; m > 0; m-- {
		fn := kn.fn
		if m < mr {
			if fn = kn.rows[m]; fn == nil {
				continue
			}
		}
		for _, beta := range []float32{0, 2} {
			for i := range c {
				c[i] = float32(1000 + i) // outside the tile: must stay
			}
			fn(k, a, b, c, ldc, beta)
			for i, got := range c {
				row, col := i/ldc, i%ldc
				want := float32(1000 + i)
				if row < m && col < nr {
					acc := float32(0)
					for p := range k {
						acc += a[p*mr+row] * b[p*nr+col]
					}
					want = beta*want + acc
				}
				if got != want {
					return fmt.Errorf("gemm: kernel %s (%d of %d rows, beta %v) gave %v at row %d, column %d of its %dx%d tile (ldc %d), want %v",
						kn.name, m, mr, beta, got, row, col, mr, nr, ldc, want)
				}
			}
		}
	}
	return nil
}

// checkedKernels returns the kernels of asm that pass selfCheck, then
// generic; and the errors of those that do not.
func checkedKernels(asm []*Kernel, generic *Kernel) (ks []*Kernel, rejected []error) {
	for _, kn := range asm {
		if err := selfCheck(kn); err != nil {
			rejected = append(rejected, err)
			continue
		}
		ks = append(ks, kn)
	}
	return append(ks, generic), rejected
}
