package motion

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/dream"
)

// FuzzParseTime checks that a time read is within bounds, and that
// seconds, [HH:]MM:SS and durations agree.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"12.5", "1:30", "01:02:03.5", "1m30s", "-1", "1:2:3:4", "1.5:00", "NaN", "1e300", "99999999:00", "3000h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseTime(s)
		if err != nil {
			if !strings.Contains(err.Error(), "want seconds") {
				t.Fatalf("ParseTime(%q): an error that does not say what it wants: %v", s, err)
			}
			return
		}
		if d < 0 || d.Seconds() >= maxSeconds {
			t.Fatalf("ParseTime(%q) = %v", s, d)
		}
	})
}

// FuzzOptions sets every option from text as a flag or a form gives it:
// never a panic; what Set takes and Validate keeps reads back the same.
func FuzzOptions(f *testing.F) {
	f.Add("48", "1.05", "-3", "2,-1", "1:30", "10", "30000/1001", "0.6", "false")
	f.Add("0", "NaN", "181", "1", "-1", "x", "0", "2", "maybe")
	f.Add("100001", "1e309", "0x10", ",", "99999999:00", "3000h", "1/0", "-0", "1")
	f.Fuzz(func(t *testing.T, frames, zoom, rotate, pan, start, duration, fps, blend, flow string) {
		o := Defaults()
		for i, v := range []string{frames, zoom, rotate, pan, start, duration, fps, blend, flow} {
			field := Fields()[i]
			if err := field.Set(&o, v); err != nil {
				var oe *dream.OptionError
				if !errors.As(err, &oe) || oe.Key != field.Key {
					t.Fatalf("%s=%q: %v, not an OptionError naming it", field.Key, v, err)
				}
			}
		}
		for _, kind := range []string{Zoom, Video} {
			if o.Validate(kind) != nil {
				continue
			}
			var back Options
			for _, field := range Fields() {
				if !field.For(kind) {
					continue
				}
				if err := field.Set(&back, field.Get(&o)); err != nil || fmt.Sprint(field.Value(&back)) != fmt.Sprint(field.Value(&o)) {
					t.Fatalf("%s: %q reads back as %v (%v)", field.Key, field.Get(&o), field.Value(&back), err)
				}
			}
		}
	})
}

func TestParseTime(t *testing.T) {
	for s, want := range map[string]time.Duration{"12.5": 12500 * time.Millisecond, "1:30": 90 * time.Second, "01:02:03.5": time.Hour + 2*time.Minute + 3500*time.Millisecond, "1m30s": 90 * time.Second} {
		if got, err := ParseTime(s); err != nil || got != want {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"-1", "1:2:3:4", "1.5:00", "NaN", "-1s", "x", "3000h"} {
		if _, err := ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q) is not refused", s)
		}
	}
}

// TestOptionsRefused checks that every field refuses what it cannot take,
// by Set or by Validate, with an error naming the field, its flag and
// the value.
func TestOptionsRefused(t *testing.T) {
	for _, c := range []struct{ kind, key, value string }{
		{Zoom, "frames", "0"}, {Zoom, "frames", "x"}, {Zoom, "zoom", "3"}, {Zoom, "zoom", "NaN"}, {Zoom, "rotate", "181"},
		{Zoom, "pan", "1"}, {Zoom, "pan", "0,1001"}, {Zoom, "fps", "0"}, {Video, "start", "-1"}, {Video, "duration", "x"},
		{Video, "blend", "2"}, {Video, "flow", "maybe"},
	} {
		o := Defaults()
		o.Frames = 3
		var field Field
		for _, f := range Fields() {
			if f.Key == c.key {
				field = f
			}
		}
		err := field.Set(&o, c.value)
		if err == nil {
			err = o.Validate(c.kind)
		}
		var oe *dream.OptionError
		if !errors.As(err, &oe) || oe.Key != c.key || oe.Flag != field.Flag || oe.Value != c.value || !strings.HasPrefix(oe.Err.Error(), "want ") {
			t.Errorf("%s %s=%s: %v, want an OptionError naming it", c.kind, c.key, c.value, err)
		}
	}
	if err := (&Options{}).Validate("dream"); err == nil {
		t.Error("a job of kind dream is not refused")
	}
}

// TestDefaultsReadBack checks that every field's Get reads back by Set.
func TestDefaultsReadBack(t *testing.T) {
	o := Defaults()
	o.Frames = 10
	for _, kind := range []string{Zoom, Video} {
		if err := o.Validate(kind); err != nil {
			t.Errorf("the defaults of a %s: %v", kind, err)
		}
	}
	for _, f := range Fields() {
		var back Options
		if err := f.Set(&back, f.Get(&o)); err != nil || fmt.Sprint(f.Value(&back)) != fmt.Sprint(f.Value(&o)) {
			t.Errorf("%s: %q reads back as %v (%v)", f.Key, f.Get(&o), f.Value(&back), err)
		}
	}
}
