package dream

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/deepdream-go/deepdream/graph"
)

// Request is one dream: the layers to dream with and the algorithm's
// parameters. The command line, the studio and the record embedded in a
// dream all carry it, and all are made from one table, Fields: a field
// added to Request and to the table is a flag, a studio form field, an
// entry of the studio's /api/config and a key of the record at once.
type Request struct {
	Layers      []string // layer specs NAME[:CH,...][=WEIGHT] (ParseLayer); none: the network's default layer
	Octaves     int      // number of scales, smallest dreamed first
	OctaveScale float64  // size ratio between octaves
	Iterations  int      // gradient steps per octave
	Step        float32  // pixel levels (0..255) a step moves the pixels by on average
	Jitter      int      // random roll of up to this many pixels per step
	Seed        uint64   // seeds the jitter
	MaxSize     int      // if > 0, dream a copy whose longer side is at most this
	// Tile, if > 0, dreams each octave of more than Tile x Tile pixels in
	// windows of at most Tile pixels a side (tile.go), in the memory of a
	// Tile x Tile dream and the image's own; 0 chooses the tile from
	// MaxMemory (Network.Estimate); -1 dreams every octave whole. A
	// tiled dream's record holds the tile it used, never 0; an untiled
	// one, the request's.
	Tile int
	// Winograd lets the engine run 3x3 and 5x5 convolutions by Winograd's
	// transforms (graph.Options.NoWinograd when false).
	Winograd bool
	// Laplacian, if > 0, normalises the gradient's Laplacian pyramid of
	// that many halvings band by band, as the TensorFlow tutorial's
	// lap_normalize does: fine and coarse patterns grow alike.
	Laplacian int
	// Smooth, if > 0, blurs the gradient with a Gaussian of that standard
	// deviation, in pixels of the octave: smoother, larger patterns.
	Smooth float64
	// KeepColors dreams the luminance only (Y of YCbCr, BT.601 as in
	// JPEG): each step moves a pixel's three channels alike, which leaves
	// its Cb and Cr, the photo's colours, as they were.
	KeepColors bool
	// Mask names a grey image, in Images, that scales the step per pixel:
	// white dreams fully, black not at all ("": none). See Images.
	Mask string
	// Classes are class specs NAME|INDEX[=WEIGHT] (ParseClass) to dream
	// towards, or away from with a negative weight, their terms added to
	// the layers'; without layers and guide, they are the objective.
	Classes []string
	// Guide names an image, in Images, that guides the layers' terms
	// (Network.Guided): the notebook's guided dream ("": none).
	Guide string
	// MaxMemory bounds the bytes a dream of Tile 0 takes, beyond the
	// program's own (its model included): the tile is the largest that
	// keeps the estimate within it, up to the one a step gains nothing
	// beyond (Network.Estimate). 0: no bound but that. The machine's and
	// not the dream's, it is not in the table: a record keeps the tile.
	MaxMemory int64
	// Images are the images the request names (Mask, Guide, a layer's
	// @MASK), by name. They are what the options name rather than options, so
	// they are not in the table: the caller loads them (LoadImage), and
	// the Record keeps each one's name and sha256.
	Images map[string]Image
}

// Field is one option of a Request, as Fields describes it.
type Field struct {
	Key   string // JSON key of the record and of /api/config; the studio form's field name
	Flag  string // command-line flag, without dashes
	Label string // the studio form's label
	Help  string // the flag's help
	// Kind says how values are written: "int", "uint" and "float" are one
	// number; "bool" is true or false; "layers" is a layer spec and
	// "classes" a class spec, both repeatable; "image" names an image of
	// Request.Images (a file on the command line, an upload in the
	// studio), "" for none.
	Kind string
	// Repeat says that every value given is kept (Set adds it to the
	// others), not only the last.
	Repeat bool
	// Default is the field's value in Defaults; Min and Max bound a
	// number (Zero, when set, says what 0 means when it lies outside them;
	// Off, when set, that -1 is allowed too and what it means).
	Default   any
	Min, Max  float64
	Zero, Off string
	// Unrecorded, when not nil, is the field's value in a record that
	// lacks it, if not Default: what dreams did before the field existed.
	Unrecorded any

	ptr    func(r *Request) any             // the field of r, for encoding/json
	parse  func(r *Request, s string) error // reads one value into r
	format func(r *Request) string          // the value as parse reads it
	copy   func(dst, src *Request)
	check  func(r *Request) error // bounds
}

