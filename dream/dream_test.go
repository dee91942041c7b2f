package dream

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/npy"
	"github.com/deepdream-go/deepdream/internal/shared"
	"github.com/deepdream-go/deepdream/internal/tinynet"
)

func TestRollMatchesNumpy(t *testing.T) {
	// np.roll(np.roll(a, 1, -1), 2, -2) for a = arange(12).reshape(1, 3, 4)
	src := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	want := []float32{7, 4, 5, 6, 11, 8, 9, 10, 3, 0, 1, 2}
	dst := make([]float32, 12)
	roll(dst, src, 3, 4, 1, 2)
	if !slices.Equal(dst, want) {
		t.Errorf("roll = %v, want %v", dst, want)
	}
	back := make([]float32, 12)
	roll(back, dst, 3, 4, -1, -2)
	if !slices.Equal(back, src) {
		t.Errorf("roll back = %v, want %v", back, src)
	}
}

func TestZoomMatchesScipy(t *testing.T) {
	// scipy.ndimage.zoom(np.array([[0., 1., 2.], [3., 4., 5.]]), (1.5, 5/3.), order=1)
	src := []float32{0, 1, 2, 3, 4, 5}
	dst := make([]float32, 3*5)
	zoom(dst, 3, 5, src, 1, 2, 3, false)
	want := []float32{0, 0.5, 1, 1.5, 2, 1.5, 2, 2.5, 3, 3.5, 3, 3.5, 4, 4.5, 5}
	for i := range want {
		if math.Abs(float64(dst[i]-want[i])) > 1e-6 {
			t.Fatalf("zoom = %v, want %v", dst, want)
		}
	}
	for i := range dst {
		dst[i] = 10
	}
	zoom(dst, 3, 5, src, 1, 2, 3, true)
	for i := range want {
		if math.Abs(float64(dst[i]-10-want[i])) > 1e-5 {
			t.Fatalf("zoom adding into 10s = %v, want %v + 10", dst, want)
		}
	}
	if zoomSize(224, 1/1.4) != 160 || zoomSize(160, 1/1.4) != 114 {
		t.Errorf("octave sizes %d, %d; want 160, 114", zoomSize(224, 1/1.4), zoomSize(160, 1/1.4))
	}
}

// TestNotebookStep reproduces one make_step of the original notebook on
// BVLC GoogLeNet with jitter offsets (12, 15), against
// ../shared/fixtures/dog_224_step_ox12_oy15.npy, with the fixture's
// gradient tolerance on the change src_after - src_before.
func TestNotebookStep(t *testing.T) {
	m, err := graph.Open(shared.GoogLeNet(t))
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNetwork(m, Profile{Preprocess: Caffe})
	if err != nil {
		t.Fatal(err)
	}
	before := readNpy(t, "dog_224_input.npy")
	after := readNpy(t, "dog_224_step_ox12_oy15.npy")
	// With and without Winograd convolutions (Request.Winograd).
	for _, opts := range []graph.Options{{}, {NoWinograd: true}} {
		s, err := n.NewStepper(224, 224, Objective{{Name: "inception_4c/output_1"}}, opts, Tiling{})
		if err != nil {
			t.Fatal(err)
		}
		src := append([]float32(nil), before...)
		if _, err := s.Step(context.Background(), src, 12, 15, 1.5); err != nil {
			t.Fatal(err)
		}
		got := make([]float32, len(src))
		want := make([]float32, len(src))
		for i := range src {
			got[i] = src[i] - before[i]
			want[i] = after[i] - before[i]
		}
		shared.CheckGradient(t, fmt.Sprintf("%+v: step (src_after - src_before)", opts), got, want)
	}
}

