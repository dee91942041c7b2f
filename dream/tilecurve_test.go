package dream

import (
	"context"
	"flag"
	"image"
	"image/draw"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/shared"
)

var curve = flag.Bool("tilecurve", false, "measure the tiled gradient's error against the untiled one (TestTileCurve)")

// mosaic returns ../shared's four photos, each resized to 768x576, side
// by side in two rows: a 1536x1152 photo of real detail.
func mosaic(t testing.TB) image.Image {
	out := image.NewNRGBA(image.Rect(0, 0, 1536, 1152))
	for i, name := range []string{"dog", "eagle", "person", "scream"} {
		photo, err := imageio.ReadFile(shared.Path(t, "images/"+name+".jpg"), 0)
		if err != nil {
			t.Fatal(err)
		}
		at := image.Pt(768*(i%2), 576*(i/2))
		draw.Draw(out, image.Rectangle{at, at.Add(image.Pt(768, 576))}, imageio.Resize(photo, 768, 576), image.Point{}, draw.Src)
	}
	return out
}

// TestTileCurve measures how far the gradient of a tiled step is from the
// untiled one on GoogLeNet, at inception_4c and inception_3b, on a
// 1536x1152 mosaic of ../shared's photos, for tiles of 384 and 768 pixels
// and halos of 0 to 128: the relative L2 distance over the whole image
// and over the pixels within 8 of a core's boundary, averaged over two
// random grids. It takes some minutes; docs/tiling.md has its figures:
//
//	go test ./dream -run TestTileCurve -tilecurve -v
func TestTileCurve(t *testing.T) {
	if !*curve {
		t.Skip("a measurement: run it with -tilecurve")
	}
	m, err := graph.Open(shared.GoogLeNet(t))
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNetwork(m, Profile{Preprocess: Caffe})
	if err != nil {
		t.Fatal(err)
	}
	photo := mosaic(t)
	w, h := photo.Bounds().Dx(), photo.Bounds().Dy()
	src := Caffe.Tensor(photo)
	ctx := context.Background()
	const ox, oy = 11, -7
	for _, layer := range []string{"inception_4c/output_1", "inception_3b/output_1"} {
		obj := Objective{{Name: layer}}
		u, err := n.NewStepper(h, w, obj, graph.Options{}, Tiling{})
		if err != nil {
			t.Fatal(err)
		}
		g, _, err := u.gradient(ctx, src, ox, oy)
		if err != nil {
			t.Fatal(err)
		}
		ref := append([]float32(nil), g...)
		for _, tile := range []int{384, 768} {
			for _, halo := range []int{0, 32, 64, 96, 128} {
				if 2*halo+64 > tile {
					continue
				}
				s, err := n.NewStepper(h, w, obj, graph.Options{}, Tiling{Tile: tile, Halo: halo})
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(1, 2))
				var all, near float64
				const grids = 2
				for range grids {
					s.Shuffle(rng)
					g, _, err := s.gradient(ctx, src, ox, oy)
					if err != nil {
						t.Fatal(err)
					}
					a, b := tileErrors(g, ref, h, w, s.tiles)
					all += a / grids
					near += b / grids
				}
				nw, tw, th := s.Windows()
				t.Logf("%s tile %4d halo %3d: %2d windows of %4dx%-4d (work %.2fx): relative L2 %.4f, within 8 px of a boundary %.4f",
					layer, tile, halo, nw, tw, th, float64(nw*tw*th)/float64(w*h), all, near)
			}
		}
	}
}

// tileErrors returns the relative L2 distance of g from ref (3 x h x w),
// over all pixels and over those within 8 pixels of a boundary between
// the grid's cores.
func tileErrors(g, ref []float32, h, w int, grid *tileGrid) (all, near float64) {
	band := func(v int, a *tileAxis) bool {
		for _, b := range a.bounds[1:a.m] {
			if v >= b-8 && v < b+8 {
				return true
			}
		}
		return false
	}
	var d, r, dn, rn float64
	for i, v := range g {
		e, x := float64(v-ref[i]), float64(ref[i])
		d, r = d+e*e, r+x*x
		if y, x := i/w%h, i%w; band(y, &grid.y) || band(x, &grid.x) {
			dn, rn = dn+e*e, rn+float64(ref[i])*float64(ref[i])
		}
	}
	return math.Sqrt(d / r), math.Sqrt(dn / rn)
}
