package dream

import (
	"context"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/shared"
)

// seamPhotos are a real photo and a synthetic one (waves of several
// lengths and directions in the three channels), both 512x384.
func seamPhotos(t *testing.T) map[string]image.Image {
	dog, err := imageio.ReadFile(shared.Path(t, "images/dog.jpg"), 0)
	if err != nil {
		t.Fatal(err)
	}
	waves := image.NewNRGBA(image.Rect(0, 0, 512, 384))
	for y := range 384 {
		for x := range 512 {
			fx, fy := float64(x), float64(y)
			v := func(a, b, c float64) uint8 {
				return uint8(128 + 60*math.Sin(a*fx+b*fy) + 50*math.Sin(c*fx*fy/300))
			}
			waves.SetNRGBA(x, y, color.NRGBA{v(0.05, 0.02, 0.3), v(-0.03, 0.07, 0.5), v(0.11, -0.04, 0.2), 255})
		}
	}
	return map[string]image.Image{"dog.jpg": imageio.Resize(dog, 512, 384), "waves": waves}
}

// seamRequest is the dream of the acceptance tests: the notebook's, with
// fewer steps to keep them short.
func seamRequest(tile int) Request {
	req := Defaults()
	req.Octaves, req.Iterations, req.Seed, req.Tile = 3, 6, 11, tile
	return req
}

// TestTiledDream dreams each photo whole and in tiles of 320 (6 windows
// a step at the largest octave, 2 of them inner) and checks the two
// acceptance points of tiled dreams:
//
//   - no seams: the high-frequency energy the dream adds, |Laplacian| of
//     the dream less the photo, on the pixels within 2 of a boundary
//     between tiles used during the dream (the cores' boundaries, where
//     one window's part hands over to the next, and the windows' edges,
//     each octave's scaled to the dream's size), is within 10% of the
//     energy elsewhere. A photo's content is not spread evenly, so the
//     same ratio taken on the untiled dream, on the same pixels, is what
//     the tiled one is held to; on the synthetic photo, whose waves are
//     spread evenly, the ratio itself is within 10% of 1 too.
//   - the objective: the layer's 0.5*sum(a^2) on the dream, as deepdream
//     probe gives it, is within 5% of the untiled dream's.
func TestTiledDream(t *testing.T) {
	if testing.Short() {
		t.Skip("dreams GoogLeNet at 512x384")
	}
	n := googLeNet(t)
	for name, photo := range seamPhotos(t) {
		var dreams [2]image.Image
		var objs [2]float64
		for i, tile := range []int{-1, seamTile} {
			req := seamRequest(tile)
			out, err := n.Dream(context.Background(), photo, req, nil)
			if err != nil {
				t.Fatal(err)
			}
			dreams[i], objs[i] = out, probe(t, n, out, req)
		}
		t.Logf("%s: objective %.4g untiled, %.4g in tiles of %d (%+.1f%%)", name, objs[0], objs[1], seamTile, 100*(objs[1]/objs[0]-1))
		if r := objs[1] / objs[0]; r < 0.95 || r > 1.05 {
			t.Errorf("%s: the tiled dream's objective is %.3f times the untiled one's, want within 5%%", name, r)
		}
		cores, edges := tileLines(t, n, seamRequest(seamTile), 512, 384)
		untiled, tiled := dreamEnergy(photo, dreams[0]), dreamEnergy(photo, dreams[1])
		for _, set := range []struct {
			what  string
			lines [2][]bool
		}{{"core boundaries", cores}, {"window edges", edges}} {
			near, far := lineEnergy(tiled, set.lines, 512, 384)
			nearU, farU := lineEnergy(untiled, set.lines, 512, 384)
			ratio, content := near/far, nearU/farU
			t.Logf("%s, %s: energy %.3f within 2 pixels, %.3f elsewhere: %.3f (untiled: %.3f); %.3f of it",
				name, set.what, near, far, ratio, content, ratio/content)
			if r := ratio / content; r > 1.1 || r < 0.9 {
				t.Errorf("%s: the energy the dream adds within 2 pixels of the %s is %.3f times that elsewhere, %.3f times the untiled dream's ratio, want within 10%%", name, set.what, ratio, r)
			}
			if name == "waves" && (ratio > 1.1 || ratio < 0.9) {
				t.Errorf("%s: the energy the dream adds within 2 pixels of the %s is %.3f times that elsewhere, want within 10%%", name, set.what, ratio)
			}
		}
	}
}

