package dream

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestPresetsApplyWithinBounds applies every preset to the defaults and
// to a request whose every field differs from them: the fields it names
// take its values, within bounds, the others are left alone.
func TestPresetsApplyWithinBounds(t *testing.T) {
	names := map[string]bool{}
	for _, p := range Presets() {
		if !regexp.MustCompile(`^[a-z][a-z0-9-]*$`).MatchString(p.Name) || names[p.Name] || p.Description == "" || len(p.Values) == 0 {
			t.Errorf("preset %+v: want a new lower-case name, a description and values", p)
		}
		names[p.Name] = true
		for _, base := range []Request{Defaults(), unusual()} {
			r := base
			r.Layers = slices.Clone(base.Layers)
			if err := p.Apply(&r, nil); err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
			if err := r.Validate(); err != nil {
				t.Errorf("%s: %v", p.Name, err)
			}
			for _, f := range Fields() {
				if values, ok := p.Values[f.Key]; !ok {
					if !reflect.DeepEqual(f.Value(&r), f.Value(&base)) {
						t.Errorf("%s changes %s, which it does not name", p.Name, f.Key)
					}
				} else if f.Repeat {
					if got := f.Value(&r).([]string); !slices.Equal(got, values) {
						t.Errorf("%s: %s %q, want %q", p.Name, f.Key, got, values)
					}
				} else if got := f.Get(&r); got != values[0] {
					t.Errorf("%s: %s is %s, want %s", p.Name, f.Key, got, values[0])
				}
			}
		}
	}
	if p, err := LookupPreset("notebook"); err != nil {
		t.Error(err)
	} else {
		r := unusual()
		p.Apply(&r, nil)
		d := Defaults()
		d.Seed, d.MaxSize, d.Tile, d.Winograd = r.Seed, r.MaxSize, r.Tile, r.Winograd // a photo's and the engine's settings, not the look's
		if !reflect.DeepEqual(r, d) {
			t.Errorf("notebook gives %+v, want the defaults %+v", r, d)
		}
	}
}

func TestPresetApplyLeavesGivenFields(t *testing.T) {
	p := Preset{Name: "p", Values: map[string][]string{"layers": {"a", "b=2"}, "iterations": {"30"}, "step": {"3"}}}
	r := Defaults()
	r.Layers, r.Iterations = []string{"given"}, 7
	if err := p.Apply(&r, func(f Field) bool { return f.Key == "iterations" }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Layers, []string{"a", "b=2"}) || r.Iterations != 7 || r.Step != 3 {
		t.Errorf("applied: %+v; want the preset's layers (not added to the given one), iterations 7 as given, step 3", r)
	}
	for _, c := range []struct {
		p    Preset
		want string
	}{
		{Preset{Name: "q", Values: map[string][]string{"iteration": {"3"}}}, `preset q sets "iteration", which is not a field`},
		{Preset{Name: "q", Values: map[string][]string{"iterations": {"3", "4"}}}, `iterations takes one value, not 2`},
		{Preset{Name: "q", Values: map[string][]string{"step": {"fast"}}}, `step is "fast"`},
	} {
		r := Defaults()
		if err := c.p.Apply(&r, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.p, err, c.want)
		}
	}
	if _, err := LookupPreset("dogslug"); err == nil || !strings.Contains(err.Error(), "dog-slug") {
		t.Errorf("an unknown preset: %v, want the names listed", err)
	}
}

func TestReplace(t *testing.T) {
	f := Fields()[0] // layers
	r := Request{Layers: []string{"x"}}
	if err := f.Replace(&r); err != nil || r.Layers != nil {
		t.Errorf("no layers: %q, %v; want the default (none)", r.Layers, err)
	}
	if err := f.Replace(&r, "a", "b"); err != nil || !slices.Equal(r.Layers, []string{"a", "b"}) {
		t.Errorf("two layers: %q, %v", r.Layers, err)
	}
}

// TestPresetsAsJSON checks the shape the studio's /api/config can list
// them in: name, description and the values by field key, as a form
// gives them.
func TestPresetsAsJSON(t *testing.T) {
	b, err := json.Marshal(Presets())
	if err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Name, Description string
		Values            map[string][]string
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for i, p := range Presets() {
		if g := got[i]; g.Name != p.Name || g.Description != p.Description || !reflect.DeepEqual(g.Values, p.Values) {
			t.Errorf("preset %s as JSON: %+v", p.Name, g)
		}
	}
	if !strings.Contains(string(b), `"values":{`) {
		t.Errorf("%s", b)
	}
}
