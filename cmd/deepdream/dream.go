package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
)

type dreamOptions struct {
	in, out   string
	model     modelFlags
	layers    []string
	params    dream.Options
	quality   int
	maxPixels int
	quiet     bool
	from      string
}

func newDreamCmd() *cobra.Command {
	o := dreamOptions{params: dream.Defaults()}
	cmd := &cobra.Command{
		Use:   "dream IN -o OUT [flags]",
		Short: "Dream a photo",
		Long: `dream runs DeepDream on the photo IN and writes the dream to OUT (.png or .jpg),
with the parameters embedded in the file. It follows Google's notebook: an octave
pyramid, smallest first; per step a random jitter, forward to the layer, the L2
objective, back to the image, a step divided by the mean absolute gradient.

--layer takes a layer name (an alias such as inception_4c/output, or a tensor name
from 'deepdream layers'), optionally with channels and a weight:
NAME[:CH[,CH...]][=WEIGHT]. Repeat it to dream several layers at once.

The same seed, model, input and flags give the same output on the same build.`,
		Example: `  deepdream dream photo.jpg -o dream.png
  deepdream dream photo.jpg -o dream.png --layer inception_3b/output --iterations 20
  deepdream dream photo.jpg -o dream.jpg --layer inception_4c/output=1 --layer inception_3b/output=0.5
  deepdream dream photo.jpg -o dogs.png --layer inception_4c/output:97 --step 2
  deepdream dream photo.jpg -o again.png --from dream.png   # reuse a dream's parameters`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.in = args[0]
			if o.from != "" {
				if err := applyEmbedded(cmd.Flags(), o.from); err != nil {
					return err
				}
			}
			return runDream(cmd.Context(), cmd.ErrOrStderr(), &o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", "", "output file (.png, .jpg); required")
	o.model.register(f)
	f.StringArrayVar(&o.layers, "layer", nil, "layer to dream, NAME[:CH,...][=WEIGHT], repeatable (default: the model's)")
	f.IntVar(&o.params.Octaves, "octaves", o.params.Octaves, "number of octaves (scales)")
	f.Float64Var(&o.params.OctaveScale, "octave-scale", o.params.OctaveScale, "size ratio between octaves")
	f.IntVar(&o.params.Iterations, "iterations", o.params.Iterations, "gradient steps per octave")
	f.Float32Var(&o.params.Step, "step", o.params.Step, "step size (divided by the mean |gradient|)")
	f.IntVar(&o.params.Jitter, "jitter", o.params.Jitter, "random shift of up to this many pixels per step")
	f.Uint64Var(&o.params.Seed, "seed", 0, "seed of the jitter")
	f.IntVar(&o.params.MaxSize, "max-size", 0, "dream a copy whose longer side is at most this many pixels (0: full size)")
	f.IntVar(&o.maxPixels, "max-pixels", imageio.DefaultMaxPixels, "refuse input images with more pixels than this")
	f.IntVar(&o.quality, "quality", imageio.DefaultQuality, "JPEG quality, 1 to 100")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress output")
	f.StringVar(&o.from, "from", "", "take the parameters embedded in a previous dream (flags given here win)")
	return cmd
}

func runDream(ctx context.Context, stderr io.Writer, o *dreamOptions) error {
	if o.out == "" {
		return usagef("dream: -o OUT is required")
	}
	if o.quality < 1 || o.quality > 100 {
		return usagef("dream: --quality %d is not in 1..100", o.quality)
	}
	if err := imageio.CheckOutput(o.in, o.out); err != nil {
		return usageError{err}
	}
	img, info, err := imageio.ReadFileInfo(o.in, o.maxPixels)
	if err != nil {
		return err
	}
	lm, err := o.model.load(ctx, stderr, o.quiet)
	if err != nil {
		return err
	}
	specs := o.layers
	if len(specs) == 0 {
		specs = []string{lm.entry.DefaultLayer}
	}
	params := o.params
	params.Layers = nil
	for _, s := range specs {
		l, err := dream.ParseLayer(s)
		if err != nil {
			return usageError{err}
		}
		if l.Name, err = lm.tensor(l.Name); err != nil {
			return err
		}
		params.Layers = append(params.Layers, l)
	}
	net := lm.net
	show := newDreamProgress(stderr, o.quiet)
	out, err := net.Dream(ctx, img, params, show.report)
	show.close()
	if err != nil {
		return err
	}
	if info.HasAlpha {
		out = imageio.ApplyAlpha(out, info.Alpha)
	}
	meta, err := json.Marshal(dream.NewRecord(version, lm.entry.Name, lm.entry.SHA256, specs, params))
	if err != nil {
		return err
	}
	return imageio.WriteFile(o.out, out, imageio.EncodeOptions{Quality: o.quality, Metadata: string(meta)})
}

// applyEmbedded sets every flag the user did not give from the parameters
// embedded in a previous dream.
func applyEmbedded(fs *pflag.FlagSet, path string) error {
	text, err := imageio.ReadMetadataFile(path)
	if err != nil {
		return err
	}
	var e dream.Record
	if err := json.Unmarshal([]byte(text), &e); err != nil {
		return fmt.Errorf("%s: the embedded parameters are not a deepdream record: %w", path, err)
	}
	set := func(name, value string) error {
		if fs.Changed(name) {
			return nil
		}
		return fs.Set(name, value)
	}
	for _, kv := range [][2]string{
		{"model", e.Model},
		{"octaves", strconv.Itoa(e.Octaves)},
		{"octave-scale", strconv.FormatFloat(e.OctaveScale, 'g', -1, 64)},
		{"iterations", strconv.Itoa(e.Iterations)},
		{"step", strconv.FormatFloat(float64(e.Step), 'g', -1, 32)},
		{"jitter", strconv.Itoa(e.Jitter)},
		{"seed", strconv.FormatUint(e.Seed, 10)},
		{"max-size", strconv.Itoa(e.MaxSize)},
	} {
		if err := set(kv[0], kv[1]); err != nil {
			return fmt.Errorf("%s: embedded %s: %w", path, kv[0], err)
		}
	}
	if !fs.Changed("layer") {
		for _, l := range e.Layers {
			if err := fs.Set("layer", l); err != nil {
				return err
			}
		}
	}
	return nil
}

// dreamProgress shows the dream's progress on stderr: a bar on a terminal,
// a line per octave and a few per octave otherwise.
type dreamProgress struct {
	w     io.Writer
	quiet bool
	bar   *progressbar.ProgressBar
}

func newDreamProgress(w io.Writer, quiet bool) *dreamProgress {
	d := &dreamProgress{w: w, quiet: quiet}
	return d
}

func (d *dreamProgress) report(p dream.Progress) {
	if d.quiet {
		return
	}
	desc := fmt.Sprintf("octave %d/%d %dx%d step %d/%d", p.Octave, p.Octaves, p.Width, p.Height, p.Iteration, p.Iterations)
	if writerIsTerminal(d.w) {
		if d.bar == nil {
			d.bar = progressbar.NewOptions(p.Steps,
				progressbar.OptionSetWriter(d.w),
				progressbar.OptionSetWidth(30),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(false),
				progressbar.OptionThrottle(50*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(d.w) }),
			)
		}
		d.bar.Describe(fmt.Sprintf("%s  eta %s", desc, p.ETA.Round(time.Second)))
		_ = d.bar.Set(p.Step)
		return
	}
	fmt.Fprintf(d.w, "%s objective %.4g elapsed %s eta %s\n", desc, p.Objective,
		p.Elapsed.Round(100*time.Millisecond), p.ETA.Round(100*time.Millisecond))
}

func (d *dreamProgress) close() {
	if d.bar != nil && !d.bar.IsFinished() {
		_ = d.bar.Exit()
	}
}
