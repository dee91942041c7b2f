package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"

	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/models"
)

type classifyOptions struct {
	model     modelFlags
	image     string
	top       int
	maxPixels int
}

func newClassifyCmd() *cobra.Command {
	var o classifyOptions
	cmd := &cobra.Command{
		Use:   "classify [--model NAME|FILE] IMAGE",
		Short: "Print the network's top ImageNet labels for a photo",
		Long: `classify resizes the whole photo to the model's input size (no crop) with the
model's preprocessing (GoogLeNet: 224x224, BGR, mean 104/117/123), runs the full
network and prints the top ImageNet labels, best first, one "label probability"
per line (4 decimals; 3 significant digits below 0.0001, e.g. 3.29e-08). A model
that ends in logits (no Softmax, as PyTorch exports) has the softmax applied to
its output. A model whose output is not the 1000 ImageNet
classes (a feature extractor) has its largest outputs printed as "#INDEX value",
with a note.`,
		Example: `  deepdream classify dog.jpg
  deepdream classify --model ../shared/models/googlenet-bvlc.onnx dog.jpg`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.image = args[0]
			return runClassify(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	o.model.register(f)
	f.IntVar(&o.top, "top", 5, "number of labels to print, at least 1 (more than the model's outputs prints them all)")
	registerMaxPixels(f, &o.maxPixels)
	return cmd
}

func runClassify(ctx context.Context, stdout, stderr io.Writer, o classifyOptions) error {
	if o.top < 1 {
		return usagef("classify: --top %d: want at least 1", o.top)
	}
	if err := checkMaxPixels("classify", o.maxPixels); err != nil {
		return err
	}
	lm, err := o.model.load(ctx, stderr, false, use{preprocess: true})
	if err != nil {
		return err
	}
	m, inName := lm.net.Model, lm.net.Input
	outs := m.Graph.Outputs
	if len(outs) == 0 {
		return fmt.Errorf("%s: model declares no output", lm.path)
	}
	img, err := imageio.ReadFile(o.image, o.maxPixels)
	if err != nil {
		return pixelLimit(err)
	}
	w, h := lm.net.Size()
	x := lm.net.Preprocess.Tensor(imageio.Resize(img, w, h))
	p, err := m.Plan(graph.Spec{
		Inputs:  []graph.InputSpec{{Name: inName, Shape: graph.Shape{1, 3, h, w}}},
		Targets: []string{outs[0].Name},
	})
	if err != nil {
		return fmt.Errorf("%s: %w", lm.path, err)
	}
	copy(p.Data(inName), x)
	if err := p.Forward(ctx); err != nil {
		return err
	}
	probs := p.Data(outs[0].Name)
	// Probabilities in 4 decimals, those below 0.0001 in 3 digits (3.29e-08,
	// not 0.0000: how unlikely a class is counts, for dream --class).
	labels, format, small := models.ImageNetClasses(), "%s %.4f\n", "%s %.3g\n"
	switch {
	case len(probs) != len(labels):
		fmt.Fprintf(stderr, "deepdream: %s: output %q has %d values, not the %d ImageNet classes: its largest values follow, by index\n",
			lm.path, outs[0].Name, len(probs), len(labels))
		labels, format, small = make([]string, len(probs)), "%s %.4g\n", "%s %.4g\n"
		for i := range labels {
			labels[i] = fmt.Sprintf("#%d", i)
		}
	case !endsInSoftmax(m, outs[0].Name):
		probs = softmax(probs)
	}
	idx := make([]int, len(probs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
	for _, i := range idx[:min(o.top, len(idx))] {
		f := format
		if math.Abs(float64(probs[i])) < 0.0001 {
			f = small
		}
		fmt.Fprintf(stdout, f, labels[i], probs[i])
	}
	return nil
}

// endsInSoftmax reports whether tensor is a Softmax's output, maybe
// reshaped on the way: probabilities already, not logits.
func endsInSoftmax(m *graph.Model, tensor string) bool {
	for n := m.Producer(tensor); n != nil && len(n.Inputs) > 0; n = m.Producer(n.Inputs[0]) {
		switch n.OpType {
		case "Softmax":
			return true
		case "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout":
			continue
		}
		return false
	}
	return false
}

// softmax returns exp(x) / sum(exp(x)), computed in float64 from the
// largest value down so that no exp overflows.
func softmax(x []float32) []float32 {
	top := float64(slices.Max(x))
	e := make([]float64, len(x))
	sum := 0.0
	for i, v := range x {
		e[i] = math.Exp(float64(v) - top)
		sum += e[i]
	}
	p := make([]float32, len(x))
	for i := range e {
		p[i] = float32(e[i] / sum)
	}
	return p
}
