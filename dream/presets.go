package dream

import (
	"fmt"
	"slices"
	"strings"
)

// Preset is a named recipe: values for some of a Request's fields, by
// their keys (Field.Key), as text as Field.Set reads it (what a flag or a
// form field gives). The command line's --preset, `deepdream presets` and
// the studio read the same table, Presets; a preset is one entry of it,
// and may name any field of Fields, one added later too.
type Preset struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Values are the fields the preset sets, each to all its values (one
	// for a number, a yes/no or an image field; the specs of a repeatable
	// field, none meaning its default: for "layers", the model's default
	// layer).
	Values map[string][]string `json:"values"`
}

// Presets returns the presets, in the order they are listed. Their
// layers are BVLC GoogLeNet's, the default model's (notebook dreams any
// model's default layer).
func Presets() []Preset {
	return []Preset{
		{
			Name:        "notebook",
			Description: "Google's notebook (dream.ipynb): the model's default layer (inception_4c/output on GoogLeNet), 4 octaves of 10 steps of 1.5, scale 1.4, jitter 32, no shaping of the gradient, no mask, no class, no guide; the defaults, for undoing a record's settings with --from",
			Values: map[string][]string{
				"layers": {}, "octaves": {"4"}, "octave_scale": {"1.4"}, "iterations": {"10"}, "step": {"1.5"}, "jitter": {"32"},
				"laplacian": {"0"}, "smooth": {"0"}, "keep_colors": {"false"}, "mask": {""}, "classes": {}, "guide": {""},
			},
		},
		{
			Name:        "dog-slug",
			Description: "the deep layer inception_4d/output, dreamed longer and from a coarser first octave: the eyes, dogs and slugs the first DeepDream pictures were known for (at full size; small dreams show less)",
			Values: map[string][]string{
				"layers": {"inception_4d/output"}, "octaves": {"5"}, "iterations": {"20"},
			},
		},
		{
			Name:        "brush-stroke",
			Description: "the shallow layers conv2/3x3 and inception_3a/output: brush strokes and swirls, no objects",
			Values: map[string][]string{
				"layers": {"conv2/3x3", "inception_3a/output"}, "iterations": {"15"},
			},
		},
	}
}

// PresetNames returns the presets' names, in order.
func PresetNames() []string {
	var names []string
	for _, p := range Presets() {
		names = append(names, p.Name)
	}
	return names
}

// LookupPreset returns the preset called name.
func LookupPreset(name string) (Preset, error) {
	ps := Presets()
	if i := slices.IndexFunc(ps, func(p Preset) bool { return p.Name == name }); i >= 0 {
		return ps[i], nil
	}
	return Preset{}, fmt.Errorf("dream: no preset %q (presets: %s)", name, strings.Join(PresetNames(), ", "))
}

// Sets reports whether the preset sets the field with key.
func (p Preset) Sets(key string) bool {
	_, ok := p.Values[key]
	return ok
}

// Apply sets the fields of r that the preset names to its values, except
// those for which given reports true (the fields a command line or a
// form gives, which win over the preset); given may be nil. Bounds are
// Validate's to check.
func (p Preset) Apply(r *Request, given func(Field) bool) error {
	fields := Fields()
	for key := range p.Values {
		if !slices.ContainsFunc(fields, func(f Field) bool { return f.Key == key }) {
			return fmt.Errorf("dream: preset %s sets %q, which is not a field of the request", p.Name, key)
		}
	}
	for _, f := range fields {
		values, ok := p.Values[f.Key]
		if !ok || given != nil && given(f) {
			continue
		}
		if err := f.Replace(r, values...); err != nil {
			return fmt.Errorf("dream: preset %s: %w", p.Name, err)
		}
	}
	return nil
}

// Replace sets the field of r to values, as Set reads them: a number, a
// yes/no or an image field to its one value, a repeatable field (Repeat:
// the layers, the classes) to these specs and no others (none: the
// field's default; for the layers, the model's default layer). Presets and
// `deepdream sweep` set fields this way, whatever a flag or a record had
// set them to before.
func (f *Field) Replace(r *Request, values ...string) error {
	if !f.Repeat && len(values) != 1 {
		return fmt.Errorf("%s takes one value, not %d (%q)", f.Key, len(values), values)
	}
	d := Defaults()
	f.Copy(r, &d)
	for _, v := range values {
		if err := f.Set(r, v); err != nil {
			return err
		}
	}
	return nil
}
