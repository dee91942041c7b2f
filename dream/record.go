package dream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

// Record is what a dream file records about how it was made (as JSON in
// the PNG text chunk or JPEG comment): enough to make it again. The JSON
// is one object: version, model, model_sha256 and preprocess, then the
// request's fields under their keys (Fields), so that a field added to
// the table is recorded, and read back by --from, with no change here;
// then, if the request names images (masks, a guide), "images", the
// sha256 of each by its name ({"left.png": "9f86d0..."}), which --from
// finds it by.
type Record struct {
	Version     string // of the program that dreamed
	Model       string // registry name, or the model file's base name
	ModelSHA256 string // the model's identity, when known
	// Preprocess is how the photo went into the model (the Network's
	// Preprocess), nil when not recorded: with the sha256, what a model
	// file needs to be found and used again without its sidecar.
	Preprocess *Preprocess
	Request    Request
}

// MarshalJSON writes the record as one flat object.
func (r Record) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	write := func(key string, v any) error {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		val, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("dream: record field %s: %w", key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
		return nil
	}
	write("version", r.Version)
	write("model", r.Model)
	if r.ModelSHA256 != "" {
		write("model_sha256", r.ModelSHA256)
	}
	if r.Preprocess != nil {
		write("preprocess", r.Preprocess)
	}
	for _, f := range Fields() {
		v := f.Value(&r.Request)
		if l, ok := v.([]string); ok && l == nil {
			v = []string{} // "layers": [], not null
		}
		if err := write(f.Key, v); err != nil {
			return nil, err
		}
	}
	if len(r.Request.Images) > 0 {
		sums := map[string]string{}
		for name, im := range r.Request.Images {
			sums[name] = im.SHA256
		}
		write("images", sums)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a record. A field the record lacks (one added to the
// table since it was written) keeps its default, or takes what dreams did
// before it existed (Field.Unrecorded); keys it does not know are
// ignored. An empty list of specs ("classes": []) reads as none (nil).
func (r *Record) UnmarshalJSON(data []byte) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return err
	}
	*r = Record{Request: Defaults()}
	for key, dst := range map[string]*string{"version": &r.Version, "model": &r.Model, "model_sha256": &r.ModelSHA256} {
		if v, ok := keys[key]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return fmt.Errorf("record field %s: %w", key, err)
			}
		}
	}
	if v, ok := keys["preprocess"]; ok && string(v) != "null" {
		r.Preprocess = new(Preprocess)
		if err := json.Unmarshal(v, r.Preprocess); err != nil {
			return fmt.Errorf("record field preprocess: %w", err)
		}
	}
	for _, f := range Fields() {
		if _, ok := keys[f.Key]; !ok && f.Unrecorded != nil {
			reflect.ValueOf(f.ptr(&r.Request)).Elem().Set(reflect.ValueOf(f.Unrecorded))
		}
		if v, ok := keys[f.Key]; ok {
			if err := json.Unmarshal(v, f.ptr(&r.Request)); err != nil {
				return fmt.Errorf("record field %s: %w", f.Key, err)
			}
			if l, ok := f.Value(&r.Request).([]string); ok && len(l) == 0 {
				f.Copy(&r.Request, &Request{}) // [] is none, as a request without them has
			}
		}
	}
	if v, ok := keys["images"]; ok {
		var sums map[string]string
		if err := json.Unmarshal(v, &sums); err != nil {
			return fmt.Errorf("record field images: %w", err)
		}
		for name, sum := range sums {
			if r.Request.Images == nil {
				r.Request.Images = map[string]Image{}
			}
			r.Request.Images[name] = Image{SHA256: sum}
		}
	}
	return nil
}

// String returns the record as JSON, the text embedded in a dream file.
func (r Record) String() string {
	b, err := r.MarshalJSON()
	if err != nil {
		panic(err) // every field is a number or strings
	}
	return string(b)
}
