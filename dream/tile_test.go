package dream

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/tinynet"
)

// TestTileAxis checks the layout of an axis at every phase: the cores
// partition the axis, each window holds its core with a halo on every
// side that is not the image's edge, windows and boundaries are aligned,
// and the windows' weights of every cell add up to 1, falling to 0 before
// a window's inner edges.
func TestTileAxis(t *testing.T) {
	for _, tc := range []struct{ n, t, halo, align int }{
		{6000, 1120, 48, 16}, {4000, 1120, 48, 16}, {512, 192, 48, 16}, {384, 192, 48, 16},
		{1001, 333, 24, 8}, {1000, 1000, 48, 16}, {700, 1000, 48, 16}, {97, 64, 8, 4}, {5000, 400, 96, 32},
	} {
		a := newTileAxis(tc.n, tc.t, tc.halo, tc.align, tileSlack)
		if a.t > tc.t && tc.t < tc.n || a.t > tc.n {
			t.Errorf("%+v: windows of %d", tc, a.t)
		}
		if a.m == 1 {
			if tc.t < tc.n || a.starts[0] != 0 || a.bounds[1] != tc.n {
				t.Errorf("%+v: one window, %+v", tc, a)
			}
			continue
		}
		if (tc.n-a.t)%tc.align != 0 {
			t.Errorf("%+v: the last window starts at %d, off the grid", tc, tc.n-a.t)
		}
		for p := a.lo; p <= a.hi; p += tc.align {
			a.place(p)
			for k := range a.m {
				s, b0, b1 := a.starts[k], a.bounds[k], a.bounds[k+1]
				if s%tc.align != 0 || b0%tc.align != 0 && k > 0 || b1 <= b0 || s < 0 || s+a.t > tc.n {
					t.Fatalf("%+v phase %d: window %d at %d, core [%d, %d)", tc, p, k, s, b0, b1)
				}
				if b0 > 0 && b0-s < tc.halo || b1 < tc.n && s+a.t-b1 < tc.halo || b0 < s || b1 > s+a.t {
					t.Fatalf("%+v phase %d: window %d [%d, %d) does not hold core [%d, %d) with a halo of %d", tc, p, k, s, s+a.t, b0, b1, tc.halo)
				}
			}
			for x := 0; x < tc.n; x += tc.align {
				sum := float32(0)
				for k := range a.m {
					w := a.weight(k, x, tc.align)
					if w < 0 || w > 1 {
						t.Fatalf("%+v phase %d: cell at %d weighs %v in window %d", tc, p, x, w, k)
					}
					if w > 0 && (x-a.starts[k] < tc.halo/2 && a.starts[k] > 0 || a.starts[k]+a.t-x < tc.halo/2 && a.starts[k]+a.t < tc.n) {
						t.Fatalf("%+v phase %d: cell at %d weighs %v in window %d, [%d, %d), within half a halo of its edge", tc, p, x, w, k, a.starts[k], a.starts[k]+a.t)
					}
					sum += w
				}
				if math.Abs(float64(sum-1)) > 1e-6 {
					t.Fatalf("%+v phase %d: the weights of the cell at %d add up to %v", tc, p, x, sum)
				}
			}
		}
		if slack := a.hi - a.lo; slack < tileSlack && a.t < tc.t-tc.align {
			t.Errorf("%+v: the windows were shrunk to %d, leaving a slack of %d", tc, a.t, slack)
		}
	}
}

// TestTileShuffleDrawsPhases checks that shuffling draws every phase the
// axis allows, and nothing for an untiled axis.
func TestTileShuffleDrawsPhases(t *testing.T) {
	g := newTileGrid(200, 1000, 256, 32, 16, tileSlack)
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[int]bool{}
	for range 500 {
		g.shuffle(rng)
		seen[g.x.bounds[1]] = true
		if g.y.m != 1 || g.x.m < 2 {
			t.Fatalf("a 1000x200 image in tiles of 256: %d x %d windows", g.x.m, g.y.m)
		}
	}
	if want := (g.x.hi-g.x.lo)/16 + 1; len(seen) != want {
		t.Errorf("%d phases drawn, want all %d", len(seen), want)
	}
	one := newTileGrid(100, 100, 256, 32, 16, tileSlack)
	before := *rng
	one.shuffle(rng)
	if *rng != before {
		t.Error("shuffling an untiled grid drew a number")
	}
}

// TestRollWindow checks that a window of the rolled image is the rolled
// image's pixels.
func TestRollWindow(t *testing.T) {
	const c, h, w = 3, 7, 9
	src := make([]float32, c*h*w)
	for i := range src {
		src[i] = float32(i)
	}
	rolled := make([]float32, len(src))
	for _, off := range [][2]int{{0, 0}, {3, -2}, {-9, 7}, {40, -33}} {
		ox, oy := off[0], off[1]
		roll(rolled, src, h, w, ox, oy)
		for _, win := range [][4]int{{0, 0, 7, 9}, {2, 3, 4, 5}, {0, 4, 7, 5}, {6, 8, 1, 1}} {
			y0, x0, th, tw := win[0], win[1], win[2], win[3]
			dst := make([]float32, c*th*tw)
			rollWindow(dst, th, tw, src, h, w, y0, x0, ox, oy)
			for ch := range c {
				for y := range th {
					for x := range tw {
						if got, want := dst[(ch*th+y)*tw+x], rolled[(ch*h+y0+y)*w+x0+x]; got != want {
							t.Fatalf("roll (%d, %d), window %v: (%d, %d, %d) is %v, want %v", ox, oy, win, ch, y, x, got, want)
						}
					}
				}
			}
		}
	}
}

