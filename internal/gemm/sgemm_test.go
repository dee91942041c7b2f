package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// forEachKernel runs f once per kernel available on this machine.
func forEachKernel(t *testing.T, f func(t *testing.T, kn *Kernel)) {
	for _, kn := range Available() {
		t.Run(kn.Name(), func(t *testing.T) { f(t, kn) })
	}
}

// refGemm is the float64 reference: it returns alpha*op(A)*op(B) + beta*C
// and, per element, the sum of magnitudes bounding the rounding error.
func refGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, mag []float64) {
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s, abs float64
			for p := range k {
				var x, y float32
				if transA {
					x = a[p*lda+i]
				} else {
					x = a[i*lda+p]
				}
				if transB {
					y = b[j*ldb+p]
				} else {
					y = b[p*ldb+j]
				}
				s += float64(x) * float64(y)
				abs += math.Abs(float64(x) * float64(y))
			}
			s *= float64(alpha)
			abs *= math.Abs(float64(alpha))
			if beta != 0 {
				s += float64(beta) * float64(c[i*ldc+j])
				abs += math.Abs(float64(beta) * float64(c[i*ldc+j]))
			}
			want[i*n+j], mag[i*n+j] = s, abs
		}
	}
	return want, mag
}

func randSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func minLen(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

const guard = 17 // elements before and after each C that must stay untouched

func TestSgemm(t *testing.T) {
	// alpha and beta variants, cycled through the cases: beta -0 must
	// behave as 0 (C not read), alpha 0 must only scale C.
	scales := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {0, 0.5}, {1.5, float32(math.Copysign(0, -1))}, {2, -1}}
	forEachKernel(t, func(t *testing.T, kn *Kernel) {
		mr, nr, kc := kn.mr, kn.nr, kn.kc
		// Every remainder of M by mr up to 5, so that the partial-row
		// kernels run too.
		ms := []int{0, 1, 2, mr - 1, mr, mr + 1, 2*mr + 2, 2*mr + 3, 2*mr + 4}
		ns := []int{0, 1, nr - 1, nr, nr + 1, 3*nr + 5}
		ks := []int{0, 1, 7, kc - 1, kc, kc + 1}
		r := rand.New(rand.NewPCG(1, 2))
		i := 0
		check := func(m, n, k int) {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				ab := scales[i%len(scales)]
				checkSgemm(t, kn, r, tr[0], tr[1], m, n, k, ab[0], ab[1], i%3)
				i++
			}
		}
		for _, m := range ms {
			for _, n := range ns {
				for _, k := range ks {
					check(m, n, k)
				}
			}
		}
		// More than one block of A rows (a full-depth block holds mc
		// rows) and of B columns.
		check(kn.mc+1, nr+3, kc)
		check(mr+1, kn.nc+1, 9)
	})
}

// checkSgemm runs one Sgemm with kn and row strides pad elements longer
// than needed.
func checkSgemm(t *testing.T, kn *Kernel, r *rand.Rand, transA, transB bool, m, n, k int, alpha, beta float32, pad int) {
	t.Helper()
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	lda, ldb, ldc := ac+pad, bc+2*pad, n+pad+1
	// Slices have the minimal length, (rows-1)*ld+cols: nothing may be
	// read or written past the last element of a matrix.
	a := randSlice(r, minLen(ar, ac, lda))
	b := randSlice(r, minLen(br, bc, ldb))
	cfull := randSlice(r, 2*guard+minLen(m, n, ldc))
	c := cfull[guard : len(cfull)-guard]
	if beta == 0 {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	orig := append([]float32(nil), cfull...)
	want, mag := refGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

	kn.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

	name := fmt.Sprintf("transA=%v transB=%v m=%d n=%d k=%d alpha=%v beta=%v lda=%d ldb=%d ldc=%d",
		transA, transB, m, n, k, alpha, beta, lda, ldb, ldc)
	for i := range cfull {
		inside := i >= guard && i < len(cfull)-guard && (i-guard)%ldc < n
		if !inside && math.Float32bits(cfull[i]) != math.Float32bits(orig[i]) {
			t.Fatalf("%s: element %d outside C changed from %v to %v", name, i-guard, orig[i], cfull[i])
		}
	}
	for i := range m {
		for j := range n {
			got, w := float64(c[i*ldc+j]), want[i*n+j]
			tol := 1e-5*mag[i*n+j] + 1e-30
			if !(math.Abs(got-w) <= tol) {
				t.Fatalf("%s: C[%d][%d] = %v, want %v (tolerance %v)", name, i, j, got, w, tol)
			}
		}
	}
}

// TestSgemmLarge covers several blocks along every dimension and the
// parallel split along columns and along rows.
func TestSgemmLarge(t *testing.T) {
	forEachKernel(t, func(t *testing.T, kn *Kernel) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}} {
			checkSgemm(t, kn, r, tr[0], tr[1], 64, 1000, 147, 1, 0.5, 1)
		}
		// Two k blocks about kc/2 deep, so A blocks hold about 2*mc rows.
		checkSgemm(t, kn, r, false, false, 2*kn.mc+kn.mr+1, kn.nc+kn.nr-1, kn.kc+5, 1, 0, 2)
		checkSgemm(t, kn, r, true, false, 2*kn.mc+kn.mr+1, kn.nc+kn.nr-1, kn.kc+5, -1, 1, 0)
		// Few column tiles: split by rows (see TestPlan).
		checkSgemm(t, kn, r, false, false, 20*kn.mr+1, 2*kn.nr+3, 8000, 1, 0, 0)
	})
}

