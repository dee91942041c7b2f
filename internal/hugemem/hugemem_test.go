package hugemem

import "testing"

// TestFloats checks that Floats gives zeroed, writable buffers of the
// length asked for, below, at and above the size from which it advises,
// whatever their alignment.
func TestFloats(t *testing.T) {
	for _, n := range []int{0, 1, 1000, minBytes/4 - 1, minBytes / 4, minBytes/4 + 3, 3*minBytes/4 + 5} {
		f := Floats(n)
		if len(f) != n {
			t.Fatalf("Floats(%d) has length %d", n, len(f))
		}
		for i := range f {
			if f[i] != 0 {
				t.Fatalf("Floats(%d)[%d] = %v, want 0", n, i, f[i])
			}
			f[i] = float32(i)
		}
		for i := range f {
			if f[i] != float32(i) {
				t.Fatalf("Floats(%d)[%d] = %v after writing %d", n, i, f[i], i)
			}
		}
	}
}
