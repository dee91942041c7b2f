package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// broadcastOffset is the reference index map: the offset in x (shape xs)
// of output coordinates coord, x right-aligned and stretched along its
// size-1 axes.
func broadcastOffset(coord, xs []int) int {
	off, shift := 0, len(coord)-len(xs)
	for d, n := range xs {
		c := coord[d+shift]
		if n == 1 {
			c = 0
		}
		off = off*n + c
	}
	return off
}

// forCoords calls fn with each coordinate of shape in row-major order.
func forCoords(shape []int, fn func(i int, coord []int)) {
	n := 1
	for _, d := range shape {
		n *= d
	}
	coord := make([]int, len(shape))
	for i := range n {
		rest := i
		for d := len(shape) - 1; d >= 0; d-- {
			coord[d] = rest % shape[d]
			rest /= shape[d]
		}
		fn(i, coord)
	}
}

var broadcastCases = []struct{ a, b []int }{
	{[]int{2, 3, 4, 5}, []int{2, 3, 4, 5}},             // same shape
	{[]int{1, 64, 32, 32}, []int{64, 1, 1}},            // per-channel bias, parallel
	{[]int{3, 1, 1}, []int{2, 3, 40, 50}},              // per-channel on the left
	{[]int{2, 3, 4, 5}, []int{}},                       // scalar
	{[]int{}, []int{3}},                                // scalar on the left
	{[]int{1}, []int{1}},                               // one element
	{[]int{3, 1, 5}, []int{4, 1}},                      // both sides broadcast
	{[]int{2, 1, 4}, []int{1, 3, 1}},                   // alternating
	{[]int{5}, []int{2, 3, 5}},                         // trailing vector
	{[]int{1, 3, 1, 1}, []int{1, 3, 300, 200}},         // large, b full
	{[]int{2, 1, 3, 1, 2, 1}, []int{1, 2, 1, 3, 1, 2}}, // rank 6, nothing merges
}

func TestBinary(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range broadcastCases {
		out, p, err := NewBroadcast(c.a, c.b)
		if err != nil {
			t.Fatal(err)
		}
		a, b := randFloats(r, shapeSize(c.a)), randFloats(r, shapeSize(c.b))
		for i := range b {
			b[i] += float32(math.Copysign(0.5, float64(b[i]))) // keep Div tame
		}
		for _, op := range []BinaryOp{OpAdd, OpSub, OpMul, OpDiv} {
			name := fmt.Sprintf("%v %v %v", c.a, op, c.b)
			got := make([]float32, shapeSize(out))
			Binary(op, got, a, b, p)
			forCoords(out, func(i int, coord []int) {
				x, y := a[broadcastOffset(coord, c.a)], b[broadcastOffset(coord, c.b)]
				want := [...]float32{x + y, x - y, x * y, x / y}[op]
				if got[i] != want {
					t.Fatalf("%s: [%d] %v = %v, want %v", name, i, coord, got[i], want)
				}
			})
			// The backward of broadcasting: each input collects the sum of
			// the output elements it reached.
			dy := randFloats(r, len(got))
			for input, xs := range [][]int{c.a, c.b} {
				dx := randFloats(r, shapeSize(xs))
				want := make([]float64, len(dx))
				for i, v := range dx {
					want[i] = float64(v)
				}
				forCoords(out, func(i int, coord []int) {
					want[broadcastOffset(coord, xs)] -= 0.5 * float64(dy[i])
				})
				SumBroadcast(dx, dy, -0.5, p, input)
				for i := range dx {
					if math.Abs(float64(dx[i])-want[i]) > 1e-4*(1+math.Abs(want[i]))*math.Sqrt(float64(len(dy)/len(dx))) {
						t.Fatalf("%s: SumBroadcast to input %d: [%d] = %v, want %v", name, input, i, dx[i], want[i])
					}
				}
			}
		}
	}
}

func shapeSize(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func TestBroadcastLayout(t *testing.T) {
	out, p, err := NewBroadcast([]int{1, 8, 5, 7}, []int{8, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out, []int{1, 8, 5, 7}) || !slices.Equal(p.Dims, []int{8, 35}) || !slices.Equal(p.In[1], []int{1, 0}) {
		t.Errorf("per-channel layout: out %v dims %v b strides %v, want [1 8 5 7], [8 35], [1 0]", out, p.Dims, p.In[1])
	}
	if _, p, _ = NewBroadcast([]int{2, 3, 4}, []int{2, 3, 4}); !slices.Equal(p.Dims, []int{24}) {
		t.Errorf("equal shapes merge to %v, want [24]", p.Dims)
	}
	if _, _, err := NewBroadcast([]int{2, 3}, []int{4, 3}); err == nil {
		t.Error("2x3 with 4x3: no error")
	}
}

func TestBinaryInts(t *testing.T) {
	_, p, _ := NewBroadcast([]int{4}, []int{4})
	a, b := []int64{-7, 7, -7, 7}, []int64{2, 2, -2, -2}
	got := make([]int64, 4)
	BinaryInts(OpDiv, got, a, b, p)
	if want := []int64{-3, 3, 3, -3}; !slices.Equal(got, want) { // truncation, as in C
		t.Errorf("Div = %v, want %v", got, want)
	}
	_, p, _ = NewBroadcast([]int{3}, []int{})
	BinaryInts(OpMul, got[:3], []int64{1, 2, 3}, []int64{-2}, p)
	if want := []int64{-2, -4, -6}; !slices.Equal(got[:3], want) {
		t.Errorf("Mul by scalar = %v, want %v", got[:3], want)
	}
}

func TestBinaryNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	_, p, _ := NewBroadcast([]int{1, 64, 32, 32}, []int{64, 1, 1})
	a, b := randFloats(r, 64*32*32), randFloats(r, 64)
	y, db := make([]float32, len(a)), make([]float32, len(b))
	run := func() {
		Binary(OpMul, y, a, b, p)
		SumBroadcast(db, y, 1, p, 1)
		SumBroadcast(a, y, 1e-3, p, 0)
	}
	run()
	if n := testing.AllocsPerRun(10, run); n != 0 {
		t.Errorf("Binary + SumBroadcast allocate %v times per run", n)
	}
}

// ResNet's residual Add (same shape) and a per-channel normalisation.
func BenchmarkBinary(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		name string
		a, b []int
	}{
		{"residual 1x256x56x56", []int{1, 256, 56, 56}, []int{1, 256, 56, 56}},
		{"per-channel 1x3x224x224", []int{1, 3, 224, 224}, []int{3, 1, 1}},
	} {
		out, p, _ := NewBroadcast(c.a, c.b)
		x, y := randFloats(r, shapeSize(c.a)), randFloats(r, shapeSize(c.b))
		dst := make([]float32, shapeSize(out))
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(4 * (len(x) + len(y) + len(dst))))
			for b.Loop() {
				Binary(OpAdd, dst, x, y, p)
			}
		})
	}
}
