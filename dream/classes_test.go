package dream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/shared"
	"github.com/deepdream-go/deepdream/internal/tinynet"
)

func TestParseClass(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		index int
		name  string
		w     float32
		err   string
	}{
		{"goldfish", -1, "goldfish", 1, ""},
		{"Siberian husky=2.5", -1, "Siberian husky", 2.5, ""},
		{"1", 1, "1", 1, ""},
		{"281=-0.5", 281, "281", -0.5, ""},
		{"=2", 0, "", 0, "no class name or index"},
		{"-3", 0, "", 0, "not a class index"},
		{"tabby=0", 0, "", 0, "leave the class out"},
		{"tabby=x", 0, "", 0, `weight "x" is not a number`},
	} {
		l, err := ParseClass(tc.spec)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseClass(%q) error %v, want one with %q", tc.spec, err, tc.err)
			}
		case err != nil || l.Class == nil || l.Class.Index != tc.index || l.Class.Spec != tc.name || l.Weight != tc.w:
			t.Errorf("ParseClass(%q) = %+v %+v, %v; want index %d, %q, weight %v", tc.spec, l, l.Class, err, tc.index, tc.name, tc.w)
		}
	}
}

// classNet is tinynet's classifier with its class names: side 0 computes
// its scores at any size, side > 0 takes side x side images only (as
// GoogLeNet does at 224x224).
func classNet(t testing.TB, side int) *Network {
	t.Helper()
	n, err := NewNetwork(tinynet.Classifier(side), Profile{Preprocess: Caffe, DefaultLayer: "r", InputSize: cmp.Or(side, 8), Classes: tinynet.Classes})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestClassNames(t *testing.T) {
	n := classNet(t, 0)
	for _, tc := range []struct{ spec, want string }{
		{"goldfish", "goldfish (2)"},
		{"ARCTIC_fox=-1", "Arctic fox (1)"},
		{"  red   Fox ", "red fox (0)"},
		{"arctic", "Arctic fox (1)"}, // whole words of one name
		{"1", "Arctic fox (1)"},
		{"fox", `class "fox": ambiguous: red fox (0), Arctic fox (1); give one of these names, or an index`},
		{"gold", `class "gold": no such class among the model's 3; closest: goldfish (2), red fox (0), Arctic fox (1)`},
		{"3", `class "3": no such class: the classifier has 3, 0 to 2`},
	} {
		req := Request{Classes: []string{tc.spec}}
		obj, err := n.Resolve(&req)
		if err != nil {
			var ce *ClassError
			if !errors.As(err, &ce) || ce.Spec != tc.spec || err.Error() != "dream: "+tc.want {
				t.Errorf("%q: %v, want a *ClassError %q", tc.spec, err, tc.want)
			}
			continue
		}
		if len(obj) != 1 || len(req.Layers) != 0 {
			t.Errorf("%q: objective %+v, layers %v; want the class alone", tc.spec, obj, req.Layers)
			continue
		}
		c := obj[0].Class
		if got := fmt.Sprintf("%s (%d)", c.Label, c.Index); got != tc.want || obj[0].Name != "logits" {
			t.Errorf("%q: %s on %s, want %s on the scores", tc.spec, got, obj[0].Name, tc.want)
		}
	}
	unnamed, err := NewNetwork(tinynet.Classifier(0), Profile{Preprocess: Caffe})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unnamed.Resolve(&Request{Classes: []string{"goldfish"}}); err == nil || !strings.Contains(err.Error(), "give the class by its index, 0 to 2") {
		t.Errorf("a name without a class list: %v", err)
	}
	if _, err := tinyNetwork().Resolve(&Request{Classes: []string{"1"}}); err == nil || !strings.Contains(err.Error(), `class "1": no classifier to dream classes with`) {
		t.Errorf("a class of a network without a classifier: %v", err)
	}
}

// TestClassTerm checks a class term on both kinds of classifier against
// the network's own scores, and its gradient: the class's weights over the
// number of positions, at every position of the pooled map (GoogLeNet's
// kind), or 1 on its score (a network that computes its scores at any
// size); a layer on the same tensor adds its own.
func TestClassTerm(t *testing.T) {
	const side = 6
	img := testImage(side, side)
	for _, pooled := range []bool{false, true} {
		n := classNet(t, map[bool]int{false: 0, true: side}[pooled])
		req := Request{Layers: []string{"r:1=0.5"}, Classes: []string{"goldfish=2", "red fox=-1"}}
		obj, err := n.Resolve(&req)
		if err != nil {
			t.Fatal(err)
		}
		wantTensor := map[bool]string{false: "logits", true: "r"}[pooled]
		if obj[1].Name != wantTensor || obj[2].Name != wantTensor {
			t.Fatalf("pooled %v: the classes read %s and %s, want %s", pooled, obj[1].Name, obj[2].Name, wantTensor)
		}
		p, err := n.Model.Plan(graph.Spec{
			Inputs:   []graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, side, side}, Grad: true}},
			Targets:  append(obj.Targets(), "logits"),
			Backward: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		copy(p.Data(n.Input), n.Preprocess.Tensor(img))
		if err := p.Forward(context.Background()); err != nil {
			t.Fatal(err)
		}
		logits := append([]float32(nil), p.Data("logits")...)
		r := p.Data("r")
		l2 := 0.0
		for _, v := range r[36 : 2*36] {
			l2 += float64(v) * float64(v)
		}
		want := 0.5*l2/2 + 2*float64(logits[2]) - float64(logits[0])
		if got := obj.Seed(p); math.Abs(got-want) > 1e-5*math.Abs(want) {
			t.Errorf("pooled %v: objective %v, want %v from the network's scores %v", pooled, got, want, logits)
		}
		if !pooled {
			if g := p.Grad("logits"); g[0] != -1 || g[1] != 0 || g[2] != 2 {
				t.Errorf("gradient of the scores %v, want [-1 0 2]", g)
			}
			continue
		}
		g := p.Grad("r")
		for ch := range 4 {
			d := (2*tinynet.ClassifierWeights[2*4+ch] - tinynet.ClassifierWeights[ch]) / 36
			for i, v := range g[ch*36 : (ch+1)*36] {
				want := d
				if ch == 1 {
					want += 0.5 * r[36+i]
				}
				if math.Abs(float64(v-want)) > 1e-6 {
					t.Fatalf("gradient of r, channel %d, position %d: %v, want %v", ch, i, v, want)
				}
			}
		}
	}
}

