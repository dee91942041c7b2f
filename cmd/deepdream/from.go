package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/models"
)

// dream --from: the record embedded in a previous dream as flags.

// applyFromAndPreset reads --from's record, refusing a sweep's sheet
// whose dream the flags do not choose (fromSheet), then --preset: what
// dream, batch, zoom and video do with the command line before they run.
func applyFromAndPreset(fs *pflag.FlagSet, o *dreamOptions) error {
	if o.from != "" {
		if err := applyRecord(fs, o); err != nil {
			return err
		}
		if err := fromSheet(fs, o); err != nil {
			return err
		}
	}
	return applyPreset(fs, o)
}

// applyRecord reads the record of --from and takes every dream parameter
// the command line does not give from it, held to the flags' bounds. The
// model is recordModel's to find, once the output is known to be
// writable.
func applyRecord(fs *pflag.FlagSet, o *dreamOptions) error {
	text, err := imageio.ReadMetadataFile(o.from)
	if err != nil {
		return err
	}
	var rec dream.Record
	if err := json.Unmarshal([]byte(text), &rec); err != nil {
		return fmt.Errorf("%s: the embedded parameters are not a deepdream record: %w", o.from, err)
	}
	o.rec = &rec
	o.fromRecord = map[string]bool{}
	for _, f := range dream.Fields() {
		if !fs.Changed(f.Flag) {
			f.Copy(&o.req, &rec.Request)
			o.fromRecord[f.Key] = true
		}
	}
	// A value out of bounds is named as the record's.
	var oe *dream.OptionError
	if err := o.req.Validate(); errors.As(err, &oe) && !fs.Changed(oe.Flag) {
		return usagef("%s: --from %s: the record's %s is %s: %v", o.command, o.from, oe.Key, oe.Value, oe.Err)
	}
	return nil
}

// recordModel chooses the record's model, unless --model chose one (which
// runDream checks against the record's sha256 once loaded): a registry
// model by its name when the registry's file is the one recorded; a model
// file, or a registry model whose file has changed since, by its sha256,
// among the .onnx files of --models, the dream's directory, the working
// directory and the cache, with the record's preprocessing (its sidecar
// may not have come along). A recorded sha256 that no file has is an
// error: any file of the same name would dream something else. A record
// without a sha256 (before they were kept for model files) names its
// model file by name only, with a warning.
func (o *dreamOptions) recordModel(stderr io.Writer) error {
	rec := o.rec
	if rec.Version != "" && rec.Version != version {
		fmt.Fprintf(stderr, "deepdream: warning: %s was dreamed by deepdream %s, this is %s: the dream may differ\n", o.from, rec.Version, version)
	}
	if o.model.fs.Changed("model") || rec.Model == "" {
		return nil
	}
	if e, err := models.Lookup(rec.Model); err == nil && (rec.ModelSHA256 == "" || rec.ModelSHA256 == e.SHA256) {
		o.model.name = rec.Model
		return nil
	}
	if rec.ModelSHA256 == "" {
		fmt.Fprintf(stderr, "deepdream: warning: %s records no sha256 of its model: using the file %s by its name\n", o.from, rec.Model)
		o.model.name = rec.Model
		return o.recordPreprocess()
	}
	dirs := append([]string(nil), o.modelDirs...)
	dirs = append(dirs, filepath.Dir(o.from), ".")
	if cache, err := models.CacheDir(); err == nil {
		dirs = append(dirs, cache)
	}
	path, err := models.Find(rec.ModelSHA256, rec.Model, dirs)
	if err != nil {
		return fmt.Errorf("%s: --from %s: the dream's model %s (sha256 %s) is not in %v; pass the file with --model FILE, or its directory with --models DIR",
			o.command, o.from, rec.Model, rec.ModelSHA256, dirs)
	}
	o.model.name = path
	return o.recordPreprocess()
}

// recordPreprocess sets the preprocessing flags the command line does not
// give to the record's values, if it has them.
func (o *dreamOptions) recordPreprocess() error {
	p := o.rec.Preprocess
	if p == nil {
		return nil
	}
	triple := func(v [3]float32) string {
		return fmt.Sprintf("%s,%s,%s", num(v[0]), num(v[1]), num(v[2]))
	}
	for _, f := range []struct{ flag, value string }{
		{"bgr", strconv.FormatBool(p.BGR)}, {"scale", num(p.Scale)}, {"mean", triple(p.Mean)}, {"std", triple(p.Std)},
	} {
		if !o.model.fs.Changed(f.flag) {
			if err := o.model.fs.Set(f.flag, f.value); err != nil {
				return fmt.Errorf("%s: --from %s: preprocessing %s %s: %w", o.command, o.from, f.flag, f.value, err)
			}
		}
	}
	return nil
}

// num writes a float32 in the fewest digits that read back the same.
func num(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
