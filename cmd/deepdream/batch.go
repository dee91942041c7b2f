package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
)

// batch: every photo of a folder, recursively, dreamed into a folder of
// the same tree; resumable, since each dream records how it was made.

type batchOptions struct {
	dreamOptions
	inDir, outDir string
	format        string // --format: "png" or "jpg" for every dream, "" for each photo's own
	nats, token   string // --nats URL: dream on the workers of that server's queue; --token
	natsCA        string // --nats-ca
}

func newBatchCmd() *cobra.Command {
	o := batchOptions{dreamOptions: dreamOptions{command: "batch", req: dream.Defaults()}}
	cmd := &cobra.Command{
		Use:   "batch IN_DIR -o OUT_DIR [flags]",
		Short: "Dream every photo of a folder, recursively, into a folder of the same tree; resumable",
		Long: `batch dreams every photo under IN_DIR (.png, .jpg, .jpeg, .gif, .webp, in its
subfolders too; other files and hidden ones are left alone) with the same
flags, those of 'deepdream dream', and writes each dream at the same place
under OUT_DIR: IN_DIR/trips/beach.jpg becomes OUT_DIR/trips/beach.jpg. A dream
keeps its photo's format, .png and .jpg as they are, .gif and .webp as .png,
unless --format png or jpg chooses one for all. The model is loaded once.

A photo whose dream is already in OUT_DIR, made with the same parameters, model
and version of deepdream (the record embedded in the dream says so) and newer
than the photo, is not dreamed again: an interrupted batch, run again, goes on
where it stopped. A dream made otherwise is dreamed again; a file in the way
that is not a dream of deepdream is left alone, as an error. --quality, --depth and
--background are not recorded: change them and remove OUT_DIR's dreams to
have them made again.

Each dream is written whole or not at all, so an interrupted batch (Ctrl-C,
or killed) leaves no partial file. A photo that cannot be dreamed (damaged,
over --max-pixels) is named with the reason, and the others are dreamed: the
batch then ends with a summary and exit status 1. The progress counts the steps
of every photo to dream, with the time left.

--nats URL sends the photos to the workers attached to that NATS server (a
studio's: 'deepdream serve' prints its URL, and --token's value beyond
loopback; or a server whose workers wait for a queue, which batch then sets
up), two a worker at a time, and writes their dreams as above: the same bytes a
batch here writes. The model is still loaded here, to check the request and
make the records; the workers find it by its sha256.`,
		Example: `  deepdream batch photos/ -o dreams/ --max-size 1024
  deepdream batch photos/ -o dreams/ --preset dog-slug --format jpg --quality 85
  deepdream batch photos/ -o dreams/ --from best.png   # every photo as best.png was dreamed
  deepdream batch photos/ -o dreams/ --nats nats://studio.lan:4222 --token 5f1c...`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.inDir, o.outDir = args[0], o.out
			o.out = "" // a directory: prepareOptions checks no file -o
			if err := applyFromAndPreset(cmd.Flags(), &o.dreamOptions); err != nil {
				return err
			}
			return runBatch(cmd.Context(), cmd.ErrOrStderr(), &o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", "", "the folder of the dreams, made if missing; required")
	f.StringVar(&o.nats, "nats", "", "dream on the workers attached to the NATS server at `URL` (a studio's, 'deepdream serve' prints it; a cluster's URLs separated by commas) instead of in this process")
	f.StringVar(&o.token, "token", "", "the NATS server's token, as 'deepdream serve' printed it (default: $DEEPDREAM_NATS_TOKEN)")
	f.StringVar(&o.natsCA, "nats-ca", "", natsCAHelp)
	f.StringVar(&o.format, "format", "", "write every dream as `png` or jpg (default: each photo's format, .gif and .webp as .png)")
	o.register(f)
	return cmd
}

// batchPhoto is a photo of a batch and where its dream goes.
type batchPhoto struct {
	in, out string
	rel     string // the photo's path under IN_DIR, which messages name
	// err, if not nil, is why the photo cannot be dreamed, found before
	// any is (another photo's dream has its path).
	err error
}

// check refuses the folders and the flags batch cannot work with, before
// anything is read.
func (o *batchOptions) check() error {
	if o.outDir == "" {
		return usagef("batch: -o OUT_DIR is required")
	}
	st, err := os.Stat(o.inDir)
	switch {
	case err != nil:
		return fmt.Errorf("batch: %w", err)
	case !st.IsDir():
		return usagef("batch: %s is not a folder (dream a photo with 'deepdream dream')", o.inDir)
	}
	if st, err := os.Stat(o.outDir); err == nil && !st.IsDir() {
		return usagef("batch: -o %s is not a folder", o.outDir)
	}
	if samePath(o.inDir, o.outDir) {
		return usagef("batch: -o %s is the folder of the photos: the dreams would be written among them", o.outDir)
	}
	switch o.format {
	case "", "png", "jpg":
	case "jpeg":
		o.format = "jpg"
	default:
		return usagef("batch: --format %s: want png or jpg", o.format)
	}
	if o.depth == 16 && o.format != "png" {
		return usagef("batch: --depth 16: a JPEG has 8 bits a sample; add --format png for 16")
	}
	return nil
}

// scan walks IN_DIR in lexical order and returns its photos, with the
// paths of their dreams, and the number of other files. Hidden files and
// folders, and OUT_DIR when it is inside IN_DIR, are not walked.
func (o *batchOptions) scan() ([]batchPhoto, int, error) {
	var photos []batchPhoto
	others := 0
	claimed := map[string]string{} // dream path -> the photo that has it
	err := filepath.WalkDir(o.inDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("batch: %w", err)
		}
		if path == o.inDir {
			return nil
		}
		hidden := strings.HasPrefix(d.Name(), ".")
		if d.IsDir() {
			if hidden || atomicfile.SameFile(path, o.outDir) {
				return filepath.SkipDir
			}
			return nil
		}
		if hidden || !slices.Contains(imageExts, strings.ToLower(filepath.Ext(path))) {
			if !hidden {
				others++
			}
			return nil
		}
		rel, err := filepath.Rel(o.inDir, path)
		if err != nil {
			return fmt.Errorf("batch: %w", err)
		}
		p := batchPhoto{in: path, rel: rel, out: filepath.Join(o.outDir, o.dreamName(rel))}
		key := strings.ToLower(p.out) // a.PNG and a.png are one file on some systems
		if prev, ok := claimed[key]; ok {
			p.err = fmt.Errorf("its dream %s would be the dream of %s too: rename one, or choose one format with --format", p.out, prev)
		} else {
			claimed[key] = rel
		}
		photos = append(photos, p)
		return nil
	})
	return photos, others, err
}

