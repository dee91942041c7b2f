package dream

import (
	"context"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/shared"
)

// TestGuidedTermIsTheNotebooks checks a guided term against the notebook's
// objective_guide written out: A = x^T y, and at each position the guide
// vector y[:, A.argmax(1)], times the weight; the value is the sum of the
// maxima. The guide has so many positions that the dot products take
// several blocks; one case has chosen channels, one a mask, which weighs
// each position's maximum and gradient (a layer's @MASK).
func TestGuidedTermIsTheNotebooks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const c, h, w, m = 5, 30, 40, 3000 // 1200 positions x 3000: 4 blocks
	shape := graph.Shape{1, c, h, w}
	n := h * w
	a := make([]float32, c*n)
	for i := range a {
		a[i] = rng.Float32()*2 - 1
	}
	mask := make([]float32, n)
	for i := range mask {
		mask[i] = rng.Float32()
	}
	for _, tc := range []struct {
		channels []int
		mask     []float32
	}{{nil, nil}, {[]int{3, 1}, nil}, {[]int{3, 1}, mask}} {
		channels := tc.channels
		mv := func(i int) float32 {
			if tc.mask == nil {
				return 1
			}
			return tc.mask[i]
		}
		k := c // the vectors' length
		if channels != nil {
			k = len(channels)
		}
		f := &GuideFeatures{Channels: k, Positions: m, Data: make([]float32, k*m)}
		for i := range f.Data {
			f.Data[i] = rng.Float32()*2 - 1
		}
		x := func(ci, i int) float32 { // element ci of the chosen channels at position i
			if channels != nil {
				return a[channels[ci]*n+i]
			}
			return a[ci*n+i]
		}
		want, wantG := 0.0, make([]float32, c*n)
		for i := range n {
			best, bestDot := 0, math.Inf(-1)
			for j := range m {
				dot := 0.0
				for ci := range k {
					dot += float64(x(ci, i)) * float64(f.Data[ci*m+j])
				}
				if dot > bestDot {
					best, bestDot = j, dot
				}
			}
			want += float64(mv(i)) * bestDot
			for ci := range k {
				ch := ci
				if channels != nil {
					ch = channels[ci]
				}
				wantG[ch*n+i] = -0.5 * mv(i) * f.Data[ci*m+best]
			}
		}
		g := make([]float32, c*n)
		got := f.eval(a, g, shape, channels, -0.5, tc.mask, new(scratch))
		if math.Abs(got-want) > 1e-4*math.Abs(want) {
			t.Errorf("channels %v, mask %t: value %v, want %v", channels, tc.mask != nil, got, want)
		}
		for i := range g {
			if g[i] != wantG[i] {
				t.Fatalf("channels %v, mask %t: gradient[%d] = %v, want %v", channels, tc.mask != nil, i, g[i], wantG[i])
			}
		}
	}
}

