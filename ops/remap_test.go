package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkRemap runs p forward on x and backward on a random dy, and compares
// with want (the source index of each output element, -1 for fill): the
// forward copies, the backward adds each dy into the element it came from.
func checkRemap(t *testing.T, name string, p *RemapParams, x []float32, want []int) {
	t.Helper()
	if p.Size() != len(want) {
		t.Fatalf("%s: %d outputs, want %d", name, p.Size(), len(want))
	}
	const fill = -99
	y := make([]float32, len(want))
	Remap(y, x, fill, p)
	r := rand.New(rand.NewPCG(5, 6))
	dy := randFloats(r, len(y))
	dx := randFloats(r, len(x))
	wantDx := slices.Clone(dx)
	for i, src := range want {
		v := float32(fill)
		if src >= 0 {
			v = x[src]
			wantDx[src] += dy[i]
		}
		if y[i] != v {
			t.Fatalf("%s: y[%d] = %v, want %v (source %d)", name, i, y[i], v, src)
		}
	}
	RemapBackward(dx, dy, p)
	for i := range dx {
		if d := dx[i] - wantDx[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("%s: dx[%d] = %v, want %v", name, i, dx[i], wantDx[i])
		}
	}
	ints := make([]int64, len(x))
	for i := range ints {
		ints[i] = int64(i)
	}
	gotInts := make([]int64, len(want))
	RemapInts(gotInts, ints, fill, p)
	for i, src := range want {
		w := int64(fill)
		if src >= 0 {
			w = int64(src)
		}
		if gotInts[i] != w {
			t.Fatalf("%s: RemapInts[%d] = %d, want %d", name, i, gotInts[i], w)
		}
	}
}

// ramp returns 0, 1, ..., n-1: each element is its own index.
func ramp(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i)
	}
	return x
}

func TestTranspose(t *testing.T) {
	for _, c := range []struct{ dims, perm []int }{
		{[]int{2, 3, 4}, []int{2, 1, 0}},
		{[]int{2, 3, 4}, []int{0, 2, 1}},
		{[]int{1, 16, 40, 40}, []int{0, 2, 3, 1}}, // NCHW -> NHWC, parallel
		{[]int{1, 40, 40, 16}, []int{0, 3, 1, 2}},
		{[]int{7}, []int{0}},
		{[]int{}, []int{}},
	} {
		p, err := NewTranspose(c.dims, c.perm)
		if err != nil {
			t.Fatal(err)
		}
		outDims := make([]int, len(c.perm))
		for i, a := range c.perm {
			outDims[i] = c.dims[a]
		}
		inStrides := contiguousStrides(c.dims)
		want := make([]int, shapeSize(outDims))
		forCoords(outDims, func(i int, coord []int) {
			for d, a := range c.perm {
				want[i] += coord[d] * inStrides[a]
			}
		})
		checkRemap(t, fmt.Sprintf("transpose %v by %v", c.dims, c.perm), p, ramp(shapeSize(c.dims)), want)
	}
}

func TestGather(t *testing.T) {
	// [4,3] along axis 0 with a repeated index: its gradients add up.
	p, err := NewGather([]int{4, 3}, 0, []int{2, 0, 2})
	if err != nil {
		t.Fatal(err)
	}
	if p.Injective {
		t.Error("repeated indices: Injective")
	}
	checkRemap(t, "gather axis 0", p, ramp(12), []int{6, 7, 8, 0, 1, 2, 6, 7, 8})
	// [2,3,2] along axis 1.
	p, _ = NewGather([]int{2, 3, 2}, 1, []int{1})
	checkRemap(t, "gather axis 1", p, ramp(12), []int{2, 3, 8, 9})
	// A large gather, split across cores.
	p, _ = NewGather([]int{64, 1000}, 1, []int{999, 0, 5})
	var want []int
	for i := range 64 {
		want = append(want, i*1000+999, i*1000, i*1000+5)
	}
	checkRemap(t, "gather wide", p, ramp(64000), want)
}