// TestWinogradRequest checks that Request.Winograd reaches the engine: a
// dream of GoogLeNet with and without Winograd convolutions differs by
// float rounding, and by what rounding does to a dream, only.
//
// The first step of both starts from the same image, so its objective
// differs by rounding alone: never exactly (the two sum in different
// orders), and by at most the fixtures' 1e-5. Pixel levels are no
// measure: rounding flips near-ties in max-pool windows (two inputs
// within about 1e-6 of each other), which route a unit's gradient to a
// neighbouring pixel, and the normalised step makes that a few levels
// over a patch. On this test image, 144..176 pixels square, the dreams
// differed by up to 8 levels in up to 3% of their bytes, whatever the
// kernel (avx512, avx2, pure Go); at 160, avx2's direct convolutions
// flip one window of pool2 (71.8162418 and 71.8161517 in float64) and 1854
// bytes differ by up to 4. What bounds rounding is the difference of the
// two dreams' changes to the image relative to the changes: at most 0.11
// over those sizes and kernels, while a Winograd filter transform with one
// coefficient off by 1e-4 makes it 0.33.
func TestWinogradRequest(t *testing.T) {
	m, err := graph.Open(shared.GoogLeNet(t))
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNetwork(m, Profile{Preprocess: Caffe, DefaultLayer: "inception_3b/output_1"})
	if err != nil {
		t.Fatal(err)
	}
	in := testImage(160, 160).(*image.NRGBA)
	out := map[bool]*image.NRGBA{}
	first := map[bool]float64{}
	for _, wino := range []bool{true, false} {
		req := Defaults()
		req.Octaves, req.Iterations, req.Winograd = 1, 2, wino
		img, err := n.Dream(context.Background(), in, req, func(p Progress) {
			if p.Step == 1 {
				first[wino] = p.Objective
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		out[wino] = img.(*image.NRGBA)
	}
	if first[true] == first[false] {
		t.Errorf("the first steps with and without Winograd have the same objective %v: the option does not reach the engine", first[true])
	}
	if d := math.Abs(first[true]-first[false]) / first[false]; !(d < 1e-5) {
		t.Errorf("the first steps' objectives are %v with Winograd and %v without, relative difference %.3g, want rounding only (< 1e-5)", first[true], first[false], d)
	}
	var diff2, change2 float64
	differ, worst := 0, 0
	for i, v := range out[true].Pix {
		w, o := int(out[false].Pix[i]), int(in.Pix[i])
		d := int(v) - w
		diff2 += float64(d * d)
		change2 += float64((w - o) * (w - o))
		if d != 0 {
			differ++
		}
		worst = max(worst, d, -d)
	}
	if r := math.Sqrt(diff2 / change2); !(r < 0.2) {
		t.Errorf("the dreams' changes to the image differ by %.3g of their size (L2), want rounding only (< 0.2)", r)
	}
	t.Logf("first objectives %v and %v; %d of %d bytes differ, by at most %d; changes differ by %.3g (L2)",
		first[true], first[false], differ, len(in.Pix), worst, math.Sqrt(diff2/change2))
}

func readNpy(t *testing.T, name string) []float32 {
	a, err := npy.ReadFile(shared.Path(t, filepath.Join("fixtures", name)))
	if err != nil {
		t.Fatal(err)
	}
	return a.F32
}

// tinyNetwork is internal/tinynet's model, ready to dream with.
var tinyNetwork = sync.OnceValue(func() *Network {
	n, err := NewNetwork(tinynet.Model(), Profile{Preprocess: Caffe})
	if err != nil {
		panic(err)
	}
	return n
})

func testImage(w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) % 256), 255})
		}
	}
	return img
}

func TestDreamIsReproducibleAndRaisesTheObjective(t *testing.T) {
	n := tinyNetwork()
	o := Defaults()
	o.Layers = []string{"r"}
	o.Octaves, o.Iterations, o.Jitter, o.Seed = 3, 4, 4, 7
	var objs []float64
	var steps int
	img := testImage(40, 30)
	out1, err := n.Dream(context.Background(), img, o, func(p Progress) {
		steps++
		if p.Octave == p.Octaves {
			objs = append(objs, p.Objective)
		}
		if pv := p.Preview(); pv.Bounds().Dx() != p.Width {
			t.Errorf("preview is %v wide, octave is %d", pv.Bounds(), p.Width)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if steps != 12 {
		t.Errorf("%d progress reports, want 12", steps)
	}
	if out1.Bounds() != img.Bounds() {
		t.Errorf("dream is %v, input %v", out1.Bounds(), img.Bounds())
	}
	if objs[len(objs)-1] <= objs[0] {
		t.Errorf("objective went from %v to %v in the last octave; gradient ascent should raise it", objs[0], objs[len(objs)-1])
	}
	out2, err := n.Dream(context.Background(), img, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out1.(*image.NRGBA).Pix, out2.(*image.NRGBA).Pix) {
		t.Error("same seed and options gave different dreams")
	}
	o.Seed = 8
	out3, _ := n.Dream(context.Background(), img, o, nil)
	if slices.Equal(out1.(*image.NRGBA).Pix, out3.(*image.NRGBA).Pix) {
		t.Error("another seed gave the same dream")
	}
}

func TestDreamChannelsAndErrors(t *testing.T) {
	n := tinyNetwork()
	o := Defaults()
	o.Octaves, o.Iterations = 1, 1
	o.Layers = []string{"r:1,3"}
	if _, err := n.Dream(context.Background(), testImage(8, 8), o, nil); err != nil {
		t.Fatal(err)
	}
	o.Layers = []string{"r:4"}
	if _, err := n.Dream(context.Background(), testImage(8, 8), o, nil); err == nil {
		t.Error("channel 4 of a 4-channel layer was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o.Layers = []string{"r"}
	if _, err := n.Dream(ctx, testImage(8, 8), o, nil); err == nil {
		t.Error("a cancelled dream did not fail")
	}
}

// TestStepDoesNotAllocate checks that a planned step, the update included,
// runs without allocating: the notebook's, and with every option of the
// look (its buffers are made once per octave, by setLook).
func TestStepDoesNotAllocate(t *testing.T) {
	n, err := NewNetwork(tinynet.Model(), Profile{Preprocess: Caffe})
	if err != nil {
		t.Fatal(err)
	}
	mask := make([]float32, 40*56)
	for i := range mask {
		mask[i] = float32(i%56) / 56
	}
	for _, lk := range []look{{}, {laplacian: 3, smooth: 1.5, mask: mask, layerMasks: [][]float32{mask}}, {keepColors: true, laplacian: 2, smooth: 0.5, mask: mask}} {
		s, err := n.NewStepper(40, 56, Objective{{Name: "r", Mask: "m"}}, graph.Options{}, Tiling{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.setLook(lk); err != nil {
			t.Fatal(err)
		}
		src := make([]float32, 3*40*56)
		for i := range src {
			src[i] = float32(i%97) - 48
		}
		ctx := context.Background()
		if a := testing.AllocsPerRun(5, func() {
			if _, err := s.Step(ctx, src, 5, -7, 1.5); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%+v: a step allocates %v times", lk, a)
		}
	}
}