// Fields returns the table of a Request's options, in the order a form
// shows them. The dream algorithm reads the Request's fields directly;
// everything that names, shows, reads or writes them goes through this
// table.
func Fields() []Field {
	return []Field{
		specs("layers", "layer", "Layer", "layer to dream, `NAME[:CH,...][=WEIGHT][@MASK]`, repeatable (default: the model's)",
			ParseLayer, func(r *Request) *[]string { return &r.Layers }),
		number("octaves", "octaves", "Octaves", "number of octaves (scales), smallest dreamed first",
			4, 1, 12, "", "", func(r *Request) *int { return &r.Octaves }),
		number("octave_scale", "octave-scale", "Octave scale", "size ratio between octaves",
			1.4, 1, 4, "", "", func(r *Request) *float64 { return &r.OctaveScale }),
		number("iterations", "iterations", "Iterations per octave", "gradient steps per octave",
			10, 1, 500, "", "", func(r *Request) *int { return &r.Iterations }),
		number("step", "step", "Step size (pixel levels)", "step size: pixel levels of 0..255 a step moves the pixels by on average, on every model",
			1.5, 0.01, 100, "", "", func(r *Request) *float32 { return &r.Step }),
		number("jitter", "jitter", "Jitter (pixels)", "random shift of up to this many pixels per step",
			32, 0, 512, "", "", func(r *Request) *int { return &r.Jitter }),
		number("seed", "seed", "Seed", "seed of the jitter",
			0, 0, math.MaxUint64, "", "", func(r *Request) *uint64 { return &r.Seed }),
		number("max_size", "max-size", "Max size (pixels, 0 = full size)", "dream a copy whose longer side is at most this many pixels (0: full size)",
			0, 16, 16384, "full size", "", func(r *Request) *int { return &r.MaxSize }),
		tileField(),
		boolean("winograd", "winograd", "Winograd convolutions",
			"run 3x3 and 5x5 convolutions by Winograd's transforms, 1.5-2x faster; false sums them directly, as PyTorch's CPU convolutions do, for comparisons with it (the results differ by float rounding)",
			true, func(r *Request) *bool { return &r.Winograd }),
		number("laplacian", "laplacian", "Laplacian levels (0 = off)", "normalise the gradient's Laplacian pyramid of this many halvings band by band, as the TensorFlow tutorial's lap_normalize (4 there): fine and coarse patterns grow alike (0: off)",
			0, 0, 8, "", "", func(r *Request) *int { return &r.Laplacian }),
		number("smooth", "smooth", "Smooth (pixels, 0 = off)", "blur the gradient with a Gaussian of this standard deviation, in pixels of each octave: smoother, larger patterns (0: off)",
			0, 0, 10, "", "", func(r *Request) *float64 { return &r.Smooth }),
		boolean("keep_colors", "keep-colors", "Keep colours",
			"dream the luminance only (Y of YCbCr): each step moves a pixel's red, green and blue alike, so the photo keeps its colours (Cb, Cr)",
			false, func(r *Request) *bool { return &r.KeepColors }),
		imageName("mask", "mask", "Mask (grey image)",
			"a grey image `FILE`, resized to the photo, that scales the dream per pixel: white dreams fully, black not at all, at every octave",
			func(r *Request) *string { return &r.Mask }),
		specs("classes", "class", "Classes",
			"class to dream towards, `NAME|INDEX[=WEIGHT]`, repeatable: a class of the model's classifier by name (case aside, or whole words of one name: husky) or index (0 to 999 on ImageNet models); a negative weight suppresses it. Alone, the classes are the objective; with --layer, a class of weight 1 moves the image as much as the layers",
			ParseClass, func(r *Request) *[]string { return &r.Classes }),
		imageName("guide", "guide", "Guide image",
			"guide image `FILE`: at each position of the layers (default: the model's), dream the guide's features that match best, the notebook's guided dream",
			func(r *Request) *string { return &r.Guide }),
	}
}

