package graph

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/deepdream-go/deepdream/internal/shared"
)

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

// TestRefilledInput runs GoogLeNet's plan with its input refilled before
// every Forward (InputSpec.Refilled), whose memory the plan lends to
// other buffers once conv1 has read it, against the plan that keeps the
// input apart: the same targets and gradients, bit for bit, step after
// step, and no memory of the input's own.
func TestRefilledInput(t *testing.T) {
	if testing.Short() {
		t.Skip("plans GoogLeNet")
	}
	m, err := Open(shared.GoogLeNet(t))
	if err != nil {
		t.Fatal(err)
	}
	const target = "inception_4c/output_1"
	shape := Shape{1, 3, 96, 128}
	var bytes [2]int64
	plan := func(refilled bool) *Plan {
		spec := Spec{
			Inputs:   []InputSpec{{Name: "data_0", Shape: shape, Grad: true, Refilled: refilled}},
			Targets:  []string{target},
			Backward: true,
		}
		est, err := m.EstimateMemory(spec)
		if err != nil {
			t.Fatal(err)
		}
		if refilled {
			bytes[1] = est.Bytes()
		} else {
			bytes[0] = est.Bytes()
		}
		p, err := m.Plan(spec)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	kept, refilled := plan(false), plan(true)
	// Its memory is another buffer's at the peak, but not its gradient's,
	// which the caller reads before filling it again.
	if bytes[1] >= bytes[0] {
		t.Errorf("the plan takes %d bytes with its input refilled, %d without", bytes[1], bytes[0])
	}
	x0, dx0 := &refilled.Data("data_0")[0], &refilled.Grad("data_0")[0]
	if uintptr(unsafe.Pointer(x0)) < uintptr(unsafe.Pointer(dx0))+uintptr(4*shape.Size()) && uintptr(unsafe.Pointer(dx0)) < uintptr(unsafe.Pointer(x0))+uintptr(4*shape.Size()) {
		t.Error("the refilled input shares memory with its gradient")
	}
	x := make([]float32, shape.Size())
	ctx := context.Background()
	for step := range 3 {
		for i := range x {
			x[i] = float32((i+7*step)%29)*0.7 - 9
		}
		var ys, dxs [2][]float32
		for k, p := range []*Plan{kept, refilled} {
			copy(p.Data("data_0"), x)
			if err := p.Forward(ctx); err != nil {
				t.Fatal(err)
			}
			ys[k] = slices.Clone(p.Data(target))
			copy(p.Grad(target), ys[k])
			if err := p.Backward(ctx); err != nil {
				t.Fatal(err)
			}
			dxs[k] = p.Grad("data_0")
		}
		if !slices.Equal(ys[0], ys[1]) || !slices.Equal(dxs[0], dxs[1]) {
			t.Fatalf("step %d: the plan with its input refilled differs from the one that keeps it", step)
		}
	}
}
