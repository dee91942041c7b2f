package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmPacked checks, for every kernel, that a product with A packed
// once gives the same bits as Sgemm packing A itself, for shapes with
// partial tiles and several depth blocks, both layouts of A, and alpha and
// beta variants, and that it writes nothing outside C.
func TestSgemmPacked(t *testing.T) { forEachKernel(t, checkSgemmPacked) }

// checkSgemmPacked is TestSgemmPacked with the kernel kn.
func checkSgemmPacked(t *testing.T, kn *Kernel) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, s := range [][3]int{{1, 1, 1}, {7, 5, 3}, {kn.mr + 1, kn.nr*3 + 1, kn.kc + 1}, {64, 700, 2*kn.kc + 5}, {192, 230, 64}, {13, 2048, 9}, {1500, 64, 100}} {
		m, n, k := s[0], s[1], s[2]
		for _, transA := range []bool{false, true} {
			for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}} {
				alpha, beta := ab[0], ab[1]
				t.Run(fmt.Sprintf("%dx%dx%d/transA=%v/alpha=%v/beta=%v", m, n, k, transA, alpha, beta), func(t *testing.T) {
					lda := k + 3
					if transA {
						lda = m + 3
					}
					a := randSlice(r, max(m, k)*lda)
					ldb, ldc := n+1, n+2
					b := randSlice(r, k*ldb)
					c0 := randSlice(r, guard+m*ldc+guard)
					want := append([]float32(nil), c0...)
					kn.Sgemm(transA, false, m, n, k, alpha, a, lda, b, ldb, beta, want[guard:], ldc)
					pa := kn.Pack(transA, m, k, alpha, a, lda)
					if pa.Rows() != m || pa.Cols() != k {
						t.Fatalf("packed %dx%d, want %dx%d", pa.Rows(), pa.Cols(), m, k)
					}
					if size := kn.PackedSize(m, k); size != len(pa.data) {
						t.Fatalf("PackedSize is %d floats, Pack kept %d", size, len(pa.data))
					}
					got := append([]float32(nil), c0...)
					SgemmPacked(pa, n, b, ldb, beta, got[guard:], ldc)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("element %d (C starts at %d, row stride %d): %v, Sgemm gives %v", i, guard, ldc, got[i], want[i])
						}
					}
				})
			}
		}
	}
}

// TestSgemmPackedKeepsItsKernel checks that a matrix packed by a kernel
// other than the default is multiplied by that kernel, whatever the
// default.
func TestSgemmPackedKeepsItsKernel(t *testing.T) {
	ks := Available()
	if len(ks) < 2 {
		t.Skip("only one kernel on this machine")
	}
	kn := ks[len(ks)-1]
	r := rand.New(rand.NewPCG(9, 10))
	m, n, k := 37, 45, 29
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	want := make([]float32, m*n)
	kn.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
	pa := kn.Pack(false, m, k, 1, a, k)
	if pa.Kernel() != kn {
		t.Fatalf("packed for %q, want %q", pa.Kernel().Name(), kn.Name())
	}
	got := make([]float32, m*n)
	SgemmPacked(pa, n, b, n, 0, got, n)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("element %d: %v with the default kernel %s, want %s's %v", i, got[i], Default().Name(), kn.Name(), want[i])
		}
	}
}

// TestSgemmLayer checks, for every kernel, that SgemmLayer and
// SgemmPackedLayer give the bits
// of Sgemm with beta 1 on a C holding the bias (or beta 0 without), then
// max(C, 0) if relu, without reading C (it starts as NaN) or writing
// outside it.
func TestSgemmLayer(t *testing.T) { forEachKernel(t, checkSgemmLayer) }