func TestSgemmNoAllocs(t *testing.T) {
	forEachKernel(t, func(t *testing.T, kn *Kernel) {
		m, n, k := 96, 2048, 300
		r := rand.New(rand.NewPCG(5, 6))
		a, b, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		run := func() { kn.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) }
		run() // warm up the workspace pool
		if allocs := testing.AllocsPerRun(20, run); allocs != 0 {
			t.Errorf("Sgemm allocated %v times per call, want 0", allocs)
		}
	})
}

func TestPlan(t *testing.T) {
	forEachKernel(t, func(t *testing.T, kn *Kernel) {
		for _, c := range []struct {
			m, n, k int
			byRows  bool
		}{
			{64, 12544, 147, false},
			{20*kn.mr + 1, 2*kn.nr + 3, 8000, true},
		} {
			j := job{problem: problem{m: c.m, n: c.n, k: c.k}, kern: kn}
			j.plan(2)
			if j.byRows != c.byRows || j.chunks < 2 || j.chunks > j.tiles {
				t.Errorf("m=%d n=%d k=%d: byRows=%v chunks=%d tiles=%d, want byRows=%v and 2..tiles chunks",
					c.m, c.n, c.k, j.byRows, j.chunks, j.tiles, c.byRows)
			}
		}
		// A square costs the same packing split either way, so the plan
		// must split the dimension whose partial tiles leave the slowest
		// worker less to compute: columns for avx2 (1024 is 64 tiles of
		// 16, 171 of 6 overrun it), rows for avx512 (128 tiles of 8; 22
		// of 48 overrun it: split by columns, the product took 1.15-1.2x
		// as long on an Ice Lake, fastest of 41 runs).
		const side = 1024
		j := job{problem: problem{m: side, n: side, k: side}, kern: kn}
		j.plan(2)
		slowest := func(w int) int { return ((side+w-1)/w + 1) / 2 * w }
		rows, cols := slowest(kn.mr), slowest(kn.nr)
		if j.byRows && rows > cols || !j.byRows && cols > rows || j.chunks < 2 || j.chunks > j.tiles {
			t.Errorf("%d^3: byRows=%v chunks=%d tiles=%d; the slowest worker computes %d padded rows split by rows, %d columns split by columns",
				side, j.byRows, j.chunks, j.tiles, rows, cols)
		}
	})
}

// TestSgemmNested calls Sgemm from inside parallel.For, as a layer running
// batch items in parallel would.
func TestSgemmNested(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	n := &nestedTask{a: randSlice(r, 100*300), b: randSlice(r, 300*400)}
	n.c = make([][]float32, 4)
	for i := range n.c {
		n.c[i] = make([]float32, 100*400)
	}
	parallel.For(len(n.c), 1, n)
	for i := 1; i < len(n.c); i++ {
		for j := range n.c[i] {
			if n.c[i][j] != n.c[0][j] {
				t.Fatalf("call %d differs from call 0 at %d: %v != %v", i, j, n.c[i][j], n.c[0][j])
			}
		}
	}
}

type nestedTask struct {
	a, b []float32
	c    [][]float32
}

func (n *nestedTask) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		Sgemm(false, false, 100, 400, 300, 1, n.a, 300, n.b, 400, 0, n.c[i], 400)
	}
}

// TestKernelTable checks the invariants the driver and the assembly rely on.
func TestKernelTable(t *testing.T) {
	for _, kn := range kernels {
		if kn.mc%kn.mr != 0 || kn.nc%kn.nr != 0 || kn.kc <= 0 {
			t.Errorf("%s: mc=%d must be a multiple of mr=%d, nc=%d of nr=%d, kc=%d positive",
				kn.name, kn.mc, kn.mr, kn.nc, kn.nr, kn.kc)
		}
		if kn.name != "generic" && kn.nr%8 != 0 {
			t.Errorf("%s: copyPanelsAVX2 needs nr=%d to be a multiple of 8", kn.name, kn.nr)
		}
	}
	if last := kernels[len(kernels)-1]; last.name != "generic" {
		t.Errorf("last kernel is %q, want generic", last.name)
	}
}

// TestLookup checks that the kernels are found by name, the default
// first, and that the package-level functions use the default.
func TestLookup(t *testing.T) {
	if _, err := Lookup("no-such-kernel"); err == nil {
		t.Error("Lookup accepted an unknown name")
	}
	for i, name := range Kernels() {
		kn, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if kn.Name() != name || kn != Available()[i] {
			t.Errorf("Lookup(%q) = %q, want Available()[%d]", name, kn.Name(), i)
		}
	}
	if Default() != Available()[0] || KernelName() != Default().Name() || (*Kernel)(nil).Name() != KernelName() {
		t.Errorf("Default() is %q, KernelName() %q, the fastest available %q", Default().Name(), KernelName(), Available()[0].Name())
	}
	if pa := Pack(false, 3, 2, 1, make([]float32, 6), 2); pa.Kernel() != Default() {
		t.Errorf("Pack packed for %q, want the default %q", pa.Kernel().Name(), Default().Name())
	}
}
