package main

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/models"
)

type classifyOptions struct {
	model, image string
	top          int
	maxPixels    int
}

func newClassifyCmd() *cobra.Command {
	var o classifyOptions
	cmd := &cobra.Command{
		Use:   "classify --model FILE IMAGE",
		Short: "Print the network's top ImageNet labels for a photo",
		Long: `classify resizes the whole photo to 224x224 (GoogLeNet preprocessing: BGR, mean
104/117/123), runs the full network and prints the top labels, best first, one
"label probability" per line.`,
		Example: `  deepdream classify --model googlenet.onnx dog.jpg`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.image = args[0]
			return runClassify(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "ONNX model file")
	f.IntVar(&o.top, "top", 5, "number of labels to print")
	f.IntVar(&o.maxPixels, "max-pixels", imageio.DefaultMaxPixels, "refuse input images with more pixels than this")
	return cmd
}

func runClassify(ctx context.Context, stdout io.Writer, o classifyOptions) error {
	if o.model == "" {
		return usagef("classify: --model is required")
	}
	m, err := graph.Open(o.model)
	if err != nil {
		return err
	}
	inName, err := singleInput(m)
	if err != nil {
		return err
	}
	outs := m.Graph.Outputs
	if len(outs) == 0 {
		return fmt.Errorf("%s: model declares no output", o.model)
	}
	img, err := imageio.ReadFile(o.image, o.maxPixels)
	if err != nil {
		return err
	}
	const size = 224
	x := models.Caffe.Tensor(imageio.Resize(img, size, size))
	p, err := m.Plan(graph.Spec{
		Inputs:  []graph.InputSpec{{Name: inName, Shape: graph.Shape{1, 3, size, size}}},
		Targets: []string{outs[0].Name},
	})
	if err != nil {
		return fmt.Errorf("%s: %w", o.model, err)
	}
	copy(p.Data(inName), x)
	if err := p.Forward(ctx); err != nil {
		return err
	}
	probs := p.Data(outs[0].Name)
	labels := models.ImageNetClasses()
	if len(probs) != len(labels) {
		return fmt.Errorf("%s: output %q has %d values, want %d ImageNet classes", o.model, outs[0].Name, len(probs), len(labels))
	}
	idx := make([]int, len(probs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
	for _, i := range idx[:min(o.top, len(idx))] {
		fmt.Fprintf(stdout, "%s %.4f\n", labels[i], probs[i])
	}
	return nil
}
