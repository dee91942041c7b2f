package motion

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/video"
)

// Kinds of job.
const (
	Zoom  = "zoom"
	Video = "video"
)

// Animated reports whether a job of kind is an animation: a Zoom or a
// Video (not a still dream, whatever its kind's name).
func Animated(kind string) bool { return kind == Zoom || kind == Video }

// Options are how a zoom or a video moves, beyond the dream request of
// its frames. Like dream.Request, they exist once, in Fields: the
// command line's flags, the studio's form and /api/config, and the
// record of an animation are made from that table.
type Options struct {
	Frames int        // a zoom's, the first included
	Zoom   float64    // a zoom's scale a frame (dream.Camera)
	Rotate float64    // a zoom's degrees a frame, counterclockwise
	Pan    [2]float64 // a zoom's pixels a frame, right and down
	// Start and Duration are the part of a video dreamed (Duration 0: to
	// its end).
	Start, Duration time.Duration
	// FPS is a zoom's frame rate, or a directory of frames'; a video
	// file keeps its own. The zero Rate is video.DefaultRate.
	FPS video.Rate
	// Blend and Flow are how a video carries a frame's dream detail into
	// the next (dream.VideoOptions: Blend, NoFlow).
	Blend float64
	Flow  bool
}

// Field is one option of Options, as Fields describes it. Its Kind says
// how a value is written: "int" and "float" are a number, "bool" true or
// false, "pan" two numbers X,Y, "rate" a frame rate as video.ParseRate
// reads it, "time" a time in a video as ParseTime reads it.
type Field struct {
	Key   string   // JSON key of the record and of /api/config; the studio form's field name
	Flag  string   // command-line flag, without dashes
	Label string   // the studio form's label
	Help  string   // the flag's help
	Kind  string   // see Field
	Jobs  []string // the kinds of job it applies to (Zoom, Video)
	// Negated says the flag sets the opposite of the field: --no-flow
	// sets flow to false.
	Negated bool
	// Default is the field's value in Defaults, as text (Set reads it);
	// Min and Max bound a number, and each number of a pan.
	Default  string
	Min, Max float64

	want  string // what it takes, for errors: "a number from 0 to 1"
	get   func(o *Options) any
	parse func(o *Options, s string) error
	ok    func(o *Options) bool // within bounds
}

// Fields returns the table of the options, in the order a form shows
// them and a record keeps them.
func Fields() []Field {
	return []Field{
		{Key: "frames", Flag: "frames", Label: "Frames", Kind: "int", Jobs: []string{Zoom}, Default: "0", Min: 1, Max: 100000,
			Help: "frames of the animation, the photo's dream first (1 to 100000); required",
			want: "a whole number from 1 to 100000",
			get:  func(o *Options) any { return o.Frames },
			parse: func(o *Options, s string) (err error) {
				o.Frames, err = strconv.Atoi(s)
				return err
			},
			ok: func(o *Options) bool { return o.Frames >= 1 && o.Frames <= 100000 }},
		number("zoom", "zoom", "Zoom a frame", "scale a frame: above 1 zooms in, below 1 out (0.5 to 2)", Zoom,
			"1.05", 0.5, 2, func(o *Options) *float64 { return &o.Zoom }),
		number("rotate", "rotate", "Rotate a frame (degrees)", "degrees a frame the picture turns, counterclockwise (-180 to 180)", Zoom,
			"0", -180, 180, func(o *Options) *float64 { return &o.Rotate }),
		{Key: "pan", Flag: "pan", Label: "Pan a frame (pixels X,Y)", Kind: "pan", Jobs: []string{Zoom}, Default: "0,0", Min: -1000, Max: 1000,
			Help: "pixels a frame the view moves, `X,Y`: right and down (each -1000 to 1000)",
			want: "X,Y, two numbers from -1000 to 1000 (pixels a frame, right and down)",
			get:  func(o *Options) any { return o.Pan },
			parse: func(o *Options, s string) error {
				x, y, ok := strings.Cut(s, ",")
				px, err1 := parseFloat(x)
				py, err2 := parseFloat(y)
				if !ok || err1 != nil || err2 != nil {
					return errors.New("not two numbers")
				}
				o.Pan = [2]float64{px, py}
				return nil
			},
			ok: func(o *Options) bool { return math.Abs(o.Pan[0]) <= 1000 && math.Abs(o.Pan[1]) <= 1000 }},
		timeField("start", "start", "Start (seconds)", "dream from this time of the video: seconds (12.5), [HH:]MM:SS[.frac], or a duration (1m30s)",
			func(o *Options) *time.Duration { return &o.Start }),
		timeField("duration", "duration", "Duration (seconds, 0 = to the end)", "dream this long a part of the video, as --start (0: to the end)",
			func(o *Options) *time.Duration { return &o.Duration }),
		{Key: "fps", Flag: "fps", Label: "Frames a second", Kind: "rate", Jobs: []string{Zoom, Video}, Default: "24", Min: 0, Max: 1000,
			Help: "frames a second of a zoom, or of a directory of frames (24, 29.97, 30000/1001); a video file keeps its own",
			want: "a number of frames a second above 0 and at most 1000 (24, 29.97), or a fraction N/D (30000/1001)",
			get:  func(o *Options) any { return o.FPS.String() },
			parse: func(o *Options, s string) (err error) {
				o.FPS, err = video.ParseRate(s)
				return err
			},
			ok: func(*Options) bool { return true }}, // Set takes only rates
		number("blend", "blend", "Blend (0 to 1)", "weight of the last frame's dream detail carried into a frame, 0 to 1 (0: every frame dreamed on its own)", Video,
			strconv.FormatFloat(dream.DefaultBlend, 'g', -1, 64), 0, 1, func(o *Options) *float64 { return &o.Blend }),
		{Key: "flow", Flag: "no-flow", Label: "Follow the motion (optical flow)", Kind: "bool", Jobs: []string{Video}, Default: "true", Negated: true,
			Help:  "carry the detail where it was, without following the motion (the first DeepDream videos' way)",
			want:  "true or false",
			get:   func(o *Options) any { return o.Flow },
			parse: func(o *Options, s string) (err error) { o.Flow, err = strconv.ParseBool(s); return err },
			ok:    func(*Options) bool { return true }},
	}
}