// checkSgemmLayer is TestSgemmLayer with the kernel kn.
func checkSgemmLayer(t *testing.T, kn *Kernel) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, s := range [][3]int{{1, 1, 1}, {7, 5, 3}, {kn.mr + 1, kn.nr*3 + 1, kn.kc + 1}, {64, 700, 147}, {1500, 64, 100}, {5, 9, 0}} {
		m, n, k := s[0], s[1], s[2]
		for v := range 8 {
			transA, relu, noBias := v&1 != 0, v&2 != 0, v&4 != 0
			lda := k + 3
			if transA {
				lda = m + 3
			}
			a := randSlice(r, max(m, k)*lda+1)
			ldb, ldc := n+1, n+2
			b, bias := randSlice(r, k*ldb+1), randSlice(r, m)
			want := randSlice(r, guard+m*ldc+guard)
			got := append([]float32(nil), want...)
			for i := range m {
				for j := range n {
					got[guard+i*ldc+j] = float32(math.NaN())
				}
			}
			if noBias {
				bias = nil
			}
			// The product, then the bias added to it (one rounding
			// each), then the epilogue.
			kn.Sgemm(transA, false, m, n, k, 0.5, a, lda, b, ldb, 0, want[guard:], ldc)
			for i := range bias {
				for j := range n {
					want[guard+i*ldc+j] += bias[i]
				}
			}
			if relu {
				for i := range m {
					for j := range n {
						want[guard+i*ldc+j] = max(want[guard+i*ldc+j], 0)
					}
				}
			}
			packed := append([]float32(nil), got...)
			var epilogue func([]float32)
			if relu {
				epilogue = reluRow
			}
			kn.SgemmLayer(transA, false, m, n, k, 0.5, a, lda, b, ldb, bias, got[guard:], ldc, epilogue)
			SgemmPackedLayer(kn.Pack(transA, m, k, 0.5, a, lda), n, b, ldb, bias, packed[guard:], ldc, epilogue)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%dx%dx%d transA=%v relu=%v bias=%v: element %d (C starts at %d, row stride %d): %v, want %v", m, n, k, transA, relu, !noBias, i, guard, ldc, got[i], want[i])
				}
				if math.Float32bits(packed[i]) != math.Float32bits(want[i]) {
					t.Fatalf("packed %dx%dx%d transA=%v relu=%v bias=%v: element %d (C starts at %d, row stride %d): %v, want %v", m, n, k, transA, relu, !noBias, i, guard, ldc, packed[i], want[i])
				}
			}
		}
	}
}

// reluRow is the epilogue TestSgemmLayer passes: max(v, 0).
func reluRow(row []float32) {
	for i, v := range row {
		row[i] = max(v, 0)
	}
}

// TestMulPanels checks, for every kernel, that a product with B given in
// panels gives the same bits as SgemmPacked, for partial tiles in both
// dimensions and several depth blocks, writes nothing outside C, and does
// not read C (NaN there).
func TestMulPanels(t *testing.T) { forEachKernel(t, checkMulPanels) }

// checkMulPanels is TestMulPanels with the kernel kn.
func checkMulPanels(t *testing.T, kn *Kernel) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, s := range [][3]int{{1, 1, 1}, {7, 5, 3}, {kn.mr + 1, kn.nr*3 + 1, kn.kc + 1}, {192, 16, 64}, {64, 2 * kn.nr, 2*kn.kc + 5}, {13, kn.nr - 1, 9}} {
		m, n, k := s[0], s[1], s[2]
		t.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(t *testing.T) {
			a, b := randSlice(r, m*k), randSlice(r, k*n)
			ldc := n + 2
			pa := kn.Pack(false, m, k, 1, a, k)
			want := make([]float32, guard+m*ldc+guard)
			for i := range want {
				want[i] = float32(math.NaN())
			}
			got := append([]float32(nil), want...)
			SgemmPacked(pa, n, b, n, 0, want[guard:], ldc)
			nr := pa.PanelWidth()
			if nr != kn.nr {
				t.Fatalf("PanelWidth %d, the kernel's nr is %d", nr, kn.nr)
			}
			panels := make([]float32, (n+nr-1)/nr*k*nr)
			for j := range n {
				for p := range k {
					panels[j/nr*k*nr+p*nr+j%nr] = b[p*n+j]
				}
			}
			var tile []float32
			if n%2 == 0 {
				tile = make([]float32, TileSize()) // else taken from the pool
			}
			pa.MulPanels(panels, n, got[guard:], ldc, tile)
			sameBits(t, "MulPanels", got, want, ldc)
			// The same product in row parts, as cores sharing it make it,
			// the parts done out of order.
			mr := pa.RowAlign()
			if mr != kn.mr {
				t.Fatalf("RowAlign %d, the kernel's mr is %d", mr, kn.mr)
			}
			for _, part := range []int{mr, 2 * mr, 3 * mr} {
				rows := append([]float32(nil), got...)
				for i := range rows[guard : guard+m*ldc] {
					rows[guard+i] = float32(math.NaN())
				}
				for r0 := (m - 1) / part * part; r0 >= 0; r0 -= part {
					pa.MulPanelsRows(panels, n, rows[guard:], ldc, tile, r0, min(r0+part, m))
				}
				pa.MulPanelsRows(panels, n, rows[guard:], ldc, tile, m, m) // empty
				sameBits(t, fmt.Sprintf("MulPanelsRows in parts of %d rows", part), rows, want, ldc)
			}
		})
	}
}

// sameBits fails t unless got and want (C at guard, row stride ldc, NaN
// around it) have the same bits.
func sameBits(t *testing.T, what string, got, want []float32, ldc int) {
	t.Helper()
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			t.Fatalf("%s: element %d (C starts at %d, row stride %d): %v, SgemmPacked gives %v", what, i, guard, ldc, got[i], want[i])
		}
	}
}
