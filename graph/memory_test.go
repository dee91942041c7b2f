package graph

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// TestMemory plans the siblings model at a large size with a Memory, then
// at a smaller one and at the large one again in the same memory (what a
// dream's octaves do), the memory left dirty with NaN in between: each
// plan gives exactly what a plan with memory of its own gives, and the
// later plans fit in the chunks the first one made.
func TestMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	m, err := Load(siblingsModel(rng))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := func(h, w int, mem *Memory) (s, dx []float32) {
		p, err := m.Plan(Spec{
			Inputs:   []InputSpec{{Name: "x", Shape: Shape{1, 4, h, w}, Grad: true}},
			Targets:  []string{"s"},
			Backward: true,
			Memory:   mem,
		})
		if err != nil {
			t.Fatal(err)
		}
		x := p.Data("x")
		for i := range x {
			x[i] = float32(i%13)*0.1 - 0.6
		}
		if err := p.Forward(ctx); err != nil {
			t.Fatal(err)
		}
		s = slices.Clone(p.Data("s")) // Backward does not keep it
		g := p.Grad("s")
		for i := range g {
			g[i] = float32(i%5) - 2
		}
		if err := p.Backward(ctx); err != nil {
			t.Fatal(err)
		}
		return s, slices.Clone(p.Grad("x"))
	}
	var mem Memory
	dirty := func() {
		mem.Reset()
		for _, c := range mem.chunks {
			for i := range c.buf[:c.dirty] {
				c.buf[i] = float32(math.NaN())
			}
		}
	}
	size := 0
	for i, hw := range [][2]int{{40, 50}, {17, 23}, {40, 50}} {
		h, w := hw[0], hw[1]
		wantS, wantDx := run(h, w, nil)
		gotS, gotDx := run(h, w, &mem)
		if !slices.Equal(gotS, wantS) || !slices.Equal(gotDx, wantDx) {
			t.Fatalf("plan %d (%dx%d) in lent memory differs from one in its own", i, w, h)
		}
		if i == 0 {
			size = mem.Size()
			if size == 0 {
				t.Fatal("the plan borrowed nothing")
			}
		} else if mem.Size() != size {
			t.Fatalf("plan %d (%dx%d) grew the memory from %d to %d floats", i, w, h, size, mem.Size())
		}
		dirty()
	}
}

// TestMemoryLendsZeros checks that Memory lends zeroed floats, also out of
// chunks that earlier loans dirtied, and reuses its chunks after Reset.
func TestMemoryLendsZeros(t *testing.T) {
	var m Memory
	a, b := m.alloc(1000), m.alloc(300)
	for i := range a {
		a[i] = 1
	}
	for i := range b {
		b[i] = 2
	}
	m.Reset()
	for _, n := range []int{700, 250, 300, 60} { // the first three fit in the chunks
		c := m.alloc(n)
		if len(c) != n {
			t.Fatalf("a loan of %d floats has %d", n, len(c))
		}
		if addr := uintptr(unsafe.Pointer(&c[0])); addr%8 != 0 {
			t.Fatalf("a loan of %d floats starts at %#x, not 8-byte aligned", n, addr)
		}
		for i, v := range c {
			if v != 0 {
				t.Fatalf("a loan of %d floats has %v at %d", n, v, i)
			}
			c[i] = 3
		}
	}
	// Loans are whole multiples of memAlign floats: 1008 and 304, then 64.
	if got := m.Size(); got != 1008+304+64 {
		t.Fatalf("memory holds %d floats, want 1376 (one new chunk for what did not fit)", got)
	}
}
