package graph

import (
	"math/rand/v2"
	"testing"
)

// TestPlaceSpans places random spans, some with two lives like a
// kernel's scratch, and checks that spans whose lives overlap get memory
// that does not.
func TestPlaceSpans(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for round := range 200 {
		spans := make([]*span, 1+rng.IntN(40))
		bufs := make([][]float32, len(spans))
		for i := range spans {
			from := rng.IntN(30)
			lives := [][2]int{{from, from + rng.IntN(10)}}
			if rng.IntN(4) == 0 {
				later := lives[0][1] + 1 + rng.IntN(10)
				lives = append(lives, [2]int{later, later})
			}
			spans[i] = &span{size: rng.IntN(100), lives: lives, set: func(b []float32) { bufs[i] = b }}
		}
		p := &Plan{}
		p.placeSpans(spans)
		for i, a := range spans {
			if len(bufs[i]) != a.size {
				t.Fatalf("round %d: span %d of %d floats got %d", round, i, a.size, len(bufs[i]))
			}
			for j, b := range spans[:i] {
				if a.size == 0 || b.size == 0 || !a.overlaps(b) {
					continue
				}
				if a.off < b.off+b.size && b.off < a.off+a.size {
					t.Fatalf("round %d: spans %d %v at %d+%d and %d %v at %d+%d live at the same time in the same memory",
						round, i, a.lives, a.off, a.size, j, b.lives, b.off, b.size)
				}
			}
		}
	}
}