func TestPad(t *testing.T) {
	for _, c := range []struct {
		name string
		dims []int
		pads []int
		mode PadMode
		want []int
	}{
		{"constant", []int{3}, []int{2, 4}, PadConstant, []int{-1, -1, 0, 1, 2, -1, -1, -1, -1}},
		{"edge", []int{3}, []int{2, 4}, PadEdge, []int{0, 0, 0, 1, 2, 2, 2, 2, 2}},
		{"reflect", []int{3}, []int{2, 4}, PadReflect, []int{2, 1, 0, 1, 2, 1, 0, 1, 2}},
		{"reflect wider than the input", []int{3}, []int{5, 0}, PadReflect, []int{1, 0, 1, 2, 1, 0, 1, 2}},
		{"reflect one element", []int{1}, []int{2, 1}, PadReflect, []int{0, 0, 0, 0}},
		{"crop", []int{4}, []int{-1, 1}, PadConstant, []int{1, 2, 3, -1}},
		{"crop and edge", []int{4}, []int{-3, 2}, PadEdge, []int{3, 3, 3}},
		{"2-D constant", []int{2, 2}, []int{1, 0, 0, 1}, PadConstant, []int{-1, -1, -1, 0, 1, -1, 2, 3, -1}},
		{"2-D reflect", []int{2, 3}, []int{1, 1, 0, 0}, PadReflect, []int{4, 3, 4, 5, 1, 0, 1, 2, 4, 3, 4, 5}},
		{"fill, and a crop to one column", []int{2, 3}, []int{1, -2, 0, 0}, PadConstant, []int{-1, 2, 5}},
	} {
		p, err := NewPad(c.dims, c.pads, c.mode)
		if err != nil {
			t.Fatal(err)
		}
		checkRemap(t, "pad "+c.name, p, ramp(shapeSize(c.dims)), c.want)
	}
	if _, err := NewPad([]int{3}, []int{-2, -2}, PadConstant); err == nil {
		t.Error("cropping 4 of 3 elements: no error")
	}
}

func TestRemapAndConcatNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	x := randFloats(r, 16*40*40)
	y, dx := make([]float32, len(x)), make([]float32, len(x))
	tp, _ := NewTranspose([]int{1, 16, 40, 40}, []int{0, 2, 3, 1})
	pad, _ := NewPad([]int{1, 16, 40, 40}, []int{0, 0, 1, 1, 0, 0, 1, 1}, PadReflect)
	padded := make([]float32, pad.Size())
	cp := NewConcat([][]int{{1, 16, 40, 40}, {1, 16, 40, 40}}, 1)
	joined := make([]float32, 2*len(x))
	srcs, dsrcs := [][]float32{x, y}, [][]float32{dx, nil}
	run := func() {
		Remap(y, x, 0, tp)
		RemapBackward(dx, y, tp)
		Remap(padded, x, 0, pad)
		RemapBackward(dx, padded, pad)
		Concat(joined, srcs, cp)
		ConcatBackward(dsrcs, nil, joined, cp)
	}
	run()
	if n := testing.AllocsPerRun(10, run); n != 0 {
		t.Errorf("Remap + Concat allocate %v times per run", n)
	}
}

func BenchmarkTranspose(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	p, _ := NewTranspose([]int{1, 64, 112, 112}, []int{0, 2, 3, 1})
	x := randFloats(r, p.Size())
	y := make([]float32, len(x))
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		Remap(y, x, 0, p)
	}
}

// The kernels walk merged axes: a channel shuffle moves whole planes, a
// slice of channels one block per image, a broadcast one run per row.
func TestRemapMergesAxes(t *testing.T) {
	shuffle, _ := NewTranspose([]int{1, 2, 48, 16, 20}, []int{0, 2, 1, 3, 4})
	chunk, _ := NewSlice([]int{2, 96, 8, 8}, []int{0, 48, 0, 0}, []int{1, 1, 1, 1}, []int{2, 48, 8, 8})
	nhwc, _ := NewTranspose([]int{1, 16, 8, 8}, []int{0, 2, 3, 1})
	expand, _ := NewExpand([]int{3, 1, 1}, []int{3, 5, 7})
	for _, c := range []struct {
		name       string
		p          *RemapParams
		dims       []int
		contiguous bool
	}{
		{"channel shuffle", shuffle, []int{48, 2, 320}, true},
		{"slice of channels", chunk, []int{2, 3072}, true},
		{"NCHW to NHWC", nhwc, []int{64, 16}, false},
		{"expand", expand, []int{3, 35}, false},
	} {
		if !slices.Equal(c.p.dims, c.dims) || c.p.contiguous != c.contiguous {
			t.Errorf("%s: walks %v (contiguous %v), want %v (%v)", c.name, c.p.dims, c.p.contiguous, c.dims, c.contiguous)
		}
	}
}
