package dream

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestDefaultsAreTheNotebooks(t *testing.T) {
	want := Request{Octaves: 4, OctaveScale: 1.4, Iterations: 10, Step: 1.5, Jitter: 32, Winograd: true}
	if got := Defaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("Defaults() = %+v, want %+v", got, want)
	}
	if err := want.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
}

// unusual returns a request whose every field differs from its default,
// within bounds.
func unusual() Request {
	return Request{Layers: []string{"a:1,2=0.5", "b@sky.png"}, Octaves: 3, OctaveScale: 1.25, Iterations: 7, Step: 2.5, Jitter: 9,
		Seed: math.MaxUint64, MaxSize: 640, Tile: 512, Laplacian: 4, Smooth: 1.5, KeepColors: true, Mask: "left half.png",
		Classes: []string{"goldfish=2", "1"}, Guide: "flowers.jpg"}
}

func TestEveryFieldIsInTheTable(t *testing.T) {
	r, d := unusual(), Defaults()
	fields := Fields()
	// Images is not an option but the images the options name, and
	// MaxMemory the machine's.
	if n := reflect.TypeFor[Request]().NumField() - 2; len(fields) != n {
		t.Errorf("the table has %d fields, Request %d besides Images and MaxMemory", len(fields), n)
	}
	var keys, flags []string
	for _, f := range fields {
		if reflect.DeepEqual(f.Value(&r), f.Value(&d)) {
			t.Errorf("%s: unusual() leaves it at its default", f.Key)
		}
		// Every field reads back what it writes, and copies.
		var back Request
		if f.Repeat {
			for _, s := range f.Value(&r).([]string) {
				if err := f.Set(&back, s); err != nil {
					t.Fatal(err)
				}
			}
		} else if err := f.Set(&back, f.Get(&r)); err != nil {
			t.Errorf("%s: Set(Get) = %v", f.Key, err)
		}
		if !reflect.DeepEqual(f.Value(&back), f.Value(&r)) {
			t.Errorf("%s: Set(%q) gives %v, want %v", f.Key, f.Get(&r), f.Value(&back), f.Value(&r))
		}
		var c Request
		f.Copy(&c, &r)
		if !reflect.DeepEqual(f.Value(&c), f.Value(&r)) {
			t.Errorf("%s: Copy gives %v", f.Key, f.Value(&c))
		}
		if f.Label == "" || f.Help == "" {
			t.Errorf("%s: no label or help", f.Key)
		}
		keys, flags = append(keys, f.Key), append(flags, f.Flag)
	}
	for _, names := range [][]string{keys, flags} {
		if len(slices.Compact(slices.Sorted(slices.Values(names)))) != len(fields) {
			t.Errorf("names %v repeat", names)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		change func(*Request)
		want   string
	}{
		{func(r *Request) { r.Octaves = 0 }, `octaves is "0": want a whole number from 1 to 12`},
		{func(r *Request) { r.OctaveScale = 0.5 }, `octave scale is "0.5": want a number from 1 to 4`},
		{func(r *Request) { r.Iterations = 501 }, `iterations is "501"`},
		{func(r *Request) { r.Step = float32(math.NaN()) }, `step is "NaN"`},
		{func(r *Request) { r.Jitter = -1 }, `jitter is "-1"`},
		{func(r *Request) { r.MaxSize = 5 }, `max size is "5": want 0 (full size) or a whole number from 16 to 16384`},
		{func(r *Request) { r.MaxSize = -1 }, `max size is "-1": want 0 (full size) or a whole number from 16 to 16384`},
		{func(r *Request) { r.Tile = 64 }, `tile is "64": want 0 (automatic), -1 (never) or a whole number from 128 to 16384`},
		{func(r *Request) { r.Tile = -2 }, `tile is "-2"`},
		{func(r *Request) { r.Layers = []string{"a", "b:x"} }, `layer is "b:x": channel "x" is not a channel number`},
		{func(r *Request) { r.Classes = []string{"goldfish", "tabby=0"} }, `class is "tabby=0": weight "0" is 0`},
	} {
		r := Defaults()
		tc.change(&r)
		err := r.Validate()
		var oe *OptionError
		if !errors.As(err, &oe) || err.Error() != tc.want && !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want an *OptionError %q", err, tc.want)
		}
	}
	r := Defaults()
	r.MaxSize = 0
	if err := r.Validate(); err != nil {
		t.Errorf("max size 0 (full size): %v", err)
	}
	for _, tile := range []int{-1, 0, 128, 16384} {
		r.Tile = tile
		if err := r.Validate(); err != nil {
			t.Errorf("tile %d: %v", tile, err)
		}
	}
	f := Fields()[1] // octaves
	if err := f.Set(&r, "many"); err == nil || err.Error() != `octaves is "many": want a whole number from 1 to 12` {
		t.Errorf(`Set(octaves, "many") = %v`, err)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	rec := Record{Version: "v1", Model: "googlenet", ModelSHA256: "abc", Preprocess: &ImageNet, Request: unusual()}
	rec.Request.Images = map[string]Image{"sky.png": {SHA256: "5ky"}, "left half.png": {SHA256: "1ef7"}}
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(data, &keys); err != nil {
		t.Fatal(err)
	}
	for _, f := range Fields() {
		if _, ok := keys[f.Key]; !ok {
			t.Errorf("the record %s lacks %s", data, f.Key)
		}
	}
	var back Record
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, rec) {
		t.Errorf("%s read back as %+v, %v", data, back, err)
	}
}

// TestRecordReadsEarlierRecords reads a record as the first studio and
// command line wrote it; a field it lacks keeps its default (winograd:
// true, as every dream ran before the field existed), or what dreams did
// before it existed (tile: -1, every octave whole).
func TestRecordReadsEarlierRecords(t *testing.T) {
	const old = `{"version":"dev","model":"googlenet","model_sha256":"5725cc","layers":["inception_4c/output:1,2=0.5"],` +
		`"octaves":2,"octave_scale":1.4,"iterations":2,"step":1.5,"jitter":32,"seed":5}`
	var r Record
	if err := json.Unmarshal([]byte(old), &r); err != nil {
		t.Fatal(err)
	}
	want := Record{Version: "dev", Model: "googlenet", ModelSHA256: "5725cc", Request: Request{
		Layers: []string{"inception_4c/output:1,2=0.5"}, Octaves: 2, OctaveScale: 1.4, Iterations: 2, Step: 1.5, Jitter: 32, Seed: 5, Winograd: true, Tile: -1,
	}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("read %+v, want %+v", r, want)
	}
	if err := json.Unmarshal([]byte(`{"octaves":"four"}`), &r); err == nil || !strings.Contains(err.Error(), "octaves") {
		t.Errorf("a record with octaves \"four\": %v", err)
	}
	for text, want := range map[string]string{
		`{"preprocess":{"channel_order":"BGR","scale":1,"mean":[1,2,3]}}`:                "want channel_order, scale, mean and std",
		`{"preprocess":{"channel_order":"GBR","scale":1,"mean":[1,2,3],"std":[1,1,1]}}`:  `channel_order "GBR"`,
		`{"preprocess":{"channel_order":"RGB","scale":1,"mean":[1,2,3],"std":[1,0,1]}}`:  "std 1/0/1 has a zero",
		`{"preprocess":{"channel_order":"RGB","scale":-1,"mean":[1,2,3],"std":[1,1,1]}}`: "scale -1 is not a positive finite number",
	} {
		if err := json.Unmarshal([]byte(text), &r); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", text, err, want)
		}
	}
}
