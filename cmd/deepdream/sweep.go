package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
)

// sweep: a photo dreamed for every value of one or two dream flags, into
// one labelled contact sheet.

type sweepOptions struct {
	dreamOptions
	vary []string // --vary FLAG=V1,V2,...
	keep string   // --keep DIR
	axes []axis   // the columns', then the rows'
}

// axis is a dream option a sweep varies, and its values as given.
type axis struct {
	field  dream.Field
	values []string
}

func newSweepCmd() *cobra.Command {
	o := sweepOptions{dreamOptions: dreamOptions{command: "sweep", req: dream.Defaults()}}
	cmd := &cobra.Command{
		Use:   "sweep IN -o SHEET --vary FLAG=V1,V2,... [--vary FLAG=V1,V2,...] [--keep DIR] [flags]",
		Short: "Dream a photo for every value of one or two dream flags, side by side in one labelled sheet",
		Long: `sweep dreams the photo IN once for every value of one dream flag, or for every
combination of the values of two, and writes the dreams side by side into one
contact sheet SHEET (.png or .jpg), labelled: the first --vary's values above
the columns, the second's left of the rows. --vary takes any option of the
dream request (--layer, --octaves, --iterations, --step, ...: the flags of
'deepdream dream' that say how to dream) with its values, FLAG=V1,V2,...; every
other flag is as in dream, the same for every dream. A layer value keeps its
channel list (layer=inception_4c/output:1,2,inception_3b/output is two values)
and a value of a repeatable flag (--layer, --class) dreams several joined by +
(layer=inception_3a/output+inception_3b/output, class=goldfish+tench).

Every value is checked against the flag's bounds, and every layer against the
model, before anything is dreamed; the progress counts the steps of the whole
grid. Each cell is as large as the largest dream (a dream of a smaller
--max-size is scaled up to fill it). With --keep DIR each dream is also written
into DIR, named by its place and values (1-layer=inception_3b_output,iterations=10.jpg),
with its own record, which 'deepdream dream --from' reads. The sheet records
the settings its dreams share and the values varied: 'sweep --from SHEET' makes
the sweep again, and 'dream --from SHEET' makes one of its dreams when given
the varied flags. Nothing is written before every dream is done, so an
interrupted sweep writes nothing.`,
		Example: `  deepdream sweep photo.jpg -o layers.jpg --max-size 320 \
      --vary layer=inception_3b/output,inception_4c/output,inception_5b/output --vary iterations=10,20,40
  deepdream sweep photo.jpg -o steps.jpg --preset dog-slug --vary step=0.5,1,2,4 --keep steps/
  deepdream sweep photo.jpg -o mix.png --vary layer=inception_4c/output,inception_4c/output+inception_3b/output=-0.5
  deepdream dream photo.jpg -o one.jpg --from layers.jpg --layer inception_4c/output --iterations 20`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.in = args[0]
			if err := o.setAxes(cmd.Flags()); err != nil {
				return err
			}
			return runSweep(cmd.Context(), cmd.ErrOrStderr(), &o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", "", "the contact sheet (.png, .jpg); required")
	f.StringArrayVar(&o.vary, "vary", nil, "a dream flag and the values to dream it with, `FLAG=V1,V2,...`: the columns; a second --vary: the rows")
	f.StringVar(&o.keep, "keep", "", "also write each dream into `DIR` (made if missing), with its own record")
	o.register(f)
	return cmd
}

// setAxes reads the request's parameters (--from, --preset, the flags)
// and the axes: the --vary flags, or the sweep of --from's sheet.
func (o *sweepOptions) setAxes(fs *pflag.FlagSet) error {
	if o.from != "" {
		if err := applyRecord(fs, &o.dreamOptions); err != nil {
			return err
		}
		if len(o.vary) == 0 {
			axes, err := sheetAxes(o.from)
			if err != nil {
				return err
			}
			if axes == nil {
				return usagef("sweep: --from %s is a dream, not a sweep's sheet: give --vary", o.from)
			}
			o.axes = axes
		}
	}
	if err := applyPreset(fs, &o.dreamOptions); err != nil {
		return err
	}
	for _, v := range o.vary {
		a, err := parseVary(v)
		if err != nil {
			return err
		}
		o.axes = append(o.axes, a)
	}
	switch {
	case len(o.axes) == 0:
		return usagef("sweep: give --vary FLAG=V1,V2,... (the flag to vary and its values)")
	case len(o.axes) > 2:
		return usagef("sweep: %d --vary given: a sheet has columns and rows, so at most 2", len(o.axes))
	case len(o.axes) == 2 && o.axes[0].field.Key == o.axes[1].field.Key:
		return usagef("sweep: --vary %s given twice: give its values in one --vary", o.axes[0].field.Flag)
	}
	for _, a := range o.axes {
		if fs.Changed(a.field.Flag) {
			return usagef("sweep: --%s is given and varied: give it once, with --vary %s=V1,V2,... or alone", a.field.Flag, a.field.Flag)
		}
	}
	return nil
}

// parseVary reads a --vary FLAG=V1,V2,...: any field of the dream
// request, by its flag or its key.
func parseVary(s string) (axis, error) {
	name, list, ok := strings.Cut(s, "=")
	name = strings.TrimLeft(name, "-")
	if !ok || name == "" || list == "" {
		return axis{}, usagef("sweep: --vary %q: want FLAG=V1,V2,... (a dream flag and its values)", s)
	}
	fields := dream.Fields()
	i := slices.IndexFunc(fields, func(f dream.Field) bool { return f.Flag == name || f.Key == name })
	if i < 0 {
		var flags []string
		for _, f := range fields {
			flags = append(flags, f.Flag)
		}
		return axis{}, usagef("sweep: --vary %s: %s is not a dream flag (those are: %s)", s, name, strings.Join(flags, ", "))
	}
	a := axis{field: fields[i], values: splitValues(fields[i], list)}
	for _, v := range a.values {
		if strings.TrimSpace(v) == "" {
			return axis{}, usagef("sweep: --vary %s: an empty value", s)
		}
	}
	return a, nil
}

// splitValues splits a --vary's list of values at its commas, except in
// a layer spec's channel list: a channel number (maybe with a weight)
// after a spec whose channels are not closed by a weight continues it.
func splitValues(f dream.Field, list string) []string {
	parts := strings.Split(list, ",")
	if f.Kind != "layers" {
		return parts
	}
	var values []string
	for _, p := range parts {
		if n := len(values); n > 0 && continuesChannels(values[n-1], p) {
			values[n-1] += "," + p
			continue
		}
		values = append(values, p)
	}
	return values
}

// continuesChannels reports whether p continues the channel list of the
// last layer spec in value.
func continuesChannels(value, p string) bool {
	last := value[strings.LastIndexByte(value, '+')+1:]
	i := strings.LastIndexByte(last, ':')
	if i < 0 || strings.Contains(last[i:], "=") {
		return false
	}
	ch, _, _ := strings.Cut(p, "=")
	_, err := strconv.Atoi(strings.TrimSpace(ch))
	return err == nil
}

// set sets the axis's field of r to its i-th value.
func (a axis) set(r *dream.Request, i int) error {
	v := a.values[i]
	if a.field.Repeat {
		return a.field.Replace(r, strings.Split(v, "+")...)
	}
	return a.field.Replace(r, v)
}

// label is the axis's i-th value as the sheet shows it, FLAG=VALUE.
func (a axis) label(i int) string { return a.field.Flag + "=" + a.values[i] }

// sweepCell is one dream of a sweep.
type sweepCell struct {
	req    dream.Request
	labels []string    // FLAG=VALUE of each axis
	image  image.Image // the dream, once dreamed
	file   []byte      // the dream's file, if kept
}

// cells returns the sweep's dreams in the sheet's reading order, each
// checked against the flags' bounds.
func (o *sweepOptions) cells() ([]sweepCell, error) {
	if err := o.req.Validate(); err != nil {
		return nil, o.optionUsage(err)
	}
	rows := 1
	if len(o.axes) == 2 {
		rows = len(o.axes[1].values)
	}
	var cells []sweepCell
	for r := range rows {
		for c := range o.axes[0].values {
			cell := sweepCell{req: o.req}
			at := []int{c, r}
			for k, a := range o.axes {
				if err := a.set(&cell.req, at[k]); err != nil {
					return nil, varyUsage(a, at[k], err)
				}
				cell.labels = append(cell.labels, a.label(at[k]))
			}
			var oe *dream.OptionError
			if err := cell.req.Validate(); errors.As(err, &oe) {
				if k := slices.IndexFunc(o.axes, func(a axis) bool { return a.field.Key == oe.Key }); k >= 0 {
					return nil, varyUsage(o.axes[k], at[k], err)
				}
				return nil, o.optionUsage(err)
			} else if err != nil {
				return nil, err
			}
			cells = append(cells, cell)
		}
	}
	return cells, nil
}

// loadCellImages loads the images each cell names, as dream loads its
// request's: a varied --mask or --guide, or layers' @MASK, from the
// command line; the shared request's, which prepare loaded, are the
// cell's too.
func (o *sweepOptions) loadCellImages(cells []sweepCell) error {
	varied := func(key string) bool {
		return slices.ContainsFunc(o.axes, func(a axis) bool { return a.field.Key == key })
	}
	for i := range cells {
		req := &cells[i].req
		for _, f := range dream.Fields() { // the shared fields as prepare left them
			if !varied(f.Key) {
				f.Copy(req, &o.req)
			}
		}
		req.Images = o.req.Images
		if err := o.loadImagesOf(req, func(key string) bool { return !varied(key) }, nil); err != nil {
			return err
		}
	}
	return nil
}

// varyUsage names the value of a --vary that err refuses.
func varyUsage(a axis, i int, err error) error {
	var oe *dream.OptionError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	return usagef("sweep: --vary %s: %v", a.label(i), err)
}

func runSweep(ctx context.Context, stderr io.Writer, o *sweepOptions) error {
	cells, err := o.cells()
	if err != nil {
		return err
	}
	photo, err := o.prepare(stderr)
	if err != nil {
		return err
	}
	if err := o.loadCellImages(cells); err != nil {
		return err
	}
	kept, err := o.keptPaths(cells)
	if err != nil {
		return err
	}
	in, err := os.Open(o.in)
	if err != nil {
		return err
	}
	defer in.Close()
	defaultLayer := slices.ContainsFunc(cells, func(c sweepCell) bool { return len(c.req.Layers) == 0 })
	lm, err := o.loadModel(ctx, stderr, defaultLayer)
	if err != nil {
		return err
	}
	objs := make([]dream.Objective, len(cells))
	for i := range cells {
		if objs[i], err = lm.resolve(&cells[i].req); err != nil {
			return err
		}
	}
	shared := o.req // the sheet's record: the settings outside the sweep
	if !slices.ContainsFunc(o.axes, func(a axis) bool { return a.field.Kind == "layers" }) {
		shared.Layers = cells[0].req.Layers
	}

	// The first dream reads the photo through; the others read it again
	// from memory.
	var data bytes.Buffer
	src := io.TeeReader(in, &data)
	show := newSweepProgress(stderr, o.quiet, cells)
	for i := range cells {
		req := cells[i].req
		if req.MaxMemory, err = o.mem.dreamBudget(lm, req, objs[i]); err != nil {
			show.close()
			return err
		}
		file, img, err := lm.net.DreamPhoto(ctx, src, photo, lm.record(req), show.report)
		if err != nil {
			show.close()
			return memoryHint(pixelLimit(err))
		}
		cells[i].image = img
		if kept != nil {
			cells[i].file = file
		}
		src = bytes.NewReader(data.Bytes())
		show.next()
	}
	show.close()
	if err := ctx.Err(); err != nil { // interrupted during the last step: nothing is written
		return err
	}

	sheet, err := o.sheet(cells, photo)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := imageio.Encode(&buf, sheet, photo.Format, imageio.EncodeOptions{Quality: o.quality, Metadata: sheetRecord(lm.record(shared), o.axes)}); err != nil {
		return fmt.Errorf("%s: %w", o.out, err)
	}
	if kept != nil {
		if err := os.Mkdir(o.keep, 0o777); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		for i, path := range kept {
			if err := atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(cells[i].file); return err }); err != nil {
				return err
			}
		}
	}
	return atomicfile.Write(o.out, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err })
}