// TestTiledStepDoesNotAllocate checks that a tiled step allocates nothing,
// with the look's options and a layer mask too.
func TestTiledStepDoesNotAllocate(t *testing.T) {
	n, err := NewNetwork(tinynet.Model(), Profile{Preprocess: Caffe})
	if err != nil {
		t.Fatal(err)
	}
	const h, w = 60, 90
	mask := make([]float32, h*w)
	for i := range mask {
		mask[i] = float32(i%w) / w
	}
	for _, lk := range []look{{}, {laplacian: 2, smooth: 1, mask: mask, layerMasks: [][]float32{mask}}} {
		s, err := n.NewStepper(h, w, Objective{{Name: "r", Mask: "m"}}, graph.Options{}, Tiling{Tile: 40, Halo: 4})
		if err != nil {
			t.Fatal(err)
		}
		if nw, _, _ := s.Windows(); nw < 4 {
			t.Fatalf("a %dx%d image in tiles of 40: %d windows", w, h, nw)
		}
		if err := s.setLook(lk); err != nil {
			t.Fatal(err)
		}
		src := make([]float32, 3*h*w)
		for i := range src {
			src[i] = float32(i%97) - 48
		}
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(1, 2))
		if a := testing.AllocsPerRun(5, func() {
			s.Shuffle(rng)
			if _, err := s.Step(ctx, src, 5, -7, 1.5); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%+v: a tiled step allocates %v times", lk, a)
		}
	}
}

// TestTiledGradientOfASmallNetwork checks the assembly on a network whose
// cells see a pixel around theirs only (tinynet: a 3x3 convolution and a
// ReLU), where a halo of 4 leaves nothing out: the tiled gradient and
// objective are the untiled ones, up to rounding, for layers, for a class
// (its mean over the whole image decomposes over the windows), and for
// both, balanced over the whole image.
func TestTiledGradientOfASmallNetwork(t *testing.T) {
	// GoogLeNet's head: a pool of the network's size, which class terms
	// take as a mean over the whole feature map.
	n, err := NewNetwork(tinynet.Classifier(8), Profile{Preprocess: Caffe, InputSize: 8, Classes: tinynet.Classes})
	if err != nil {
		t.Fatal(err)
	}
	const h, w = 50, 70
	src := n.Preprocess.Tensor(testImage(w, h))
	ctx := context.Background()
	for _, req := range []Request{
		{Layers: []string{"r"}},
		{Layers: []string{"r:1,3=-0.5"}},
		{Classes: []string{"goldfish"}},
		{Layers: []string{"r"}, Classes: []string{"red fox=0.5"}},
	} {
		obj, err := n.Resolve(&req)
		if err != nil {
			t.Fatal(err)
		}
		u, err := n.NewStepper(h, w, obj, graph.Options{}, Tiling{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := n.NewStepper(h, w, obj, graph.Options{}, Tiling{Tile: 24, Halo: 4})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for step := range 3 { // the first balances a mixed objective
			gu, ou, err := u.gradient(ctx, src, 3, -4)
			if err != nil {
				t.Fatal(err)
			}
			s.Shuffle(rng)
			g, o, err := s.gradient(ctx, src, 3, -4)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(o-ou) > 1e-5*math.Abs(ou) {
				t.Errorf("%v %v step %d: tiled objective %v, untiled %v", req.Layers, req.Classes, step, o, ou)
			}
			top := 0.0 // the terms of a mixed objective cancel out in places: rounding is relative to the largest
			for _, v := range gu {
				top = max(top, math.Abs(float64(v)))
			}
			for i, v := range g {
				if math.Abs(float64(v-gu[i])) > 1e-5*top {
					t.Fatalf("%v %v step %d: gradient %d is %v tiled, %v untiled (largest %v)", req.Layers, req.Classes, step, i, v, gu[i], top)
				}
			}
		}
	}
}

// TestUntileableClass checks that a class read from the network's own
// scores, which pool the whole image, is dreamed untiled with tile 0, and
// refused with a tile.
func TestUntileableClass(t *testing.T) {
	n, err := NewNetwork(tinynet.Classifier(0), Profile{Preprocess: Caffe, Classes: tinynet.Classes})
	if err != nil {
		t.Fatal(err)
	}
	req := Defaults()
	req.Classes = []string{"goldfish"}
	e, err := n.Estimate(300, 200, req)
	if err != nil {
		t.Fatal(err)
	}
	if e.Tiled() || e.Tile != -1 {
		t.Errorf("the class of tinynet's scores is tiled: %+v", e)
	}
	req.Tile = 128
	var te *TileError
	if _, err := n.Estimate(300, 200, req); !errors.As(err, &te) || te.Untileable != "class goldfish" {
		t.Errorf("a tile for a class of the network's scores: %v", err)
	}
}
