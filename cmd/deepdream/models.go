package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/deepdream-go/deepdream/models"
)

func newModelsCmd() *cobra.Command {
	return modelsCmd(models.Options{})
}

// modelsCmd builds the models command over opts (its Entries and Dir let
// tests swap in a fake registry); DEEPDREAM_MODELS is read at run time.
func modelsCmd(opts models.Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List, download, import and verify the known models",
		Long: `models manages the cache of known models: the networks --model accepts by name.
Files are identified by their sha256; the URLs are only places to look.

The cache is $` + models.EnvDir + ` if set, else deepdream/models under the user cache
directory (~/.cache on Linux). On a machine without internet, download the file
elsewhere (models list shows names and files; the error of a failed pull lists
the URLs) and install it with models import.`,
		Example: `  deepdream models list
  deepdream models pull googlenet
  deepdream models import googlenet ~/Downloads/googlenet-7.onnx
  deepdream models verify
  DEEPDREAM_MODELS=/data/models deepdream models path vgg16`,
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List the known models and whether each is cached",
			Args:  exactArgs(0),
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runModelsList(cmd.OutOrStdout(), opts)
			},
		},
		&cobra.Command{
			Use:   "pull NAME...",
			Short: "Download models into the cache (verified against their sha256)",
			Long: `pull downloads each model into the cache, checking it against its sha256 as it
is written. A model already cached is hashed, and downloaded again if it does not
match (a damaged file): the way to repair what verify reports.`,
			Args: minArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				for _, name := range args {
					e, err := lookupModel(&opts, name)
					if err != nil {
						return err
					}
					dl := newDownloadProgress(cmd.ErrOrStderr())
					o := opts
					o.Progress, o.Verify = dl.report, true
					path, err := models.Pull(cmd.Context(), e, o)
					dl.close()
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", e.Name, path)
				}
				return nil
			},
		},
		&cobra.Command{
			Use:   "import NAME FILE",
			Short: "Copy a downloaded model file into the cache, after checking it",
			Long: `import checks that FILE is model NAME's file (size and sha256) and copies it into
the cache atomically: the way to install a model on a machine without internet.`,
			Example: `  deepdream models import googlenet /media/usb/googlenet-7.onnx`,
			Args:    exactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				e, err := lookupModel(&opts, args[0])
				if err != nil {
					return err
				}
				dir, err := opts.CacheDir()
				if err != nil {
					return err
				}
				path, err := models.Import(e, args[1], dir)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: sha256 OK, imported to %s\n", e.Name, path)
				return nil
			},
		},
		&cobra.Command{
			Use:   "verify [NAME...]",
			Short: "Re-hash cached models (all known ones by default)",
			Long: `verify reads each cached model file whole and compares its size and sha256 with
the registry's, printing OK, MISMATCH or missing. It fails if any file mismatches.`,
			RunE: func(cmd *cobra.Command, args []string) error {
				return runModelsVerify(cmd.OutOrStdout(), opts, args)
			},
		},
		&cobra.Command{
			Use:   "path NAME",
			Short: "Print where a model's file lives in the cache (present or not)",
			Args:  exactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				e, err := lookupModel(&opts, args[0])
				if err != nil {
					return err
				}
				dir, err := opts.CacheDir()
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), e.Path(dir))
				return nil
			},
		},
	)
	return cmd
}

// lookupModel is Options.Lookup with an unknown name as a usage error.
func lookupModel(opts *models.Options, name string) (*models.Entry, error) {
	e, err := opts.Lookup(name)
	if err != nil {
		return nil, usageError{err}
	}
	return e, nil
}

func runModelsList(stdout io.Writer, opts models.Options) error {
	dir, err := opts.CacheDir()
	if err != nil {
		return err
	}
	entries := opts.Entries
	if entries == nil {
		entries = models.Registry()
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFILE\tSIZE\tCACHED")
	for _, e := range entries {
		name := e.Name
		if name == models.DefaultName {
			name += " (default)"
		}
		cached := "no"
		if st, err := os.Stat(e.Path(dir)); err == nil {
			cached = "yes"
			if st.Size() != e.Size {
				cached = fmt.Sprintf("wrong size (%d bytes)", st.Size())
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, e.File, megabytes(e.Size), cached)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "cache: %s\n", dir)
	return nil
}

func runModelsVerify(stdout io.Writer, opts models.Options, names []string) error {
	dir, err := opts.CacheDir()
	if err != nil {
		return err
	}
	var entries []models.Entry
	if len(names) == 0 {
		entries = opts.Entries
		if entries == nil {
			entries = models.Registry()
		}
	}
	for _, name := range names {
		e, err := lookupModel(&opts, name)
		if err != nil {
			return err
		}
		entries = append(entries, *e)
	}
	bad := 0
	for _, e := range entries {
		c, err := models.Verify(&e, dir)
		if err != nil {
			return err
		}
		switch c.State {
		case models.Mismatch:
			bad++
			fmt.Fprintf(stdout, "%-12s MISMATCH %s: %d bytes, sha256 %s; want %d bytes, sha256 %s\n",
				e.Name, c.Path, c.Size, c.SHA256, e.Size, e.SHA256)
		default:
			fmt.Fprintf(stdout, "%-12s %-8s %s\n", e.Name, c.State, c.Path)
		}
	}
	if bad > 0 {
		return fmt.Errorf("models: %d cached file(s) do not match the registry; delete them and pull or import again", bad)
	}
	return nil
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// downloadProgress shows model downloads on w: a progress bar when w is a
// terminal, a line per 10% otherwise. Pass report as Options.Progress and
// call close when the download is over, failed or not.
type downloadProgress struct {
	w       io.Writer
	tty     bool
	bar     *progressbar.ProgressBar
	nextPct int64
}

func newDownloadProgress(w io.Writer) *downloadProgress {
	return &downloadProgress{w: w, tty: writerIsTerminal(w)}
}

func (d *downloadProgress) report(p models.DownloadProgress) {
	if p.Done == 0 { // a download starts, perhaps after another URL failed
		d.close()
		fmt.Fprintf(d.w, "downloading %s (%s) from %s\n", p.Entry.Name, megabytes(p.Total), p.URL)
		d.nextPct = 10
		if d.tty {
			d.bar = progressbar.NewOptions64(p.Total,
				progressbar.OptionSetWriter(d.w),
				progressbar.OptionSetDescription(p.Entry.File),
				progressbar.OptionShowBytes(true),
				progressbar.OptionShowTotalBytes(true),
				progressbar.OptionShowCount(),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(d.w) }),
			)
		}
		return
	}
	if d.bar != nil {
		_ = d.bar.Set64(p.Done)
		return
	}
	if pct := p.Done * 100 / max(p.Total, 1); pct >= d.nextPct {
		fmt.Fprintf(d.w, "%s: %d%% (%s of %s)\n", p.Entry.Name, pct, megabytes(p.Done), megabytes(p.Total))
		d.nextPct = pct/10*10 + 10
	}
}

// close ends the bar's line if the download stopped before the end.
func (d *downloadProgress) close() {
	if d.bar != nil && !d.bar.IsFinished() {
		_ = d.bar.Exit()
	}
	d.bar = nil
}

// writerIsTerminal reports whether w is a terminal, where progress may
// redraw a line.
func writerIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// minArgs is cobra.MinimumNArgs with usage-error exit status.
func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MinimumNArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
