package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/graph"
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
}

func (m *modelFlags) register(fs *pflag.FlagSet) {
	m.fs = fs
	fs.StringVar(&m.name, "model", models.DefaultName, "registry model name (see `deepdream models list`) or ONNX file")
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
	return o, nil
}

func parseTriple(s string) ([3]float32, error) {
	var v [3]float32
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return v, fmt.Errorf("want three comma-separated numbers")
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil {
			return v, fmt.Errorf("%q is not a number", p)
		}
		v[i] = float32(f)
	}
	return v, nil
}

// loadedModel is a resolved, opened model.
type loadedModel struct {
	path  string
	entry *models.Entry // registry entry, or one made for a FILE model
	graph *graph.Model
	net   *dream.Network // the graph with its image input and preprocessing
}

// load resolves the model (downloading a registry model if needed, with
// progress on stderr) and opens it. Notes about assumed preprocessing go to
// stderr too.
func (m *modelFlags) load(ctx context.Context, stderr io.Writer, quiet bool) (*loadedModel, error) {
	dl := newDownloadProgress(stderr)
	opts := models.Options{NoDownload: m.noDownload}
	if !quiet {
		opts.Progress = dl.report
	}
	path, entry, err := models.Resolve(ctx, m.name, opts)
	dl.close()
	if err != nil {
		return nil, err
	}
	if entry == nil {
		o, err := m.override()
		if err != nil {
			return nil, err
		}
		var note string
		entry, note, err = models.FileEntry(path, o)
		if err != nil {
			return nil, err
		}
		if note != "" && !quiet {
			fmt.Fprintln(stderr, "deepdream:", note)
		}
	} else if m.fs.Changed("mean") || m.fs.Changed("std") || m.fs.Changed("scale") || m.fs.Changed("bgr") {
		return nil, usagef("--mean, --std, --scale and --bgr apply to model files; %s has its preprocessing in the registry", entry.Name)
	}
	g, err := graph.Open(path)
	if err != nil {
		return nil, err
	}
	net, err := dream.NewNetwork(g, entry.Preprocess)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &loadedModel{path: path, entry: entry, graph: g, net: net}, nil
}

// tensor maps a layer name the user gave (an alias or a tensor name) to a
// tensor of the model, or explains what exists.
func (l *loadedModel) tensor(name string) (string, error) {
	t := l.entry.Tensor(name)
	if l.graph.Producer(t) != nil {
		return t, nil
	}
	closest := l.graph.Closest(name, 5)
	return "", fmt.Errorf("%s: no layer %q; closest tensor names: %s (deepdream layers --model %s lists them all)",
		l.path, name, strings.Join(closest, ", "), l.entry.Name)
}
