package dream

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/shared"
)

// TestStepMovesPixelsAlikeOnEveryModel dreams ../shared's dog at 224x224
// for one octave of the default 10 steps (step 1.5, jitter 32) on BVLC
// GoogLeNet (0..255 input) and on an ImageNet-normalised PyTorch export
// (0..1 input divided by a std of about 0.226), and measures how far a step
// moves the pixels, in levels of 0..255: the step is in pixel units, so
// both move them by 1.5 levels a step on average, less what the clipping to
// 0..255 takes (measured: 1.489 and 1.486 with the AVX-512 kernels, 1.488
// and 1.486 with -tags purego). Applied in input units, as it
// was, the same step moved the second model's pixels by 50 levels a step
// (1.5*255*std, some 86, before clipping) and its dreams were noise.
func TestStepMovesPixelsAlikeOnEveryModel(t *testing.T) {
	photo, err := imageio.ReadFile(shared.Path(t, "images/dog.jpg"), 0)
	if err != nil {
		t.Fatal(err)
	}
	photo = imageio.Resize(photo, 224, 224)
	d := Defaults()
	for _, tc := range []struct {
		name, file, layer string
		pre               Preprocess
	}{
		{"googlenet", "models/googlenet-bvlc.onnx", "inception_4c/output_1", Caffe},
		{"resnet18_op17", "models/zoo/resnet18_op17.onnx", "/layer3/layer3.1/relu_1/Relu_output_0", ImageNet},
	} {
		m, err := graph.Open(shared.Path(t, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		n, err := NewNetwork(m, Profile{Preprocess: tc.pre})
		if err != nil {
			t.Fatal(err)
		}
		s, err := n.NewStepper(224, 224, Objective{{Name: tc.layer}}, graph.Options{}, Tiling{})
		if err != nil {
			t.Fatal(err)
		}
		src := tc.pre.Tensor(photo)
		prev := make([]float32, len(src))
		plane := 224 * 224
		rng := rand.New(rand.NewPCG(1, 2))
		moved := 0.0 // sum of |change| in pixel levels
		for range d.Iterations {
			copy(prev, src)
			ox, oy := rng.IntN(2*d.Jitter+1)-d.Jitter, rng.IntN(2*d.Jitter+1)-d.Jitter
			if _, err := s.Step(context.Background(), src, ox, oy, d.Step); err != nil {
				t.Fatal(err)
			}
			for i := range src {
				c := i / plane
				moved += math.Abs(float64(src[i]-prev[i])) * float64(tc.pre.Std[c]/tc.pre.Scale)
			}
		}
		perStep := moved / float64(d.Iterations*len(src))
		t.Logf("%s: mean |change| per step %.3f levels of 0..255 (step %g)", tc.name, perStep, d.Step)
		if perStep > float64(d.Step)*1.001 || perStep < float64(d.Step)*0.8 {
			t.Errorf("%s: a step moves pixels by %.3f levels on average, want about the step, %g (a little less where 0..255 clips)", tc.name, perStep, d.Step)
		}
	}
}

// TestStepAsBeforeClassesAndGuides checks that the objectives dreams had
// before class and guided terms existed (layers' L2 norms, with weights)
// step bit for bit as they did: the make_step of those days, written out
// below, and Stepper.Step give the same image after every step, on the
// small network and on GoogLeNet with two layers, one of weight -0.5.
func TestStepAsBeforeClassesAndGuides(t *testing.T) {
	type tc struct {
		n    *Network
		obj  Objective
		h, w int
	}
	cases := []tc{
		{tinyNetwork(), Objective{{Name: "r"}}, 30, 40},
		{googLeNet(t), Objective{{Name: "inception_3b/output_1"}, {Name: "inception_4c/output_1", Weight: -0.5}}, 150, 170},
	}
	ctx := context.Background()
	for _, c := range cases {
		s, err := c.n.NewStepper(c.h, c.w, c.obj, graph.Options{}, Tiling{})
		if err != nil {
			t.Fatal(err)
		}
		before, err := c.n.NewStepper(c.h, c.w, c.obj, graph.Options{}, Tiling{})
		if err != nil {
			t.Fatal(err)
		}
		src := c.n.Preprocess.Tensor(testImage(c.w, c.h))
		ref := append([]float32(nil), src...)
		rng := rand.New(rand.NewPCG(3, 4))
		for step := range 3 {
			ox, oy := rng.IntN(65)-32, rng.IntN(65)-32
			if _, err := s.Step(ctx, src, ox, oy, 1.5); err != nil {
				t.Fatal(err)
			}
			if err := before.stepAsBefore(ctx, ref, ox, oy, 1.5); err != nil {
				t.Fatal(err)
			}
			for i := range src {
				if src[i] != ref[i] {
					t.Fatalf("%v: step %d: value %d is %v, was %v", c.obj.Targets(), step, i, src[i], ref[i])
				}
			}
		}
	}
}

// stepAsBefore is Step as it was before class and guided terms: every
// layer's gradient set to Weight*a, whole layers only.
func (s *Stepper) stepAsBefore(ctx context.Context, src []float32, ox, oy int, stepSize float32) error {
	roll(s.plan.Data(s.input), src, s.h, s.w, ox, oy)
	if err := s.plan.Forward(ctx); err != nil {
		return err
	}
	for _, l := range s.obj {
		w := l.Weight
		if w == 0 {
			w = 1
		}
		g := s.plan.Grad(l.Name)
		for i, v := range s.plan.Data(l.Name) {
			g[i] = w * v
		}
	}
	if err := s.plan.Backward(ctx); err != nil {
		return err
	}
	g := s.plan.Grad(s.input)
	mean := float32(sumAbs(g, new([sumBlocks]float64)) / float64(len(g)))
	var scale [3]float32
	for c, u := range s.unit {
		scale[c] = stepSize * u / mean
	}
	updateTasks.For(3*s.h, 8, updateTask{s, src, g, scale, ox, oy})
	return nil
}
