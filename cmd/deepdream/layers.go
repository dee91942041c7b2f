package main

import (
	"cmp"
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
friendly name where the model has one. Pass any of the names to dream --layer.
The model's input and its weights are no layers and are not listed.`,
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
	var w, h int
	if o.size != "" {
		var err error
		if w, h, err = parseSize(o.size); err != nil {
			return err
		}
	}
	lm, err := o.model.load(ctx, stderr, false, use{})
	if err != nil {
		return err
	}
	if o.size == "" {
		w, h = lm.net.Size()
	}
	list, err := lm.net.Layers(w, h)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "LAYER\tTENSOR\tSHAPE\tCHANNELS\n")
	for _, l := range list.Layers {
		if !o.all && !l.Dreamable() {
			continue
		}
		ch := "-"
		if len(l.Shape) >= 2 {
			ch = strconv.Itoa(l.Shape[1])
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", cmp.Or(l.Alias, "-"), l.Tensor, l.Shape, ch)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if list.Failed > 0 {
		fmt.Fprintf(stderr, "deepdream: %d tensors cannot be computed at %dx%d (e.g. a classifier made for another size); not listed\n", list.Failed, w, h)
	}
	return nil
}