// specs makes the table entry of a repeatable spec: Set adds a value to
// the others; parse checks a spec's syntax.
func specs(key, flag, label, help string, parse func(string) (Layer, error), ptr func(*Request) *[]string) Field {
	return Field{
		Key: key, Flag: flag, Label: label, Kind: key, Repeat: true, Default: []string(nil), Help: help,
		ptr:    func(r *Request) any { return ptr(r) },
		parse:  func(r *Request, s string) error { *ptr(r) = append(*ptr(r), s); return nil },
		format: func(r *Request) string { return strings.Join(*ptr(r), ",") },
		copy:   func(dst, src *Request) { *ptr(dst) = slices.Clone(*ptr(src)) },
		check: func(r *Request) error {
			for _, s := range *ptr(r) {
				if _, err := parse(s); err != nil {
					return &OptionError{Key: key, Flag: flag, Value: s, Err: err}
				}
			}
			return nil
		},
	}
}

// imageName makes the table entry of a field that names an image of
// Request.Images ("" for none): Set names it, the caller loads it.
func imageName(key, flag, label, help string, ptr func(*Request) *string) Field {
	return Field{
		Key: key, Flag: flag, Label: label, Help: help, Kind: "image", Default: "",
		ptr:    func(r *Request) any { return ptr(r) },
		parse:  func(r *Request, s string) error { *ptr(r) = s; return nil },
		format: func(r *Request) string { return *ptr(r) },
		copy:   func(dst, src *Request) { *ptr(dst) = *ptr(src) },
		check:  func(*Request) error { return nil },
	}
}

// boolean makes the table entry of a yes/no field.
func boolean(key, flag, label, help string, def bool, ptr func(*Request) *bool) Field {
	return Field{
		Key: key, Flag: flag, Label: label, Help: help, Kind: "bool", Default: def,
		ptr:    func(r *Request) any { return ptr(r) },
		format: func(r *Request) string { return strconv.FormatBool(*ptr(r)) },
		copy:   func(dst, src *Request) { *ptr(dst) = *ptr(src) },
		parse: func(r *Request, s string) error {
			v, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				return &OptionError{Key: key, Flag: flag, Value: s, Err: errors.New("want true or false")}
			}
			*ptr(r) = v
			return nil
		},
		check: func(*Request) error { return nil },
	}
}

// tileField makes the table entry of Request.Tile: 0 chooses, -1 never
// tiles; a record from before tiles existed dreamed whole (-1).
func tileField() Field {
	f := number("tile", "tile", "Tile (pixels, 0 = automatic)",
		"dream an octave larger than TILE x TILE pixels in overlapping tiles of at most that side, in the memory a TILE x TILE dream takes (0: the largest that --max-memory allows, up to the size beyond which a step gains nothing; -1: never, every octave whole)",
		0, minTile, 16384, "automatic", "never", func(r *Request) *int { return &r.Tile })
	f.Unrecorded = -1
	return f
}

// number makes the table entry of a numeric field, bounded by [lo, hi];
// zero, if not "", says what 0 means when it is outside the bounds, and
// off, if not "", allows -1 too and says what it means.
func number[T int | uint64 | float64 | float32](key, flag, label, help string, def, lo, hi T, zero, off string, ptr func(*Request) *T) Field {
	kind, want := "float", fmt.Sprintf("want a number from %v to %v", lo, hi)
	switch any(def).(type) {
	case int:
		kind, want = "int", fmt.Sprintf("want a whole number from %v to %v", lo, hi)
	case uint64:
		kind, want = "uint", fmt.Sprintf("want a whole number from %v to %v", lo, hi)
	}
	switch {
	case zero != "" && off != "":
		want = fmt.Sprintf("want 0 (%s), -1 (%s) or a whole number from %v to %v", zero, off, lo, hi)
	case zero != "":
		want = fmt.Sprintf("want 0 (%s) or a whole number from %v to %v", zero, lo, hi)
	}
	return Field{
		Key: key, Flag: flag, Label: label, Help: help, Kind: kind,
		Default: def, Min: decimal(lo), Max: decimal(hi), Zero: zero, Off: off,
		ptr:    func(r *Request) any { return ptr(r) },
		format: func(r *Request) string { return formatNumber(*ptr(r)) },
		copy:   func(dst, src *Request) { *ptr(dst) = *ptr(src) },
		parse: func(r *Request, s string) error {
			v, err := parseNumber[T](strings.TrimSpace(s))
			if err != nil {
				return &OptionError{Key: key, Flag: flag, Value: s, Err: errors.New(want)}
			}
			*ptr(r) = v
			return nil
		},
		check: func(r *Request) error {
			if v := *ptr(r); !(v >= lo && v <= hi) && (zero == "" || v != 0) && (off == "" || float64(v) != -1) { // NaN is out
				return &OptionError{Key: key, Flag: flag, Value: fmt.Sprint(v), Err: errors.New(want)}
			}
			return nil
		},
	}
}

