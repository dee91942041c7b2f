package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/deepdream-go/deepdream/dream"
)

// Override holds the preprocessing settings given for a model file, by
// flags or by its sidecar; nil fields are not given.
type Override struct {
	BGR   *bool
	Scale *float32
	Mean  *[3]float32
	Std   *[3]float32
}

// Validate refuses settings that would make the network's input NaN or
// infinite (dream.Preprocess.Check), among those given.
func (o Override) Validate() error {
	p := dream.Preprocess{Scale: 1, Std: [3]float32{1, 1, 1}} // valid where not given
	if o.Scale != nil {
		p.Scale = *o.Scale
	}
	if o.Mean != nil {
		p.Mean = *o.Mean
	}
	if o.Std != nil {
		p.Std = *o.Std
	}
	return p.Check()
}

// Sidecar is the content of MODEL.onnx.json, which tells deepdream how to
// use a model file that is not in the registry:
//
//	{"channel_order": "RGB", "scale": 0.00392156862745098,
//	 "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
//	 "default_layer": "conv4_3", "aliases": {"conv4_3": "vgg0_relu9_fwd"}}
//
// Every field is optional. mean and std are in the model's channel order.
type Sidecar struct {
	Preprocess   Override
	DefaultLayer string
	Aliases      map[string]string
}

// SidecarPath returns the sidecar file of the model file model.
func SidecarPath(model string) string { return model + ".json" }

// ReadSidecar reads the sidecar of the model file model; it returns nil and
// no error when there is none.
func ReadSidecar(model string) (*Sidecar, error) {
	path := SidecarPath(model)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("models: sidecar %s is empty (write {} for no settings, or remove it)", path)
	}
	var j struct {
		ChannelOrder *string           `json:"channel_order"`
		Scale        *float32          `json:"scale"`
		Mean         []float32         `json:"mean"`
		Std          []float32         `json:"std"`
		DefaultLayer string            `json:"default_layer"`
		Aliases      map[string]string `json:"aliases"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a misspelt field would silently change the dream
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("models: sidecar %s: %w", path, err)
	}
	s := &Sidecar{DefaultLayer: j.DefaultLayer, Aliases: j.Aliases}
	s.Preprocess.Scale = j.Scale
	if j.ChannelOrder != nil {
		switch strings.ToUpper(*j.ChannelOrder) {
		case "RGB":
			s.Preprocess.BGR = new(false)
		case "BGR":
			s.Preprocess.BGR = new(true)
		default:
			return nil, fmt.Errorf("models: sidecar %s: channel_order %q, want \"RGB\" or \"BGR\"", path, *j.ChannelOrder)
		}
	}
	for _, f := range []struct {
		name string
		v    []float32
		dst  **[3]float32
	}{{"mean", j.Mean, &s.Preprocess.Mean}, {"std", j.Std, &s.Preprocess.Std}} {
		if f.v == nil {
			continue
		}
		if len(f.v) != 3 {
			return nil, fmt.Errorf("models: sidecar %s: %s has %d values, want 3", path, f.name, len(f.v))
		}
		*f.dst = (*[3]float32)(f.v)
	}
	if err := s.Preprocess.Validate(); err != nil {
		return nil, fmt.Errorf("models: sidecar %s: %w", path, err)
	}
	return s, nil
}

// FileEntry describes the model file model the way the registry describes
// a known model. Each preprocessing setting comes from flags, else from the
// model's sidecar, else from GoogLeNet (Caffe); the default layer and
// aliases come from the sidecar (Open chooses a default layer when it names
// none). The note is empty when flags or the sidecar set all of the
// preprocessing, and otherwise says what was assumed, for the caller to
// show where the preprocessing matters. Size and SHA256 of the result are
// the file's (HashFile), its identity in the records of its dreams; Name
// is its base name.
func FileEntry(model string, flags Override) (e *Entry, note string, err error) {
	if err := flags.Validate(); err != nil {
		return nil, "", fmt.Errorf("models: %s: %w", model, err)
	}
	side, err := ReadSidecar(model)
	if err != nil {
		return nil, "", err
	}
	if side == nil {
		side = &Sidecar{}
	}
	e = &Entry{Name: filepath.Base(model), File: model}
	if e.Size, e.SHA256, err = HashFile(model); err != nil {
		return nil, "", err
	}
	e.DefaultLayer, e.Aliases = side.DefaultLayer, side.Aliases

	var assumed []string
	p, g := &e.Preprocess, registry[0].Preprocess // GoogLeNet's
	if v := pick(flags.BGR, side.Preprocess.BGR); v != nil {
		p.BGR = *v
	} else {
		p.BGR = g.BGR
		assumed = append(assumed, "channel order BGR")
	}
	if v := pick(flags.Scale, side.Preprocess.Scale); v != nil {
		p.Scale = *v
	} else {
		p.Scale = g.Scale
		assumed = append(assumed, fmt.Sprintf("scale %g", p.Scale))
	}
	if v := pick(flags.Mean, side.Preprocess.Mean); v != nil {
		p.Mean = *v
	} else {
		p.Mean = g.Mean
		assumed = append(assumed, fmt.Sprintf("mean %g/%g/%g", p.Mean[0], p.Mean[1], p.Mean[2]))
	}
	if v := pick(flags.Std, side.Preprocess.Std); v != nil {
		p.Std = *v
	} else {
		p.Std = g.Std
		assumed = append(assumed, fmt.Sprintf("std %g/%g/%g", p.Std[0], p.Std[1], p.Std[2]))
	}
	if len(assumed) == 0 {
		return e, "", nil
	}
	return e, fmt.Sprintf("%s: %s not set by flags or %s; assuming GoogLeNet's: %s",
		model, plural(len(assumed), "preprocessing setting"), SidecarPath(model), strings.Join(assumed, ", ")), nil
}

// pick returns the first non-nil of its arguments.
func pick[T any](vs ...*T) *T {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
