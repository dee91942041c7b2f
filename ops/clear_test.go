package ops

import "testing"

// TestClear checks that Clear zeroes every element, short and long slices
// (several parallel chunks) alike, and nothing around them.
func TestClear(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 4*elementwiseGrain + 3, 40*elementwiseGrain + 7} {
		buf := make([]float32, n+2)
		for i := range buf {
			buf[i] = float32(i + 1)
		}
		Clear(buf[1 : n+1])
		for i, v := range buf {
			inside := i >= 1 && i <= n
			if inside && v != 0 || !inside && v != float32(i+1) {
				t.Fatalf("n=%d: element %d is %v after Clear", n, i, v)
			}
		}
	}
}