// number makes the table entry of a number of [lo, hi].
func number(key, flag, label, help, kind, def string, lo, hi float64, ptr func(*Options) *float64) Field {
	return Field{Key: key, Flag: flag, Label: label, Help: help, Kind: "float", Jobs: []string{kind}, Default: def, Min: lo, Max: hi,
		want:  fmt.Sprintf("a number from %v to %v", lo, hi),
		get:   func(o *Options) any { return *ptr(o) },
		parse: func(o *Options, s string) (err error) { *ptr(o), err = parseFloat(s); return err },
		ok:    func(o *Options) bool { return *ptr(o) >= lo && *ptr(o) <= hi }, // NaN is not
	}
}

// timeField makes the table entry of a time in a video.
func timeField(key, flag, label, help string, ptr func(*Options) *time.Duration) Field {
	return Field{Key: key, Flag: flag, Label: label, Help: help, Kind: "time", Jobs: []string{Video}, Default: "0", Min: 0, Max: maxSeconds,
		want: "seconds (12.5), [HH:]MM:SS[.frac] or a duration (1m30s), not negative",
		get:  func(o *Options) any { return ptr(o).Seconds() },
		parse: func(o *Options, s string) (err error) {
			*ptr(o), err = ParseTime(s)
			return err
		},
		ok: func(o *Options) bool { return *ptr(o) >= 0 && ptr(o).Seconds() < maxSeconds },
	}
}

func parseFloat(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
		err = errors.New("not a finite number")
	}
	return f, err
}

// For reports whether the field applies to a kind of job.
func (f *Field) For(kind string) bool { return slices.Contains(f.Jobs, kind) }

// Set reads one value of the field into o, as a form field gives it (a
// negated flag's value is the flag's, not the field's: Set takes the
// field's). A value that cannot be read is a *dream.OptionError; bounds
// are Validate's.
func (f *Field) Set(o *Options, s string) error {
	c := *o // a value refused leaves o as it was
	if f.parse(&c, strings.TrimSpace(s)) != nil {
		return f.refuse(s)
	}
	*o = c
	return nil
}

// Value returns the field's value in o as its record keeps it: an int, a
// float64 (a time in seconds), a bool, a pan's [2]float64, a rate's text.
func (f *Field) Value(o *Options) any { return f.get(o) }

// Get returns the field's value in o as text, the way Set reads it.
func (f *Field) Get(o *Options) string {
	switch v := f.get(o).(type) {
	case [2]float64:
		return fmt.Sprintf("%v,%v", v[0], v[1])
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

// refuse is the error of a value the field cannot take.
func (f *Field) refuse(value string) error {
	return &dream.OptionError{Key: f.Key, Flag: f.Flag, Value: value, Err: errors.New("want " + f.want)}
}

// Defaults returns the options of a kind of job unless told otherwise:
// every field's Default (a zoom's frames 0: they are the caller's to
// give).
func Defaults() Options {
	var o Options
	for _, f := range Fields() {
		if err := f.parse(&o, f.Default); err != nil {
			panic(fmt.Sprintf("motion: the default of %s: %v", f.Key, err)) // the table's own
		}
	}
	return o
}

// Validate checks the options a kind of job takes against their bounds;
// its errors are *dream.OptionError, naming the field and its flag.
func (o *Options) Validate(kind string) error {
	if kind != Zoom && kind != Video {
		return fmt.Errorf("motion: a job of kind %q; want %s or %s", kind, Zoom, Video)
	}
	for _, f := range Fields() {
		if !f.For(kind) {
			continue
		}
		if !f.ok(o) {
			return f.refuse(f.Get(o))
		}
	}
	return nil
}

// Camera is a zoom's camera.
func (o *Options) Camera() dream.Camera {
	return dream.Camera{Zoom: o.Zoom, Rotate: o.Rotate, PanX: o.Pan[0], PanY: o.Pan[1]}
}

// maxSeconds bounds a time in a video.
const maxSeconds = 1e7

// ParseTime reads a time in a video: seconds ("12.5"), [HH:]MM:SS[.frac]
// as ffmpeg writes it, or a Go duration ("1m30s"); not negative, under
// 10^7 seconds.
func ParseTime(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q: want seconds (12.5), [HH:]MM:SS[.frac] or a duration (1m30s), not negative", s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if !(f >= 0 && f < maxSeconds) {
			return 0, bad
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		if len(parts) > 3 {
			return 0, bad
		}
		var total float64
		for i, p := range parts {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil || f < 0 || (i < len(parts)-1 && f != math.Trunc(f)) {
				return 0, bad
			}
			total = total*60 + f
		}
		if !(total < maxSeconds) {
			return 0, bad
		}
		return time.Duration(total * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d.Seconds() >= maxSeconds {
		return 0, bad
	}
	return d, nil
}
