package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
)

type dreamOptions struct {
	command   string // "dream" or "sweep", which share these options
	in, out   string
	model     modelFlags
	req       dream.Request
	quality   int
	depth     int // --depth: 8, 16, or 0 for the photo's
	bg        string
	maxPixels int
	mem       memoryFlag // --max-memory
	dryRun    bool       // dream --dry-run
	quiet     bool
	preset    string
	from      string
	modelDirs []string      // --models: where --from looks for the record's model
	imageDirs []string      // --images: where --from looks for the record's images (masks, guide)
	rec       *dream.Record // read from --from
	// fromRecord holds the keys of the request's fields that the record
	// of --from gave (the command line did not).
	fromRecord map[string]bool
	// imageFiles are the files the request's images were read from, by
	// the names the request gives them (batch --nats sends them along).
	imageFiles map[string]string
}

func newDreamCmd() *cobra.Command {
	o := dreamOptions{command: "dream", req: dream.Defaults()}
	cmd := &cobra.Command{
		Use:   "dream IN -o OUT [flags]",
		Short: "Dream a photo",
		Long: `dream runs DeepDream on the photo IN and writes the dream to OUT (.png or .jpg),
with the parameters embedded in the file. It follows Google's notebook: an octave
pyramid, smallest first; per step a random jitter, forward to the layer, the L2
objective, back to the image, a step divided by the mean absolute gradient. The
step is in pixel levels (0..255) on every model, the notebook's on GoogLeNet.

--layer takes a layer name (an alias such as inception_4c/output, or a tensor name
from 'deepdream layers'; an exact tensor name wins), optionally with channels, a
weight and a mask: NAME[:CH[,CH...]][=WEIGHT][@MASK]. Repeat it to dream several
layers at once. A negative weight suppresses what the layer sees. Everything after
the first @ is the mask's file (a grey image: the layer counts where it is white,
not where it is black).

--class dreams towards a class of the model's classifier (ImageNet's 1000 on the
registry's models), by name or index, optionally with a weight: NAME|INDEX[=WEIGHT].
Alone it is the objective; with --layer it is balanced against the layers, weight 1
moving the image as much as the layers together. A negative weight suppresses the
class. --guide IMG dreams, at each position of the layers, the features of the guide
image that match best (the notebook's guided dream).

--mask FILE, a grey image resized to the photo, scales the dream per pixel, at
every octave: white dreams fully, black not at all (those pixels stay as they were).
--keep-colors dreams the luminance only and keeps the photo's colours (Cb, Cr of
YCbCr). --laplacian N normalises the gradient's Laplacian pyramid of N halvings
band by band, --smooth S blurs it with a Gaussian of S pixels: both give smoother,
larger patterns. All are off by default.

A dream's record names its images (masks, guide) by name and sha256, by which --from
finds the files again: in --images DIR, beside the dream or in the working directory.

--preset NAME sets several of these flags at once to a recipe of 'deepdream
presets'; the flags given on the command line win over it, and it wins over the
parameters of --from.

The dream keeps the photo's transparency (in a PNG), its ICC profile and its
EXIF (made true of the dream: orientation 1, its size, no thumbnail). A 16-bit
PNG gives a 16-bit PNG; --depth 8 or 16 chooses (a JPEG has 8 bits).

The same seed, model, input and flags give the same output on the same build.`,
		Example: `  deepdream dream photo.jpg -o dream.png
  deepdream dream photo.jpg -o dream.png --layer inception_3b/output --iterations 20
  deepdream dream photo.jpg -o dream.jpg --layer inception_4c/output=1 --layer inception_3b/output=0.5
  deepdream dream photo.jpg -o dogs.png --layer inception_4c/output:97 --step 2
  deepdream dream photo.jpg -o fish.png --class goldfish --iterations 20
  deepdream dream photo.jpg -o both.png --layer inception_4c/output --class "Siberian husky=0.5"
  deepdream dream photo.jpg -o guided.png --guide flowers.jpg --layer inception_3b/output
  deepdream dream photo.jpg -o slugs.png --preset dog-slug --iterations 30
  deepdream dream photo.jpg -o sky.png --mask sky-mask.png --keep-colors
  deepdream dream photo.jpg -o two.png --layer inception_4c/output@left.png --layer inception_3b/output@right.png
  deepdream dream photo.jpg -o soft.png --laplacian 4 --smooth 1
  deepdream dream photo.jpg -o again.png --from dream.png   # reuse a dream's parameters`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.in = args[0]
			if err := applyFromAndPreset(cmd.Flags(), &o); err != nil {
				return err
			}
			return runDream(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), &o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", "", "output file (.png, .jpg); required unless --dry-run")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the tiling and the memory the dream would take, and dream nothing")
	o.register(f)
	return cmd
}

