package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/models"
)

// modelFlags are the flags that choose a model and, for a FILE model, its
// preprocessing.
type modelFlags struct {
	name       string
	bgr        bool
	scale      float32
	mean, std  string
	noDownload bool
	fs         *pflag.FlagSet
	// dir, if set, is where a registry model's file is looked for
	// instead of the cache (serve's --models DIR, see defaultFromDir).
	dir string
}

func (m *modelFlags) register(fs *pflag.FlagSet) {
	m.fs = fs
	fs.StringVar(&m.name, "model", models.DefaultName, "the model, `NAME|FILE`: a registry name (deepdream models list shows them) or an ONNX file")
	fs.BoolVar(&m.bgr, "bgr", true, "FILE model: the network wants BGR (false: RGB)")
	fs.Float32Var(&m.scale, "scale", 1, "FILE model: pixel scale (1 for 0..255, 0.00392157 for 0..1)")
	fs.StringVar(&m.mean, "mean", "", "FILE model: per-channel mean in the network's channel order, e.g. 104,117,123")
	fs.StringVar(&m.std, "std", "", "FILE model: per-channel std, e.g. 0.229,0.224,0.225")
	fs.BoolVar(&m.noDownload, "offline", false, "never download a model; use the cache only")
}

// override returns the preprocessing flags the user actually set.
func (m *modelFlags) override() (models.Override, error) {
	var o models.Override
	if m.fs.Changed("bgr") {
		o.BGR = &m.bgr
	}
	if m.fs.Changed("scale") {
		o.Scale = &m.scale
	}
	for _, f := range []struct {
		name, v string
		dst     **[3]float32
	}{{"mean", m.mean, &o.Mean}, {"std", m.std, &o.Std}} {
		if !m.fs.Changed(f.name) {
			continue
		}
		v, err := parseTriple(f.v)
		if err != nil {
			return o, usagef("--%s %q: %v", f.name, f.v, err)
		}
		*f.dst = &v
	}
	if err := o.Validate(); err != nil {
		return o, usageError{err}
	}
	if o != (models.Override{}) && !isFile(m.name) {
		if e, err := models.Lookup(m.name); err == nil {
			return o, usagef("--mean, --std, --scale and --bgr apply to model files; %s has its preprocessing in the registry", e.Name)
		}
	}
	return o, nil
}

// isFile reports whether path names an existing regular file.
func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

func parseTriple(s string) ([3]float32, error) {
	var v [3]float32
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return v, fmt.Errorf("want three comma-separated numbers")
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return v, fmt.Errorf("%q is not a number", p)
		}
		v[i] = float32(f)
	}
	return v, nil
}

// loadedModel is a resolved, opened model.
type loadedModel struct {
	arg   string // the --model value
	path  string
	entry *models.Entry  // registry entry, or one made for a FILE model
	net   *dream.Network // the graph with its image input and profile
}

// use says what a command takes from a model's profile, so that load
// shows only the assumptions that matter to it.
type use struct {
	preprocess   bool // an image goes into the network
	defaultLayer bool // the command dreams the default layer (no --layer)
}

// load resolves the model (downloading a registry model if needed, with
// progress on stderr) and opens it. What had to be assumed about a model
// file (its preprocessing, its default layer) goes to stderr once, where u
// says the command uses it.
func (m *modelFlags) load(ctx context.Context, stderr io.Writer, quiet bool, u use) (*loadedModel, error) {
	o, err := m.override()
	if err != nil {
		return nil, err
	}
	dl := newDownloadProgress(stderr)
	opts := models.Options{NoDownload: m.noDownload, Dir: m.dir}
	if !quiet {
		opts.Progress = dl.report
	}
	path, entry, err := models.Resolve(ctx, m.name, opts)
	dl.close()
	if err != nil {
		return nil, err
	}
	var preNote string
	registry := entry != nil
	if entry == nil {
		if entry, preNote, err = models.FileEntry(path, o); err != nil {
			return nil, err
		}
	}
	net, layerNote, err := entry.Open(path)
	if err != nil {
		if registry { // the right size (Pull checked), so damaged
			return nil, fmt.Errorf("%w\nthe cached file of %s may be damaged: 'deepdream models verify %s' checks it, 'deepdream models pull %s' downloads it again",
				err, entry.Name, entry.Name, entry.Name)
		}
		return nil, err
	}
	for _, n := range []struct {
		text string
		used bool
	}{{preNote, u.preprocess}, {layerNote, u.defaultLayer}} {
		if n.text != "" && n.used && !quiet {
			fmt.Fprintln(stderr, "deepdream:", n.text)
		}
	}
	return &loadedModel{arg: m.name, path: path, entry: entry, net: net}, nil
}

// resolve makes the objective of req on the model (see
// dream.Network.Resolve), pointing at `deepdream layers` when it fails.
func (l *loadedModel) resolve(req *dream.Request) (dream.Objective, error) {
	obj, err := l.net.Resolve(req)
	if ce := (*dream.ClassError)(nil); errors.As(err, &ce) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w (deepdream layers --model %s lists the layers)", err, l.arg)
	}
	return obj, nil
}
