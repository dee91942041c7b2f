package graph_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/npy"
	"github.com/deepdream-go/deepdream/internal/shared"
)

// These tests run the small PyTorch exports of ../shared/models/zoo
// (MobileNetV3, ShuffleNetV2, ConvNeXt, MNASNet, ResNet-18, SqueezeNet:
// random weights, opsets 9 to 17) against PyTorch's float64 activations
// and input gradients, with the tolerances of their README, which
// fixtures.json holds in machine-readable form.

// zooFixtures is the part of models/zoo/fixtures.json the tests read.
type zooFixtures struct {
	Models map[string]struct {
		File   string `json:"file"`
		Input  []any  `json:"input"` // [1, 3, "H", "W"] or static sizes
		Probes []struct {
			Module   string  `json:"module"`
			Tensor   string  `json:"tensor"`
			Input    string  `json:"input"`
			Shape    []int   `json:"shape"`
			Obj      float64 `json:"objective"`
			ActTol   float64 `json:"act_tol"`
			GradTol  float64 `json:"grad_tol"` // 0 for outputs: no gradient fixture
			ActFile  string  `json:"act_file"`
			GradFile string  `json:"grad_file"`
		} `json:"probes"`
		AliasShapes map[string][]int  `json:"alias_shapes"`
		Aliases     map[string]string `json:"aliases"`
	} `json:"models"`
}