// register makes the flags dream and sweep share: the model, the dream
// request, the photo's and the output's options, --preset and --from.
func (o *dreamOptions) register(f *pflag.FlagSet) {
	o.registerDream(f)
	o.mem.register(f)
	f.IntVar(&o.quality, "quality", imageio.DefaultQuality, "JPEG quality, 1 to 100")
	f.IntVar(&o.depth, "depth", 0, "bits a sample of a PNG dream: 8, 16, or 0 for the photo's (16 for a 16-bit PNG, else 8); a JPEG has 8")
	f.StringVar(&o.bg, "background", "white", "colour a JPEG dream shows where the photo is transparent: `#RRGGBB`, white, black or grey (a PNG keeps the transparency)")
}

// registerDream makes the flags of every command that dreams (dream,
// sweep, zoom, video): the model, the dream request, --max-pixels,
// --quiet, --preset and --from.
func (o *dreamOptions) registerDream(f *pflag.FlagSet) {
	o.model.register(f)
	registerRequest(f, &o.req)
	registerMaxPixels(f, &o.maxPixels)
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress output")
	f.StringVar(&o.from, "from", "", "take the parameters embedded in a previous `DREAM` (flags given here win), and its model, found by sha256")
	f.StringArrayVar(&o.modelDirs, "models", nil, "a `DIR` where --from looks for the dream's model file by its sha256, repeatable (also looked in: the dream's directory, the working directory, the model cache)")
	f.StringArrayVar(&o.imageDirs, "images", nil, "a `DIR` where --from looks for the dream's images (masks, guide) by their sha256, repeatable (also looked in: the dream's directory, the working directory)")
	registerPreset(f, &o.preset)
}

// registerRequest makes a flag of every field of the dream request.
func registerRequest(fs *pflag.FlagSet, req *dream.Request) {
	for _, f := range dream.Fields() {
		fs.Var(&requestFlag{f, req}, f.Flag, f.Help)
		if f.Kind == "bool" {
			fs.Lookup(f.Flag).NoOptDefVal = "true" // --winograd alone means true
		}
	}
}

// requestFlag is a field of a dream request as a pflag.Value.
type requestFlag struct {
	field dream.Field
	req   *dream.Request
}

func (v *requestFlag) String() string     { return v.field.Get(v.req) }
func (v *requestFlag) Set(s string) error { return v.field.Set(v.req, s) }
func (v *requestFlag) Type() string       { return v.field.Kind }

// optionUsage turns a request's *dream.OptionError into a usage error
// naming its flag.
func (o *dreamOptions) optionUsage(err error) error {
	var oe *dream.OptionError
	if errors.As(err, &oe) {
		return usagef("%s: --%s %s: %v", o.command, oe.Flag, oe.Value, oe.Err)
	}
	return err
}

// prepare checks what can be checked before the model is loaded or the
// photo read (the request's bounds, the output and its options) and finds
// the model of --from's record. It returns how to write the photo's dream.
func (o *dreamOptions) prepare(stderr io.Writer) (dream.Photo, error) {
	format := ""
	if !o.dryRun {
		if o.out == "" {
			return dream.Photo{}, usagef("%s: -o OUT is required", o.command)
		}
		if err := imageio.CheckOutput(o.in, o.out); err != nil {
			return dream.Photo{}, usageError{err}
		}
		format, _ = imageio.FormatFromPath(o.out) // checked just now
	}
	photo, err := o.prepareOptions(format, stderr)
	if err != nil {
		return dream.Photo{}, err
	}
	photo.Name, photo.Note = o.in, warnOnce(stderr, o.in)
	return photo, nil
}

// prepareOptions is prepare's part that does not depend on the photo or
// the output's path, which batch shares: the request's bounds and memory
// budget, the output's options for dreams in format ("png", "jpeg"; ""
// for batch's own format of each photo, or a dry run), the model of
// --from's record, the request's images.
func (o *dreamOptions) prepareOptions(format string, stderr io.Writer) (dream.Photo, error) {
	if err := o.req.Validate(); err != nil {
		return dream.Photo{}, o.optionUsage(err)
	}
	if err := o.mem.resolve(o.command); err != nil {
		return dream.Photo{}, err
	}
	if o.quality < 1 || o.quality > 100 {
		return dream.Photo{}, usagef("%s: --quality %d: want a whole number from 1 to 100", o.command, o.quality)
	}
	if err := checkMaxPixels(o.command, o.maxPixels); err != nil {
		return dream.Photo{}, err
	}
	bg, err := imageio.ParseColor(o.bg)
	if err != nil {
		return dream.Photo{}, usagef("%s: --background: %v", o.command, err)
	}
	depth := o.depth
	switch {
	case depth != 0 && depth != 8 && depth != 16:
		return dream.Photo{}, usagef("%s: --depth %d: want 8 or 16 (or 0: the photo's)", o.command, depth)
	case depth == 16 && format == "jpeg":
		return dream.Photo{}, usagef("%s: --depth 16: a JPEG has 8 bits a sample; write a .png for 16", o.command)
	case depth == 0:
		depth = dream.DepthOfPhoto
	}
	if o.out != "" && !o.dryRun {
		if err := atomicfile.Check(o.out); err != nil {
			return dream.Photo{}, err
		}
	}
	if o.rec != nil {
		if err := o.recordModel(stderr); err != nil {
			return dream.Photo{}, err
		}
	}
	if err := o.loadImages(stderr); err != nil {
		return dream.Photo{}, err
	}
	return dream.Photo{MaxPixels: o.maxPixels, Format: format, Quality: o.quality, Depth: depth, Background: bg}, nil
}

