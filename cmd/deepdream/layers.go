package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/graph"
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
The model's input and its weights are no layers and are not listed.

Tensors that cannot be computed at that size are counted on stderr, with the
reason: each operator the engine does not support (with its first node and
opset), or the nodes that cannot take the size. layers fails (exit 1) when no
layer at all can be computed: the model cannot be dreamed.`,
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

// maxSide bounds the sides --size takes, as --max-size bounds a dream's.
const maxSide = 16384

// parseSize reads a --size WxH, each side from 1 to maxSide.
func parseSize(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	if ok {
		w, err = strconv.Atoi(ws)
		if err == nil {
			h, err = strconv.Atoi(hs)
		}
	}
	if !ok || err != nil || w < 1 || h < 1 || w > maxSide || h > maxSide {
		return 0, 0, usagef("--size %q: want WxH, each from 1 to %d, e.g. 1024x768", s, maxSide)
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
	dreamable := 0
	for _, l := range list.Layers {
		if l.Dreamable() {
			dreamable++
		} else if !o.all {
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
		fmt.Fprintf(stderr, "deepdream: %s: %d tensors cannot be computed at %dx%d and are not listed:\n", lm.path, list.Failed, w, h)
		for _, line := range failures(lm.net.Model, list.Causes) {
			fmt.Fprintln(stderr, "  "+line)
		}
	}
	if dreamable == 0 {
		return fmt.Errorf("%s: nothing to dream with: no layer with channels and an extent can be computed at %dx%d", lm.path, w, h)
	}
	if _, err := lm.net.Resolve(&dream.Request{}); err != nil {
		fmt.Fprintf(stderr, "deepdream: dreaming without --layer fails: %v\n", err)
	}
	return nil
}

// failures explains where computing a model stops: its unsupported
// operators, one line per operator with its first node and how many there
// are, then the other nodes that fail (at this size) themselves rather
// than because of a node before them.
func failures(m *graph.Model, causes []error) []string {
	var lines []string
	unsupported := map[int]bool{}
	var ops []string
	byOp := map[string][]*graph.NodeError{}
	for _, e := range m.Unsupported() {
		unsupported[e.Index] = true
		key := e.OpType
		if !slices.Contains(ops, key) {
			ops = append(ops, key)
		}
		byOp[key] = append(byOp[key], e)
	}
	for _, op := range ops {
		first := byOp[op][0]
		lines = append(lines, fmt.Sprintf("unsupported operator %s (opset %d): %s, the first node %d (%q)",
			op, first.Opset, plural(len(byOp[op]), "node"), first.Index, first.Name))
	}
	for _, err := range causes {
		var ne *graph.NodeError
		if errors.As(err, &ne) && unsupported[ne.Index] {
			continue
		}
		lines = append(lines, strings.TrimPrefix(err.Error(), "graph: "))
	}
	return lines
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