func loadZooFixtures(t *testing.T) (dir string, f *zooFixtures) {
	path := shared.Path(t, filepath.Join("models", "zoo", "fixtures.json"))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f = &zooFixtures{}
	if err := json.Unmarshal(data, f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(f.Models) < 8 {
		t.Fatalf("%s: %d models, the README lists 8", path, len(f.Models))
	}
	return filepath.Dir(path), f
}

func readNpy(t *testing.T, path string) *npy.Array {
	t.Helper()
	a, err := npy.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestZooMatchesPyTorch plans every zoo model to each fixture tensor, runs
// it forward and, for the tensors with a gradient fixture, backward from
// E = 0.5*sum(a^2), and compares with PyTorch's float64 values: act =
// max|a-b|/max|b| and grad = ||g-h||/||h|| within the README's tolerances.
func TestZooMatchesPyTorch(t *testing.T) {
	dir, fx := loadZooFixtures(t)
	for name, model := range fx.Models {
		t.Run(name, func(t *testing.T) {
			if testing.Short() && name != "resnet18_op17" && name != "mobilenet_v3_small_op14" {
				t.Skip("-short: two of the eight models")
			}
			m, err := graph.Open(filepath.Join(dir, model.File))
			if err != nil {
				t.Fatal(err)
			}
			inName := m.Inputs()[0].Name
			for _, pr := range model.Probes {
				x := readNpy(t, filepath.Join(dir, pr.Input))
				back := pr.GradFile != ""
				p, err := m.Plan(graph.Spec{
					Inputs:   []graph.InputSpec{{Name: inName, Shape: graph.Shape(x.Shape), Grad: back}},
					Targets:  []string{pr.Tensor},
					Backward: back,
				})
				if err != nil {
					t.Fatalf("%s (%s): %v", pr.Module, pr.Tensor, err)
				}
				copy(p.Data(inName), x.Float32s())
				ctx := context.Background()
				if err := p.Forward(ctx); err != nil {
					t.Fatal(err)
				}
				a := p.Data(pr.Tensor)
				want := readNpy(t, filepath.Join(dir, pr.ActFile))
				if got := p.Shape(pr.Tensor); !got.Equal(graph.Shape(want.Shape)) {
					t.Fatalf("%s: shape %v, PyTorch's %v", pr.Module, got, want.Shape)
				}
				act := maxRelError(a, want.Float32s())
				t.Logf("%s %s: act %.3g (tolerance %.0e)", name, pr.Module, act, pr.ActTol)
				if !(act <= pr.ActTol) {
					t.Errorf("%s (%s): act error %.3g, tolerance %.0e", pr.Module, pr.Tensor, act, pr.ActTol)
				}
				if !back {
					continue
				}
				obj := 0.0
				g := p.Grad(pr.Tensor)
				for i, v := range a {
					obj += float64(v) * float64(v) / 2
					g[i] = v
				}
				if d := math.Abs(obj-pr.Obj) / pr.Obj; !(d < 1e-4) {
					t.Errorf("%s: objective %.8g, PyTorch's %.8g (relative %.2g)", pr.Module, obj, pr.Obj, d)
				}
				if err := p.Backward(ctx); err != nil {
					t.Fatal(err)
				}
				grad := l2RelError(p.Grad(inName), readNpy(t, filepath.Join(dir, pr.GradFile)).Float32s())
				t.Logf("%s %s: grad %.3g (tolerance %.0e)", name, pr.Module, grad, pr.GradTol)
				if !(grad <= pr.GradTol) {
					t.Errorf("%s (%s): gradient error %.3g, tolerance %.0e", pr.Module, pr.Tensor, grad, pr.GradTol)
				}
			}
		})
	}
}

// TestZooAliasShapes infers every zoo model's shapes at the fixtures' size
// and checks the tensor behind each sidecar alias against its PyTorch
// module's shape.
func TestZooAliasShapes(t *testing.T) {
	dir, fx := loadZooFixtures(t)
	for name, model := range fx.Models {
		t.Run(name, func(t *testing.T) {
			m, err := graph.Open(filepath.Join(dir, model.File))
			if err != nil {
				t.Fatal(err)
			}
			h, w := 251, 333
			if len(model.Probes) > 0 && model.Probes[0].Input == "dog_input_224.npy" {
				h, w = 224, 224 // the static SqueezeNet export
			}
			shapes, failed, err := m.InferShapes([]graph.InputSpec{{Name: m.Inputs()[0].Name, Shape: graph.Shape{1, 3, h, w}}})
			if err != nil {
				t.Fatal(err)
			}
			for alias, tensor := range model.Aliases {
				got, ok := shapes[tensor]
				if !ok {
					t.Errorf("alias %s -> %s: no shape (%v)", alias, tensor, failed[tensor])
					continue
				}
				if want := graph.Shape(model.AliasShapes[alias]); !got.Equal(want) {
					t.Errorf("alias %s -> %s: shape %v, PyTorch's %v", alias, tensor, got, want)
				}
			}
		})
	}
}

// maxRelError is max|a-b| / max|b|.
func maxRelError(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d, m float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = max(m, math.Abs(float64(b[i])))
	}
	return d / m
}

// l2RelError is ||a-b||_2 / ||b||_2.
func l2RelError(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(num / den)
}

// TestEstimateMemory checks Model.EstimateMemory against what planning
// really lends out of a fresh Memory, to the float, on GoogLeNet and the
// zoo models, forward only and with the backward pass, at two sizes.
func TestEstimateMemory(t *testing.T) {
	dir, fx := loadZooFixtures(t)
	files := []string{shared.GoogLeNet(t)}
	targets := [][]string{{"inception_4c/output_1", "inception_3b/output_1"}}
	for _, model := range fx.Models {
		files = append(files, filepath.Join(dir, model.File))
		targets = append(targets, []string{model.Probes[0].Tensor})
	}
	for i, file := range files {
		m, err := graph.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range [][2]int{{224, 224}, {251, 333}} {
			for _, back := range []bool{false, true} {
				spec := graph.Spec{
					Inputs:   []graph.InputSpec{{Name: m.Inputs()[0].Name, Shape: graph.Shape{1, 3, size[0], size[1]}, Grad: back}},
					Targets:  targets[i],
					Backward: back,
				}
				est, err := m.EstimateMemory(spec)
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				var mem graph.Memory
				spec.Memory = &mem
				if _, err := m.Plan(spec); err != nil {
					t.Fatal(err)
				}
				// The input's gradient is lent with the rest.
				if got := 4 * int64(mem.Size()); est.Lent != got || est.Inputs != int64(3*size[0]*size[1]*4) {
					t.Errorf("%s at %dx%d, backward %v: estimate lends %d bytes and allocates %d for the input, the plan borrowed %d bytes", filepath.Base(file), size[1], size[0], back, est.Lent, est.Inputs, got)
				}
			}
		}
	}
}