// formatNumber writes v as parseNumber reads it, in the fewest digits.
func formatNumber[T int | uint64 | float64 | float32](v T) string {
	switch v := any(v).(type) {
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// decimal returns v as the float64 nearest its shortest decimal form:
// float32(0.01) is 0.01, not 0.009999999776482582.
func decimal[T int | uint64 | float64 | float32](v T) float64 {
	f, _ := strconv.ParseFloat(fmt.Sprint(v), 64)
	return f
}

// parseNumber reads a decimal number of type T.
func parseNumber[T int | uint64 | float64 | float32](s string) (T, error) {
	var v T
	var err error
	switch p := any(&v).(type) {
	case *int:
		*p, err = strconv.Atoi(s)
	case *uint64:
		*p, err = strconv.ParseUint(s, 10, 64)
	case *float64:
		*p, err = parseFloat(s, 64)
	case *float32:
		var f float64
		f, err = parseFloat(s, 32)
		*p = float32(f)
	}
	return v, err
}

// parseFloat is strconv.ParseFloat refusing NaN and the infinities.
func parseFloat(s string, bits int) (float64, error) {
	f, err := strconv.ParseFloat(s, bits)
	if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
		err = errors.New("not a finite number")
	}
	return f, err
}

// engine returns the engine options the request asks for.
func (r *Request) engine() graph.Options { return graph.Options{NoWinograd: !r.Winograd} }

// Defaults returns the request of the original notebook's parameters: 4
// octaves of 10 steps of 1.5, scale 1.4, jitter 32, no layer (the
// network's default).
func Defaults() Request {
	var r Request
	for _, f := range Fields() {
		reflect.ValueOf(f.ptr(&r)).Elem().Set(reflect.ValueOf(f.Default)) // of the field's type: see number
	}
	return r
}

// Set reads one value of the field into r, as a flag or a form field
// gives it: a number replaces the field, a layer or class spec is added
// to the others (Repeat), an image's name replaces the field ("" for
// none; its image is the caller's to load into Images). Bounds are
// checked by Validate, once every value is in.
func (f *Field) Set(r *Request, s string) error { return f.parse(r, s) }

// Get returns the field of r as text, the way Set reads it (the specs of
// "layers" and "classes" joined by commas).
func (f *Field) Get(r *Request) string { return f.format(r) }

// Value returns the field's value in r (an int, uint64, float64, float32,
// bool, string or []string).
func (f *Field) Value(r *Request) any { return reflect.ValueOf(f.ptr(r)).Elem().Interface() }

// Copy sets the field of dst to its value in src.
func (f *Field) Copy(dst, src *Request) { f.copy(dst, src) }

// OptionError is a Request field with a value it cannot take.
type OptionError struct {
	Key, Flag string // the field's names (Field.Key, Field.Flag)
	Value     string // the value, as given
	Err       error  // what is wrong, e.g. "want a whole number from 1 to 12"
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("%s is %q: %v", strings.ReplaceAll(e.Flag, "-", " "), e.Value, e.Err)
}

func (e *OptionError) Unwrap() error { return e.Err }

// Validate checks every field of r against its bounds and every layer spec
// for its syntax: what can be checked before the model is loaded (the
// layers' names and channels are the network's to check, see
// Network.Resolve). Its errors are *OptionError.
func (r *Request) Validate() error {
	for _, f := range Fields() {
		if err := f.check(r); err != nil {
			return err
		}
	}
	return nil
}