// dreamName returns the path under OUT_DIR of the dream of the photo at
// rel under IN_DIR: the same, in --format or the photo's own format.
func (o *batchOptions) dreamName(rel string) string {
	ext := filepath.Ext(rel)
	switch {
	case o.format != "":
		ext = "." + o.format
	default:
		if _, err := imageio.FormatFromPath(rel); err != nil { // .gif, .webp
			ext = ".png"
		}
	}
	return strings.TrimSuffix(rel, filepath.Ext(rel)) + ext
}

// done reports whether the dream of p is already written as rec asks:
// its file is a dream newer than the photo, of this record. A file in
// the way that holds no record of deepdream is an error: batch does not
// write over it.
func done(p batchPhoto, rec dream.Record) (bool, error) {
	out, err := os.Stat(p.out)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !out.Mode().IsRegular() {
		return false, fmt.Errorf("%s is in the way of its dream, and is not a file", p.out)
	}
	text, err := imageio.ReadMetadataFile(p.out)
	if err != nil { // dreams are written whole: this is someone else's file
		return false, fmt.Errorf("%s is in the way of its dream, and is not a dream of deepdream (%v): not writing over it", p.out, err)
	}
	var had dream.Record
	if json.Unmarshal([]byte(text), &had) != nil || had.String() != rec.String() {
		return false, nil
	}
	in, err := os.Stat(p.in)
	if err != nil {
		return false, err
	}
	return !out.ModTime().Before(in.ModTime()), nil
}

// photoDreamer dreams the photos of a batch into the bytes of their
// dreams' files: in this process (localDreamer), or on the workers of a
// queue (queueDreamer, --nats). Up to slots photos are dreamed at once,
// each by its own call.
type photoDreamer interface {
	dreamPhoto(ctx context.Context, path string, photo dream.Photo, rec dream.Record, progress func(dream.Progress)) ([]byte, error)
	slots() int
}

// localDreamer dreams with a model loaded in this process, one photo at
// a time: a dream takes every core already.
type localDreamer struct{ lm *loadedModel }

func (l localDreamer) dreamPhoto(ctx context.Context, path string, photo dream.Photo, rec dream.Record, progress func(dream.Progress)) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	file, _, err := l.lm.net.DreamPhoto(ctx, f, photo, rec, progress)
	return file, err
}

func (localDreamer) slots() int { return 1 }