// TestClassesAtAnySize dreams a class with a classifier made for one size
// at other sizes: its score rises, the more as the dream goes on.
func TestClassesAtAnySize(t *testing.T) {
	n := classNet(t, 8)
	for _, size := range [][2]int{{8, 8}, {40, 30}, {13, 21}} {
		req := Defaults()
		req.Classes, req.Octaves, req.Iterations, req.Jitter = []string{"goldfish"}, 1, 5, 2
		var objs []float64
		if _, err := n.Dream(context.Background(), testImage(size[0], size[1]), req, func(p Progress) { objs = append(objs, p.Objective) }); err != nil {
			t.Fatalf("%v: %v", size, err)
		}
		if objs[len(objs)-1] <= objs[0] {
			t.Errorf("%v: the score of goldfish went from %v to %v", size, objs[0], objs[len(objs)-1])
		}
	}
}

// TestStepBalancesClassesAndLayers checks that a class of weight 1 moves
// the image as much as the layers together: the first step of an
// objective with both measures the two gradients, and scales the
// classes' so that its mean absolute value is the layers' times the
// classes' weights.
func TestStepBalancesClassesAndLayers(t *testing.T) {
	n := classNet(t, 0)
	const h, w = 20, 24
	src := n.Preprocess.Tensor(testImage(w, h))
	grad := func(req Request) []float32 { // the input gradient of req's objective
		obj, err := n.Resolve(&req)
		if err != nil {
			t.Fatal(err)
		}
		p, err := n.Model.Plan(graph.Spec{Inputs: []graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, h, w}, Grad: true}}, Targets: obj.Targets(), Backward: true})
		if err != nil {
			t.Fatal(err)
		}
		copy(p.Data(n.Input), src)
		if err := p.Forward(context.Background()); err != nil {
			t.Fatal(err)
		}
		obj.Seed(p)
		if err := p.Backward(context.Background()); err != nil {
			t.Fatal(err)
		}
		return p.Grad(n.Input)
	}
	meanAbs := func(g []float32) float64 { return sumAbs(g, new([sumBlocks]float64)) / float64(len(g)) }
	layers := meanAbs(grad(Request{Layers: []string{"r"}}))
	classes := meanAbs(grad(Request{Classes: []string{"goldfish=0.5"}}))
	obj, err := n.Resolve(&Request{Layers: []string{"r"}, Classes: []string{"goldfish=0.5"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := n.NewStepper(h, w, obj, graph.Options{}, Tiling{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Step(context.Background(), append([]float32(nil), src...), 0, 0, 1); err != nil {
		t.Fatal(err)
	}
	// The classes' gradient at weight 0.5, scaled, is half the layers'.
	if got := float64(s.classScale) * classes; math.Abs(got-0.5*layers) > 1e-4*layers {
		t.Errorf("the classes' gradient is scaled to %v, want half the layers' %v", got, layers)
	}
	// The step's gradient is the sum of the two.
	want := grad(Request{Layers: []string{"r"}})
	c := grad(Request{Classes: []string{"goldfish=0.5"}})
	for i := range want {
		want[i] += s.classScale * c[i]
	}
	got := s.plan.Grad(n.Input)
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5*layers {
			t.Fatalf("gradient[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	scale := s.classScale
	if _, err := s.Step(context.Background(), append([]float32(nil), src...), 0, 0, 1); err != nil || s.classScale != scale {
		t.Errorf("the next step rescaled the classes: %v, %v", s.classScale, err)
	}
}

// TestClassifierMatchesGoogLeNet checks the classifier class terms apply
// on BVLC GoogLeNet, whose scores take 224x224 images only: at 224x224
// its scores are the network's own, loss3/classifier_1, for every class.
func TestClassifierMatchesGoogLeNet(t *testing.T) {
	n := googLeNet(t)
	head, err := n.head()
	if err != nil {
		t.Fatal(err)
	}
	if head.features != "inception_5b/output_1" || head.scores != "loss3/classifier_1" || head.k != 1000 || head.c != 1024 {
		t.Fatalf("classifier %s -> %s, %d x %d; want inception_5b/output_1 -> loss3/classifier_1, 1000 x 1024", head.features, head.scores, head.k, head.c)
	}
	img, err := imageio.ReadFile(shared.Path(t, "images/dog.jpg"), 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := n.Model.Plan(graph.Spec{
		Inputs:  []graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, 224, 224}}},
		Targets: []string{"inception_5b/output_1", "loss3/classifier_1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	copy(p.Data(n.Input), n.Preprocess.Tensor(imageio.Resize(img, 224, 224)))
	if err := p.Forward(context.Background()); err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for k, want := range p.Data("loss3/classifier_1") {
		c := &Class{Index: k, head: head}
		got := c.eval(p.Data(head.features), nil, p.Shape(head.features), 1, nil, 0)
		worst = max(worst, math.Abs(got-float64(want)))
	}
	if worst > 1e-4 {
		t.Errorf("the scores differ from the network's by up to %v", worst)
	}
	t.Logf("1000 scores at 224x224 within %.2g of the network's", worst)
}

// googLeNet returns BVLC GoogLeNet with its class names.
func googLeNet(t testing.TB) *Network {
	t.Helper()
	m, err := graph.Open(shared.GoogLeNet(t))
	if err != nil {
		t.Fatal(err)
	}
	names, err := readLines(shared.Path(t, "models/imagenet-classes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNetwork(m, Profile{Preprocess: Caffe, DefaultLayer: "inception_4c/output_1", InputSize: 224, Classes: names})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// readLines returns the lines of a text file.
func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n"), nil
}

// TestClassesOnZooModels resolves a class on each PyTorch export of
// ../shared/models/zoo (every kind of head: Gemm after GlobalAveragePool or
// ReduceMean, an MLP, a LayerNorm, SqueezeNet's pooled convolution, a
// feature extractor's pooled map): the class term reads the network's own
// scores, and matches PyTorch's at 224x224 within the fixtures' tolerance
// (1e-4 of the largest score); its gradient reaches the image at 251x333.
func TestClassesOnZooModels(t *testing.T) {
	for _, name := range []string{"mobilenet_v3_small", "mobilenet_v3_small_op14", "shufflenet_v2_x0_5", "convnext_mini",
		"convnext_mini_op17", "mnasnet0_5", "resnet18_op17", "squeezenet1_1_op9"} {
		m, err := graph.Open(shared.Path(t, "models/zoo/"+name+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		n, err := NewNetwork(m, Profile{Preprocess: ImageNet})
		if err != nil {
			t.Fatal(err)
		}
		obj, err := n.Resolve(&Request{Classes: []string{"3=2"}})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		fixture := map[string]string{ // the op14 and op17 files have their elders' weights
			"mobilenet_v3_small_op14": "mobilenet_v3_small_op14_pooled.npy", "convnext_mini_op17": "convnext_mini_logits.npy",
		}[name]
		want := readNpy(t, "../models/zoo/"+cmp.Or(fixture, name+"_logits.npy"))
		for _, input := range []string{"dog_input_224.npy", "dog_input_251x333.npy"} {
			x := readNpy(t, "../models/zoo/"+input)
			h, w := 224, 224
			if len(x) != 3*224*224 {
				h, w = 251, 333
			}
			p, err := m.Plan(graph.Spec{Inputs: []graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, h, w}, Grad: true}}, Targets: obj.Targets(), Backward: true})
			if err != nil {
				t.Fatalf("%s at %dx%d: %v", name, w, h, err)
			}
			copy(p.Data(n.Input), x)
			if err := p.Forward(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := obj.Seed(p)
			if err := p.Backward(context.Background()); err != nil {
				t.Fatal(err)
			}
			if g := p.Grad(n.Input); sumAbs(g, new([sumBlocks]float64)) == 0 {
				t.Errorf("%s at %dx%d: no gradient reaches the image", name, w, h)
			}
			if h != 224 {
				continue
			}
			largest := 0.0
			for _, v := range want {
				largest = max(largest, math.Abs(float64(v)))
			}
			if d := math.Abs(got - 2*float64(want[3])); d > 1e-4*largest {
				t.Errorf("%s: class 3 scores %v, PyTorch %v (x2)", name, got/2, want[3])
			}
		}
		t.Logf("%s: the class reads %s", name, obj[0].Name)
	}
}