// TestNoSeamsOnAPhoto checks the seam criterion itself, the energy near
// the boundaries within 10% of the energy elsewhere, on a real photo: at
// 512x384 TestTiledDream's few boundaries fall on whatever the photo
// holds there (dog.jpg's raw ratio is 1.07-1.27, the untiled dream's on
// the same pixels the same), so this one dreams eagle.jpg at 1024x768 in
// tiles of 256, whose boundaries cross the whole picture. (dog.jpg there:
// 1.117 near the cores' boundaries, and 1.132 for the untiled dream on
// the same pixels: its content, not seams; hence the untiled check too.)
func TestNoSeamsOnAPhoto(t *testing.T) {
	if testing.Short() {
		t.Skip("dreams GoogLeNet at 1024x768")
	}
	n := googLeNet(t)
	img, err := imageio.ReadFile(shared.Path(t, "images/eagle.jpg"), 0)
	if err != nil {
		t.Fatal(err)
	}
	const w, h, tile = 1024, 768, 256
	photo := imageio.Resize(img, w, h)
	var energy [2][]float64
	for i, tl := range []int{-1, tile} {
		out, err := n.Dream(context.Background(), photo, seamRequest(tl), nil)
		if err != nil {
			t.Fatal(err)
		}
		energy[i] = dreamEnergy(photo, out)
	}
	cores, edges := tileLines(t, n, seamRequest(tile), w, h)
	for _, set := range []struct {
		what  string
		lines [2][]bool
	}{{"core boundaries", cores}, {"window edges", edges}} {
		near, far := lineEnergy(energy[1], set.lines, w, h)
		nearU, farU := lineEnergy(energy[0], set.lines, w, h)
		ratio, content := near/far, nearU/farU
		t.Logf("eagle.jpg %dx%d, tiles of %d, %s: energy %.3f within 2 pixels, %.3f elsewhere: %.3f (untiled: %.3f)",
			w, h, tile, set.what, near, far, ratio, content)
		if ratio > 1.1 || ratio < 0.9 {
			t.Errorf("the energy the dream adds within 2 pixels of the %s is %.3f times that elsewhere, want within 10%%", set.what, ratio)
		}
		if r := ratio / content; r > 1.1 || r < 0.9 {
			t.Errorf("the energy ratio near the %s is %.3f times the untiled dream's, want within 10%%", set.what, r)
		}
	}
}

// seamTile is the tile of TestTiledDream.
const seamTile = 320

// tileLines replays the random numbers of a dream of req at w x h (the
// jitter's and the grid's, per step) and returns the rows and columns
// of the dream within 2 pixels of a core's boundary, and of a window's
// edge, at any step of any octave: [0] rows, [1] columns.
func tileLines(t *testing.T, n *Network, req Request, w, h int) (cores, edges [2][]bool) {
	obj, err := n.Resolve(&req)
	if err != nil {
		t.Fatal(err)
	}
	_, align, _, err := n.strides(obj)
	if err != nil {
		t.Fatal(err)
	}
	tiling := Tiling{Tile: req.Tile, Halo: haloFor(align)}
	for _, lines := range []*[2][]bool{&cores, &edges} {
		lines[0], lines[1] = make([]bool, h), make([]bool, w)
	}
	mark := func(lines []bool, v, n int) { // v of an axis of n pixels, rolled back and scaled to the dream
		for d := -2; d <= 2; d++ {
			if p := (v + d) * len(lines) / n; p >= 0 && p < len(lines) {
				lines[p] = true
			}
		}
	}
	sizes := n.octaveSizes(h, w, req, obj)
	rng, grid := rand.New(rand.NewPCG(req.Seed, 0x5eed)), rand.New(rand.NewPCG(req.Seed, gridStream))
	for k := len(sizes) - 1; k >= 0; k-- {
		oh, ow := sizes[k].Y, sizes[k].X
		tiled := tiling.tiled(oh, ow)
		g := tiling.grid(oh, ow, align)
		for range req.Iterations {
			ox := rng.IntN(2*req.Jitter+1) - req.Jitter
			oy := rng.IntN(2*req.Jitter+1) - req.Jitter
			if !tiled {
				continue
			}
			g.shuffle(grid)
			for i, a := range []*tileAxis{&g.y, &g.x} {
				n, o := []int{oh, ow}[i], []int{oy, ox}[i]
				for _, b := range a.bounds[1:a.m] {
					mark(cores[i], ((b-o)%n+n)%n, n)
				}
				for _, s := range a.starts {
					for _, e := range []int{s, s + a.t} {
						if e > 0 && e < n {
							mark(edges[i], ((e-o)%n+n)%n, n)
						}
					}
				}
			}
		}
	}
	return cores, edges
}

// dreamEnergy returns |Laplacian| of out - in, summed over the channels,
// per pixel (0 on the image's border).
func dreamEnergy(in, out image.Image) []float64 {
	a, b := imageio.NRGBA(in), imageio.NRGBA(out)
	w, h := a.Rect.Dx(), a.Rect.Dy()
	d := func(x, y, c int) float64 {
		i := y*a.Stride + 4*x + c
		return float64(b.Pix[i]) - float64(a.Pix[i])
	}
	e := make([]float64, w*h)
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			for c := range 3 {
				e[y*w+x] += math.Abs(4*d(x, y, c) - d(x-1, y, c) - d(x+1, y, c) - d(x, y-1, c) - d(x, y+1, c))
			}
		}
	}
	return e
}

// lineEnergy returns the mean energy of the pixels on the lines (rows
// lines[0], columns lines[1]) and of the others, 3 pixels in from the
// image's border.
func lineEnergy(e []float64, lines [2][]bool, w, h int) (near, far float64) {
	var sn, sf float64
	var nn, nf int
	for y := 3; y < h-3; y++ {
		for x := 3; x < w-3; x++ {
			if lines[0][y] || lines[1][x] {
				sn, nn = sn+e[y*w+x], nn+1
			} else {
				sf, nf = sf+e[y*w+x], nf+1
			}
		}
	}
	return sn / float64(nn), sf / float64(nf)
}

// probe returns the objective of req's layers on img, untiled.
func probe(t *testing.T, n *Network, img image.Image, req Request) float64 {
	obj, err := n.Resolve(&req)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	p, err := n.plan(b.Dy(), b.Dx(), obj, nil, req.engine())
	if err != nil {
		t.Fatal(err)
	}
	copy(p.Data(n.Input), n.Preprocess.Tensor(img))
	if err := p.Forward(context.Background()); err != nil {
		t.Fatal(err)
	}
	return obj.Value(p)
}