// sheet draws the dreams in their grid, labelled, on --background.
func (o *sweepOptions) sheet(cells []sweepCell, photo dream.Photo) (image.Image, error) {
	s := imageio.Sheet{Background: photo.Background}
	cols := len(o.axes[0].values)
	for i, c := range cells {
		if i%cols == 0 {
			s.Cells = append(s.Cells, nil)
		}
		s.Cells[len(s.Cells)-1] = append(s.Cells[len(s.Cells)-1], c.image)
	}
	for i := range o.axes[0].values {
		s.ColLabels = append(s.ColLabels, o.axes[0].label(i))
	}
	if len(o.axes) == 2 {
		for i := range o.axes[1].values {
			s.RowLabels = append(s.RowLabels, o.axes[1].label(i))
		}
	}
	return s.Draw()
}

// keptPaths returns where --keep writes each dream, checked as the
// sheet's path is, or nil without --keep. The directory is made when the
// dreams are written, so that an interrupted sweep leaves nothing.
func (o *sweepOptions) keptPaths(cells []sweepCell) ([]string, error) {
	if o.keep == "" {
		return nil, nil
	}
	st, err := os.Stat(o.keep)
	switch {
	case err == nil && !st.IsDir():
		return nil, usagef("sweep: --keep %s is not a directory", o.keep)
	case errors.Is(err, fs.ErrNotExist):
		if err := atomicfile.Check(o.keep); err != nil { // it can be made
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	width := len(strconv.Itoa(len(cells)))
	var paths []string
	for i, c := range cells {
		path := filepath.Join(o.keep, fmt.Sprintf("%0*d-%s%s", width, i+1, fileSafe(strings.Join(c.labels, ",")), filepath.Ext(o.out)))
		if err := imageio.CheckOutput(o.in, path); err != nil {
			return nil, usageError{err}
		}
		if samePath(path, o.out) {
			return nil, usagef("sweep: the dream kept as %s would be written over the sheet -o %s", path, o.out)
		}
		if st != nil {
			if err := atomicfile.Check(path); err != nil {
				return nil, err
			}
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// fileSafe returns s with every character but letters, digits and
// . _ - = + , replaced by _, and at most 100 bytes long.
func fileSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._-=+,", c) >= 0) {
			b[i] = '_'
		}
	}
	return string(b[:min(len(b), 100)])
}

// sheetAxis is an axis as a sheet's record keeps it.
type sheetAxis struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// sheetRecord returns the record a sweep's sheet embeds: the dream record
// of the settings its dreams share, the varied fields at their values
// outside the sweep, and under "sweep" the axes, columns first.
func sheetRecord(rec dream.Record, axes []axis) string {
	var sweep []sheetAxis
	for _, a := range axes {
		sweep = append(sweep, sheetAxis{Key: a.field.Key, Values: a.values})
	}
	b, err := json.Marshal(sweep)
	if err != nil {
		panic(err) // strings
	}
	s := rec.String()
	return s[:len(s)-1] + `,"sweep":` + string(b) + "}"
}

// sheetAxes returns the axes of the sweep whose sheet path is, nil if
// path is a dream.
func sheetAxes(path string) ([]axis, error) {
	text, err := imageio.ReadMetadataFile(path)
	if err != nil {
		return nil, err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &keys); err != nil {
		return nil, fmt.Errorf("%s: the embedded parameters are not a deepdream record: %w", path, err)
	}
	var sweep []sheetAxis
	if v, ok := keys["sweep"]; ok {
		if err := json.Unmarshal(v, &sweep); err != nil {
			return nil, fmt.Errorf("%s: record field sweep: %w", path, err)
		}
	}
	var axes []axis
	fields := dream.Fields()
	for _, s := range sweep {
		i := slices.IndexFunc(fields, func(f dream.Field) bool { return f.Key == s.Key })
		if i < 0 || len(s.Values) == 0 {
			return nil, fmt.Errorf("%s: the sheet's sweep varies %q, which this version of deepdream cannot", path, s.Key)
		}
		axes = append(axes, axis{field: fields[i], values: s.Values})
	}
	return axes, nil
}

// fromSheet refuses --from a sweep's sheet unless the command line
// gives every flag the sweep varied: the record holds the settings the
// dreams share, and those flags choose one of them.
func fromSheet(fs *pflag.FlagSet, o *dreamOptions) error {
	axes, err := sheetAxes(o.from)
	if err != nil {
		return err
	}
	var missing []string
	for _, a := range axes {
		if !fs.Changed(a.field.Flag) {
			missing = append(missing, fmt.Sprintf("--%s (%s)", a.field.Flag, strings.Join(a.values, " or ")))
		}
	}
	if len(missing) > 0 {
		return usagef("%s: --from %s: it is the sheet of a sweep; give %s to choose one of its dreams, or take a dream the sweep kept (--keep DIR)",
			o.command, o.from, strings.Join(missing, " and "))
	}
	return nil
}

// sweepProgress shows a sweep's progress on stderr, counting the steps of
// the whole grid: a bar on a terminal, a line per step otherwise.
type sweepProgress struct {
	w      io.Writer
	quiet  bool
	bar    *progressbar.ProgressBar
	start  time.Time
	labels [][]string // each dream's
	steps  []int      // each dream's, as planned until it starts
	cell   int        // the dream being dreamed
	done   int        // the steps of the dreams before it
}

func newSweepProgress(w io.Writer, quiet bool, cells []sweepCell) *sweepProgress {
	s := &sweepProgress{w: w, quiet: quiet, start: time.Now()}
	for _, c := range cells {
		s.labels = append(s.labels, c.labels)
		s.steps = append(s.steps, c.req.Octaves*c.req.Iterations)
	}
	return s
}

func (s *sweepProgress) report(p dream.Progress) {
	if s.quiet {
		return
	}
	s.steps[s.cell] = p.Steps // less than planned when octaves too small for the network are left out
	total, later := 0, 0
	for i, n := range s.steps {
		total += n
		if i > s.cell {
			later += n
		}
	}
	// The dreams to come are expected to take this one's time per step.
	eta := p.ETA + time.Duration(float64(p.Elapsed+p.ETA)/float64(p.Steps)*float64(later))
	desc := fmt.Sprintf("dream %d/%d %s octave %d/%d step %d/%d", s.cell+1, len(s.steps), strings.Join(s.labels[s.cell], " "),
		p.Octave, p.Octaves, p.Iteration, p.Iterations)
	if writerIsTerminal(s.w) {
		s.bar = stepBar(s.bar, s.w, total)
		s.bar.Describe(fmt.Sprintf("%s  eta %s", desc, eta.Round(time.Second)))
		_ = s.bar.Set(s.done + p.Step)
		return
	}
	fmt.Fprintf(s.w, "%s %dx%d objective %.4g; sweep step %d/%d elapsed %s eta %s\n", desc, p.Width, p.Height, p.Objective,
		s.done+p.Step, total, time.Since(s.start).Round(100*time.Millisecond), eta.Round(100*time.Millisecond))
}

// next moves on to the next dream.
func (s *sweepProgress) next() {
	s.done += s.steps[s.cell]
	s.cell++
}

func (s *sweepProgress) close() {
	if s.bar != nil && !s.bar.IsFinished() {
		_ = s.bar.Exit()
	}
}