func runBatch(ctx context.Context, stderr io.Writer, o *batchOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	photo, err := o.prepareOptions("", stderr)
	if err != nil {
		return err
	}
	photos, others, err := o.scan()
	if err != nil {
		return err
	}
	if len(photos) == 0 {
		return fmt.Errorf("batch: %s holds no photos (.png, .jpg, .jpeg, .gif, .webp)", o.inDir)
	}
	lm, err := o.loadModel(ctx, stderr, len(o.req.Layers) == 0)
	if err != nil {
		return err
	}
	req := o.req
	obj, err := lm.resolve(&req)
	if err != nil {
		return err
	}
	if o.nats == "" {
		// Dreamed here: --max-memory bounds this process, as dream's.
		if req.MaxMemory, err = o.mem.dreamBudget(lm, req, obj); err != nil {
			return err
		}
	}
	rec := lm.record(req)

	sum := batchSummary{photos: len(photos), others: others}
	var todo []batchPhoto
	for _, p := range photos {
		if p.err == nil {
			var ok bool
			if ok, p.err = done(p, rec); ok {
				sum.skipped++
				continue
			}
		}
		todo = append(todo, p)
	}
	if !o.quiet {
		fmt.Fprintf(stderr, "batch: %s\n", sum.plan(len(todo)))
	}
	var dreamer photoDreamer = localDreamer{lm}
	if o.nats != "" && len(todo) > 0 {
		q, err := dialQueue(ctx, stderr, o, lm, rec)
		if err != nil {
			return err
		}
		defer func() { q.close(ctx.Err() == nil) }()
		dreamer = q
	}
	if err := os.MkdirAll(o.outDir, 0o777); err != nil {
		return fmt.Errorf("batch: %w", err)
	}
	var names []string
	for _, p := range todo {
		names = append(names, p.rel)
	}
	show := newBatchProgress(stderr, o.quiet, names, req.Octaves*req.Iterations)
	defer show.close()
	failed := o.dreamAll(ctx, dreamer, todo, photo, rec, show)
	show.close()
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, p := range todo {
		if failed[i] {
			sum.failed = append(sum.failed, p.rel)
		} else {
			sum.dreamed++
		}
	}
	if len(sum.failed) > 0 {
		return errors.New("batch: " + sum.String())
	}
	if !o.quiet {
		fmt.Fprintf(stderr, "batch: %s\n", sum)
	}
	return nil
}

// dreamAll dreams the photos todo, dreamer.slots() at a time, and says
// which failed; a photo that fails is named on stderr with the reason.
// Once ctx is cancelled no photo starts, and those it stopped are not
// failures.
func (o *batchOptions) dreamAll(ctx context.Context, dreamer photoDreamer, todo []batchPhoto, photo dream.Photo, rec dream.Record, show *batchProgress) []bool {
	failed := make([]bool, len(todo))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(dreamer.slots(), len(todo)) {
		wg.Go(func() {
			for i := range next {
				p := todo[i]
				show.start(i)
				began := time.Now()
				err := p.err
				if err == nil {
					err = o.dreamOne(ctx, dreamer, p, photo, rec, show.reporter(i), show.printf)
				}
				if ctx.Err() != nil {
					continue // interrupted: not the photo's failure
				}
				if err != nil {
					show.printf("deepdream: batch: %s: %v\n", p.in, pixelLimit(err))
				}
				failed[i] = err != nil
				show.end(i, time.Since(began), err == nil)
			}
		})
	}
	for i := range todo {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return failed
}

// dreamOne dreams p and writes its dream, its folder made if missing;
// warn tells what the photo held that its dream does not carry.
func (o *batchOptions) dreamOne(ctx context.Context, dreamer photoDreamer, p batchPhoto, photo dream.Photo, rec dream.Record, progress func(dream.Progress), warn func(string, ...any)) error {
	if err := imageio.CheckOutput(p.in, p.out); err != nil {
		return err
	}
	photo.Format, _ = imageio.FormatFromPath(p.out) // checked just now
	photo.Note = func(note string) { warn("deepdream: warning: %s: %s\n", p.in, note) }
	file, err := dreamer.dreamPhoto(ctx, p.in, photo, rec, progress)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil { // interrupted during the last step: nothing is written
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p.out), 0o777); err != nil {
		return err
	}
	return atomicfile.Write(p.out, func(w io.Writer) error { _, err := w.Write(file); return err })
}

// batchSummary counts what a batch did.
type batchSummary struct {
	photos, others   int
	skipped, dreamed int
	failed           []string // the photos', by their paths under IN_DIR
}

// plan says what the batch is about to do.
func (s batchSummary) plan(todo int) string {
	return fmt.Sprintf("%d photos, %d already dreamed, %d to dream%s", s.photos, s.skipped, todo, s.otherFiles())
}

func (s batchSummary) otherFiles() string {
	if s.others == 0 {
		return ""
	}
	return fmt.Sprintf("; %d other files left alone", s.others)
}

func (s batchSummary) String() string {
	msg := fmt.Sprintf("%d photos: %d dreamed, %d already dreamed", s.photos, s.dreamed, s.skipped)
	if n := len(s.failed); n > 0 {
		msg += fmt.Sprintf(", %d failed (%s)", n, strings.Join(s.failed, ", "))
	}
	return msg + s.otherFiles()
}
