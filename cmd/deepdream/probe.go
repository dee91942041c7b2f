package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
	"github.com/deepdream-go/deepdream/internal/npy"
)

type probeOptions struct {
	model        modelFlags
	input, layer string
	out, grad    string
	maxPixels    int
}

func newProbeCmd() *cobra.Command {
	var o probeOptions
	cmd := &cobra.Command{
		Use:   "probe [--model NAME|FILE] --input X --layer NAME [--out A.npy] [--grad G.npy]",
		Short: "Run a network to one tensor; print its shape and the L2 objective",
		Long: `probe runs the model forward to the layer --layer and prints its shape and the
DeepDream objective 0.5*sum(a^2), the dream's (with channels and a weight if the
layer names them: NAME[:CH,...][=WEIGHT]). --out writes the tensor, --grad the
gradient of the objective with respect to the (preprocessed) input, both as
float32 .npy.

X is an image (preprocessed as the model expects, at the image's own size) or a
.npy float32 NCHW tensor used as the preprocessed input as is.`,
		Example: `  deepdream probe --model googlenet.onnx --input dog.jpg --layer inception_4c/output_1
  deepdream probe --model googlenet.onnx --input x.npy --layer inception_4c/output_1 --out a.npy --grad g.npy`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runProbe(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	o.model.register(f)
	f.StringVar(&o.input, "input", "", "input image or .npy tensor")
	f.StringVar(&o.layer, "layer", "", "layer, as dream's --layer: `NAME[:CH,...][=WEIGHT]`")
	f.StringVar(&o.out, "out", "", "write the tensor's value to this .npy file")
	f.StringVar(&o.grad, "grad", "", "write d(0.5*sum(a^2))/d(input) to this .npy file")
	registerMaxPixels(f, &o.maxPixels)
	return cmd
}

func runProbe(ctx context.Context, stdout, stderr io.Writer, o probeOptions) error {
	for _, req := range []struct{ flag, v string }{{"--input", o.input}, {"--layer", o.layer}} {
		if req.v == "" {
			return usagef("probe: %s is required", req.flag)
		}
	}
	if l, err := dream.ParseLayer(o.layer); err != nil {
		return usagef("probe: --layer %q: %v", o.layer, err)
	} else if l.Mask != "" {
		return usagef("probe: --layer %q: a mask (@%s) is for dream", o.layer, l.Mask)
	}
	if err := checkMaxPixels("probe", o.maxPixels); err != nil {
		return err
	}
	for _, out := range []string{o.out, o.grad} {
		if out == "" {
			continue
		}
		if atomicfile.SameFile(out, o.input) || atomicfile.SameFile(out, o.model.name) {
			return usagef("probe: refusing to write %s over an input file", out)
		}
		if err := atomicfile.Check(out); err != nil {
			return err
		}
	}
	image := !isNpy(o.input)
	lm, err := o.model.load(ctx, stderr, false, use{preprocess: image})
	if err != nil {
		return err
	}
	// The layer is resolved as dream's --layer is: an alias (inception_4c/output)
	// names its tensor, channels and a weight may follow.
	obj, err := lm.resolve(&dream.Request{Layers: []string{o.layer}})
	if err != nil {
		return err
	}
	layer := obj[0].Name
	m, inName := lm.net.Model, lm.net.Input
	x, shape, err := loadInput(o.input, lm.net.Preprocess, o.maxPixels)
	if err != nil {
		return pixelLimit(err)
	}
	p, err := m.Plan(graph.Spec{
		Inputs:   []graph.InputSpec{{Name: inName, Shape: shape, Grad: o.grad != ""}},
		Targets:  obj.Targets(),
		Backward: o.grad != "",
	})
	if err != nil {
		return fmt.Errorf("%s: %w", lm.path, err)
	}
	copy(p.Data(inName), x)
	if err := p.Forward(ctx); err != nil {
		return err
	}
	objective := obj.Value(p)
	if o.grad != "" {
		objective = obj.Seed(p)
	}
	fmt.Fprintf(stdout, "shape %v\nobjective %s\n", p.Shape(layer), strconv.FormatFloat(objective, 'e', 7, 64))
	if o.out != "" {
		if err := writeNpy(o.out, p.Shape(layer), p.Data(layer)); err != nil {
			return err
		}
	}
	if o.grad != "" {
		if err := p.Backward(ctx); err != nil {
			return err
		}
		if err := writeNpy(o.grad, shape, p.Grad(inName)); err != nil {
			return err
		}
	}
	return nil
}

// isNpy reports whether path names a .npy tensor rather than an image.
func isNpy(path string) bool { return strings.EqualFold(filepath.Ext(path), ".npy") }

// loadInput reads an image (preprocessed with pre, at its own size) or a
// .npy tensor (used as is) and returns it with its NCHW shape.
func loadInput(path string, pre dream.Preprocess, maxPixels int) ([]float32, graph.Shape, error) {
	if isNpy(path) {
		a, err := npy.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		if a.F32 == nil {
			return nil, nil, fmt.Errorf("%s: dtype %s, want float32 (NumPy: x.astype(np.float32))", path, a.Dtype())
		}
		if len(a.Shape) != 4 {
			return nil, nil, fmt.Errorf("%s: shape %v, want a 4-dimensional NCHW tensor", path, a.Shape)
		}
		return a.F32, graph.Shape(a.Shape), nil
	}
	img, err := imageio.ReadFile(path, maxPixels)
	if err != nil {
		return nil, nil, err
	}
	b := img.Bounds()
	return pre.Tensor(img), graph.Shape{1, 3, b.Dy(), b.Dx()}, nil
}

func writeNpy(path string, shape graph.Shape, data []float32) error {
	return atomicfile.Write(path, func(w io.Writer) error { return npy.WriteFloat32(w, shape, data) })
}