// TestGuidedTakesTheGuidesFeatures checks that Guided keeps the guide's
// features at each layer term's channels, the guide scaled so that its
// longer side is the network's size, and leaves class terms as they are.
func TestGuidedTakesTheGuidesFeatures(t *testing.T) {
	n := classNet(t, 0) // size 8
	guide := testImage(32, 16)
	obj, err := n.Resolve(&Request{Layers: []string{"r:2", "c"}, Classes: []string{"goldfish"}})
	if err != nil {
		t.Fatal(err)
	}
	guided, err := n.Guided(context.Background(), obj, guide, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if obj[0].Guide != nil || guided[2].Guide != nil || guided[2].Class == nil {
		t.Fatalf("Guided changed its argument or the class term: %+v", guided)
	}
	p, err := n.Model.Plan(graph.Spec{Inputs: []graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, 4, 8}}}, Targets: []string{"r", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	copy(p.Data(n.Input), n.Preprocess.Tensor(imageio.Resize(guide, 8, 4)))
	if err := p.Forward(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]float32{p.Data("r")[2*32 : 3*32], p.Data("c")} {
		f := guided[i].Guide
		if f == nil || f.Positions != 32 || f.Channels != len(want)/32 || !slices.Equal(f.Data, want) {
			t.Errorf("term %d: guide features %+v, want 8x4 positions of %v", i, f, want)
		}
	}
}

// TestGuideTooSmall refuses a guide that, scaled to the network's size,
// is too narrow for the layers, saying so.
func TestGuideTooSmall(t *testing.T) {
	n := googLeNet(t)
	obj, err := n.Resolve(&Request{Layers: []string{"inception_4c/output_1"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Guided(context.Background(), obj, testImage(2000, 10), graph.Options{})
	if err == nil || err.Error() != "dream: the guide, scaled to 224x1, is too small for the layers: at least 15 pixels on the shorter side (layer inception_4c/output_1)" {
		t.Errorf("a guide too narrow for the layers: %v", err)
	}
}

// TestGuideMovesFeaturesTowardsTheGuide is the guide's acceptance test:
// dog.jpg dreamed at a layer of GoogLeNet, guided by another photo, ends
// with a mean feature vector at that layer closer (by cosine) to the
// guide's than the unguided dream of the same request does, and closer
// than the photo was.
func TestGuideMovesFeaturesTowardsTheGuide(t *testing.T) {
	n := googLeNet(t)
	img, err := imageio.ReadFile(shared.Path(t, "images/dog.jpg"), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ guide, layer string }{
		{"eagle.jpg", "inception_4c/output_1"},
		{"scream.jpg", "inception_3b/output_1"}, // the notebook's guided layer
	} {
		f, err := os.Open(shared.Path(t, "images/"+tc.guide))
		if err != nil {
			t.Fatal(err)
		}
		guide, err := LoadImage(f, 0)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		req := Defaults()
		req.Layers, req.MaxSize, req.Octaves, req.Iterations = []string{tc.layer}, 320, 2, 10
		plain, err := n.Dream(context.Background(), img, req, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Guide, req.Images = tc.guide, map[string]Image{tc.guide: guide}
		guided, err := n.Dream(context.Background(), img, req, nil)
		if err != nil {
			t.Fatal(err)
		}
		b := guide.Image.Bounds()
		gw, gh := guideSize(b.Dx(), b.Dy(), 224)
		target := meanFeatures(t, n, imageio.Resize(guide.Image, gw, gh), tc.layer)
		cos := func(img image.Image) float64 { return cosine(meanFeatures(t, n, img, tc.layer), target) }
		before, unguided, after := cos(imageio.Resize(img, 320, 240)), cos(plain), cos(guided)
		t.Logf("%s at %s: cosine with the guide's mean features: photo %.4f, dream %.4f, guided dream %.4f", tc.guide, tc.layer, before, unguided, after)
		if !(after-before > unguided-before && after > before) {
			t.Errorf("%s at %s: the guided dream's cosine rose from %.4f to %.4f, the unguided's to %.4f", tc.guide, tc.layer, before, after, unguided)
		}
	}
}

// meanFeatures returns the mean over the positions of each channel of
// the layer, for img at its size.
func meanFeatures(t *testing.T, n *Network, img image.Image, layer string) []float64 {
	t.Helper()
	b := img.Bounds()
	p, err := n.Model.Plan(graph.Spec{Inputs: []graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, b.Dy(), b.Dx()}}}, Targets: []string{layer}})
	if err != nil {
		t.Fatal(err)
	}
	copy(p.Data(n.Input), n.Preprocess.Tensor(img))
	if err := p.Forward(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := p.Shape(layer)
	plane := s[2] * s[3]
	v := make([]float64, s[1])
	for c := range v {
		for _, x := range p.Data(layer)[c*plane : (c+1)*plane] {
			v[c] += float64(x) / float64(plane)
		}
	}
	return v
}

func cosine(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}
