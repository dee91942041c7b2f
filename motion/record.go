package motion

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Input names what an animation was dreamed from, in its record: the
// file's base name and sha256 (of a directory of frames: of their names
// and contents, in order).
type Input struct {
	Name, SHA256 string
}

// motionJSON writes the motion of a kind of job as its record keeps it:
// input and input_sha256, then each option of the kind under its key, in
// the table's order.
func motionJSON(kind string, in Input, o *Options) []byte {
	var b bytes.Buffer
	b.WriteString("{")
	write := func(key string, v any) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		val, err := json.Marshal(v)
		if err != nil {
			panic(err) // numbers and strings
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	write("input", in.Name)
	write("input_sha256", in.SHA256)
	for _, f := range Fields() {
		if f.For(kind) {
			write(f.Key, f.Value(o))
		}
	}
	b.WriteString("}")
	return b.Bytes()
}

// Record returns the record of an animation: the dream record of its
// frames, and under the kind ("zoom", "video") how they move.
func Record(rec string, kind string, in Input, o *Options) string {
	return rec[:len(rec)-1] + `,"` + kind + `":` + string(motionJSON(kind, in, o)) + "}"
}

// Values returns the options of a kind of job by their keys, as a record
// keeps them (Value).
func (o *Options) Values(kind string) map[string]any {
	out := map[string]any{}
	for _, f := range Fields() {
		if f.For(kind) {
			out[f.Key] = f.Value(o)
		}
	}
	return out
}

// FrameRecord returns the record of frame i (0-based) of the animation
// whose record is rec (Record): its motion with "frame": i+1, the number
// in the frame's file name.
func FrameRecord(rec, kind string, i int) string {
	var top map[string]json.RawMessage
	if json.Unmarshal([]byte(rec), &top) != nil || len(top[kind]) < 2 {
		panic("motion: FrameRecord: not a record of a " + kind + ": " + rec)
	}
	return fmt.Sprintf(`%s,"frame":%d}}`, rec[:len(rec)-2], i+1)
}

// recordDiff returns the keys in which the records a and b differ,
// kind.field for a field of the motion under kind, except those in
// loose.
func recordDiff(a, b, kind string, loose []string) []string {
	flat := func(s string) map[string]string {
		var top map[string]json.RawMessage
		out := map[string]string{}
		if json.Unmarshal([]byte(s), &top) != nil {
			return map[string]string{"(not a record)": s}
		}
		for k, v := range top {
			if k != kind {
				out[k] = string(v)
				continue
			}
			var motion map[string]json.RawMessage
			json.Unmarshal(v, &motion)
			for mk, mv := range motion {
				if !slices.Contains(loose, mk) {
					out[kind+"."+mk] = string(mv)
				}
			}
		}
		return out
	}
	fa, fb := flat(a), flat(b)
	var diff []string
	for k, v := range fa {
		if fb[k] != v {
			diff = append(diff, k)
		}
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			diff = append(diff, k)
		}
	}
	slices.Sort(diff)
	return diff
}
