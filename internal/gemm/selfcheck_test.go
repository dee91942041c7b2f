package gemm

import (
	"strings"
	"testing"
)

// TestSelfCheckPassesTheKernels fails if an assembly kernel this CPU
// supports was rejected, and checks the generic kernel too, which
// checkedKernels keeps unchecked.
func TestSelfCheckPassesTheKernels(t *testing.T) {
	if len(rejected) > 0 {
		t.Errorf("kernels rejected on this machine: %v", rejected)
	}
	for _, kn := range kernels {
		if err := selfCheck(kn); err != nil {
			t.Error(err)
		}
	}
}

// TestSelfCheckFindsFaults breaks the generic kernel in the ways assembly
// can go wrong, and checks that selfCheck rejects each and says where.
func TestSelfCheckFindsFaults(t *testing.T) {
	generic := kernels[len(kernels)-1]
	faults := []struct {
		name string
		fn   kernelFunc
		rows kernelFunc // as rows[2], if set
		want string
	}{
		{"one value off", func(k int, a, b, c []float32, ldc int, beta float32) {
			kernelGeneric(k, a, b, c, ldc, beta)
			c[2*ldc+3]++
		}, nil, "row 2, column 3"},
		{"a write past the tile", func(k int, a, b, c []float32, ldc int, beta float32) {
			kernelGeneric(k, a, b, c, ldc, beta)
			c[4] = 0
		}, nil, "row 0, column 4"},
		{"beta ignored", func(k int, a, b, c []float32, ldc int, _ float32) {
			kernelGeneric(k, a, b, c, ldc, 0)
		}, nil, "beta 2"},
		{"a partial-row kernel writing a row too many", kernelGeneric, func(k int, a, b, c []float32, ldc int, beta float32) {
			kernelGeneric(k, a, b, c, ldc, beta) // all 4 rows
		}, "2 of 4 rows"},
	}
	for _, f := range faults {
		kn := *generic
		kn.name, kn.fn = "broken", f.fn
		if f.rows != nil {
			kn.rows[2] = f.rows
		}
		err := selfCheck(&kn)
		if err == nil || !strings.Contains(err.Error(), f.want) || !strings.Contains(err.Error(), "broken") {
			t.Errorf("%s: selfCheck said %v, want an error naming the kernel and %q", f.name, err, f.want)
		}
		ks, rej := checkedKernels([]*Kernel{&kn}, generic)
		if len(ks) != 1 || ks[0] != generic || len(rej) != 1 {
			t.Errorf("%s: checkedKernels kept %d kernels, rejected %v", f.name, len(ks), rej)
		}
	}
}