// warnOnce returns a dream.Photo.Note that warns on stderr of what the
// photo held that its dream does not carry, once per note: a sweep reads
// its photo once per dream.
func warnOnce(stderr io.Writer, photo string) func(string) {
	seen := map[string]bool{}
	return func(note string) {
		if !seen[note] {
			seen[note] = true
			fmt.Fprintf(stderr, "deepdream: warning: %s: %s\n", photo, note)
		}
	}
}

// loadModel loads the model, warning when it is not the one --from's
// record names; defaultLayer says whether a dream uses its default layer.
func (o *dreamOptions) loadModel(ctx context.Context, stderr io.Writer, defaultLayer bool) (*loadedModel, error) {
	lm, err := o.model.load(ctx, stderr, o.quiet, use{preprocess: true, defaultLayer: defaultLayer})
	if err != nil {
		return nil, err
	}
	if o.rec != nil && o.rec.ModelSHA256 != "" && lm.entry.SHA256 != o.rec.ModelSHA256 {
		fmt.Fprintf(stderr, "deepdream: warning: %s is not the model %s was dreamed with (sha256 %s, not %s): the dream will differ\n",
			o.model.name, o.from, lm.entry.SHA256, o.rec.ModelSHA256)
	}
	return lm, nil
}

// record returns the record of a dream of req with the model.
func (l *loadedModel) record(req dream.Request) dream.Record {
	return dream.Record{Version: version, Model: l.entry.Name, ModelSHA256: l.entry.SHA256, Preprocess: &l.net.Preprocess, Request: req}
}

func runDream(ctx context.Context, stdout, stderr io.Writer, o *dreamOptions) error {
	photo, err := o.prepare(stderr)
	if err != nil {
		return err
	}
	in, err := os.Open(o.in)
	if err != nil {
		return err
	}
	defer in.Close()
	lm, err := o.loadModel(ctx, stderr, len(o.req.Layers) == 0)
	if err != nil {
		return err
	}
	req := o.req
	obj, err := lm.resolve(&req)
	if err != nil {
		return err
	}
	if req.MaxMemory, err = o.mem.dreamBudget(lm, req, obj); err != nil {
		return err
	}
	if o.dryRun {
		return o.estimate(stdout, lm, req)
	}
	show := newDreamProgress(stderr, o.quiet)
	file, _, err := lm.net.DreamPhoto(ctx, in, photo, lm.record(req), show.report)
	show.close()
	if err != nil {
		return memoryHint(pixelLimit(err))
	}
	if err := ctx.Err(); err != nil { // interrupted during the last step: nothing is written
		return err
	}
	return atomicfile.Write(o.out, func(w io.Writer) error { _, err := w.Write(file); return err })
}

// estimate prints what dreaming the photo would take (--dry-run): its
// tiling and its memory, from its header.
func (o *dreamOptions) estimate(stdout io.Writer, lm *loadedModel, req dream.Request) error {
	w, h, err := photoSize(o.in)
	if err != nil {
		return err
	}
	program := residentBytes()
	e, err := lm.net.Estimate(w, h, req)
	var me *dream.MemoryError
	if err != nil && !errors.As(err, &me) {
		return memoryHint(err)
	}
	printEstimate(stdout, o.in, w, h, e, program, &o.mem)
	return memoryHint(err)
}

// dreamProgress shows the dream's progress on stderr: a bar on a terminal,
// a line per octave and a few per octave otherwise.
type dreamProgress struct {
	w     io.Writer
	quiet bool
	bar   *progressbar.ProgressBar
}

// stepBar returns bar, made on w for steps if nil, else resized to
// steps: the terminal bar of dream's, sweep's, batch's and the motion
// commands' progress.
func stepBar(bar *progressbar.ProgressBar, w io.Writer, steps int) *progressbar.ProgressBar {
	if bar == nil {
		return progressbar.NewOptions(steps,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionThrottle(50*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
	}
	if bar.GetMax() != steps {
		bar.ChangeMax(steps)
	}
	return bar
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
	if p.Tiles > 1 {
		desc = fmt.Sprintf("octave %d/%d %dx%d in %d tiles step %d/%d", p.Octave, p.Octaves, p.Width, p.Height, p.Tiles, p.Iteration, p.Iterations)
	}
	if writerIsTerminal(d.w) {
		d.bar = stepBar(d.bar, d.w, p.Steps)
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
