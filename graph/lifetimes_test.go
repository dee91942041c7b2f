package graph

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/deepdream-go/deepdream/internal/shared"
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

// TestPlanNeedsNoZeroedMemory runs plans whose lent memory holds NaN
// before their first step: every value, saved buffer and gradient must
// be written (or cleared) before it is read, as the arena hands the
// memory of one buffer to the next without clearing it. They must give
// what plans with fresh memory give, bit for bit.
func TestPlanNeedsNoZeroedMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	siblings, err := Load(siblingsModel(rng))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		m      *Model
		input  string
		shape  Shape
		target string
	}{{siblings, "x", Shape{1, 4, 23, 17}, "s"}}
	if !testing.Short() {
		googlenet, err := Open(shared.GoogLeNet(t))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			m      *Model
			input  string
			shape  Shape
			target string
		}{googlenet, "data_0", Shape{1, 3, 96, 128}, "inception_4c/output_1"})
	}
	for _, c := range cases {
		run := func(mem *Memory) (y, dx []float32) {
			p, err := c.m.Plan(Spec{
				Inputs:   []InputSpec{{Name: c.input, Shape: c.shape, Grad: true}},
				Targets:  []string{c.target},
				Backward: true,
				Memory:   mem,
			})
			if err != nil {
				t.Fatal(err)
			}
			if mem != nil {
				for _, ch := range mem.chunks {
					for i := range ch.buf {
						ch.buf[i] = float32(math.NaN())
					}
				}
			}
			x := p.Data(c.input)
			for i := range x {
				x[i] = float32(i%29)*0.7 - 9
			}
			ctx := context.Background()
			for range 2 { // the second step reads what the first left
				if err := p.Forward(ctx); err != nil {
					t.Fatal(err)
				}
				y = slices.Clone(p.Data(c.target))
				copy(p.Grad(c.target), y)
				if err := p.Backward(ctx); err != nil {
					t.Fatal(err)
				}
			}
			return y, slices.Clone(p.Grad(c.input))
		}
		wantY, wantDx := run(nil)
		gotY, gotDx := run(&Memory{})
		if !slices.Equal(gotY, wantY) || !slices.Equal(gotDx, wantDx) {
			t.Errorf("%s: a plan in memory full of NaN differs from one in fresh memory", c.target)
		}
	}
}
