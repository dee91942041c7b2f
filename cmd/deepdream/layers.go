package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

type layersOptions struct {
	model modelFlags
	size  string
	all   bool
}

func newLayersCmd() *cobra.Command {
	var o layersOptions
	cmd := &cobra.Command{
		Use:   "layers [--model M] [--size WxH]",
		Short: "List the tensors a model can dream with, and their shapes",
		Long: `layers lists every dreamable tensor of the model (those with channels and a
spatial extent) with its shape for an input of --size, its channel count and its
friendly name where the model has one. Pass any of the names to dream --layer.`,
		Example: `  deepdream layers
  deepdream layers --model vgg16 --size 1024x768
  deepdream layers --model my.onnx --all`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLayers(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	o.model.register(cmd.Flags())
	cmd.Flags().StringVar(&o.size, "size", "", "input size WxH (default: the model's declared size, or 224x224)")
	cmd.Flags().BoolVar(&o.all, "all", false, "list every tensor, not only the dreamable ones")
	return cmd
}

func parseSize(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	if ok {
		w, err = strconv.Atoi(ws)
		if err == nil {
			h, err = strconv.Atoi(hs)
		}
	}
	if !ok || err != nil || w < 1 || h < 1 {
		return 0, 0, usagef("size %q: want WxH, e.g. 1024x768", s)
	}
	return w, h, nil
}

func runLayers(ctx context.Context, stdout, stderr io.Writer, o layersOptions) error {
	lm, err := o.model.load(ctx, stderr, false)
	if err != nil {
		return err
	}
	net := lm.net
	w, h := lm.entry.InputSize, lm.entry.InputSize
	if w == 0 {
		w, h = 224, 224
	}
	if o.size != "" {
		if w, h, err = parseSize(o.size); err != nil {
			return err
		}
	}
	layers, failed, err := net.Layers(w, h, lm.entry.Aliases)
	if err != nil {
		return fmt.Errorf("%s: %w", lm.path, err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "LAYER\tTENSOR\tSHAPE\tCHANNELS\n")
	for _, l := range layers {
		if !o.all && !l.Dreamable() {
			continue
		}
		name := l.Alias
		if name == "" {
			name = "-"
		}
		ch := "-"
		if len(l.Shape) >= 2 {
			ch = strconv.Itoa(l.Shape[1])
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", name, l.Tensor, l.Shape, ch)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "deepdream: %d tensors cannot be computed at %dx%d (e.g. a classifier made for another size); not listed\n", failed, w, h)
	}
	return nil
}
