package dream

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Record is what a dream file records about how it was made (as JSON in
// the PNG text chunk or JPEG comment): enough to make it again.
type Record struct {
	Version     string   `json:"version"`
	Model       string   `json:"model"`
	ModelSHA256 string   `json:"model_sha256,omitempty"`
	Layers      []string `json:"layers"` // as ParseLayer reads them
	Octaves     int      `json:"octaves"`
	OctaveScale float64  `json:"octave_scale"`
	Iterations  int      `json:"iterations"`
	Step        float32  `json:"step"`
	Jitter      int      `json:"jitter"`
	Seed        uint64   `json:"seed"`
	MaxSize     int      `json:"max_size"`
}

// NewRecord records the options o of a dream with model (registry name or
// file name) at version, the layers given as specs.
func NewRecord(version, model, sha256 string, specs []string, o Options) Record {
	return Record{
		Version: version, Model: model, ModelSHA256: sha256, Layers: specs,
		Octaves: o.Octaves, OctaveScale: o.OctaveScale, Iterations: o.Iterations,
		Step: o.Step, Jitter: o.Jitter, Seed: o.Seed, MaxSize: o.MaxSize,
	}
}

// ParseLayer reads a layer spec NAME[:CH[,CH...]][=WEIGHT]. The name is
// returned as given: the caller maps aliases to tensors.
func ParseLayer(s string) (Layer, error) {
	l := Layer{Name: s, Weight: 1}
	if i := strings.LastIndexByte(l.Name, '='); i >= 0 {
		w, err := strconv.ParseFloat(l.Name[i+1:], 32)
		if err != nil || math.IsNaN(w) || math.IsInf(w, 0) {
			return l, fmt.Errorf("layer %q: weight %q is not a number", s, l.Name[i+1:])
		}
		l.Name, l.Weight = l.Name[:i], float32(w)
	}
	if i := strings.LastIndexByte(l.Name, ':'); i >= 0 {
		for _, c := range strings.Split(l.Name[i+1:], ",") {
			ch, err := strconv.Atoi(strings.TrimSpace(c))
			if err != nil || ch < 0 {
				return l, fmt.Errorf("layer %q: channel %q is not a channel number", s, c)
			}
			l.Channels = append(l.Channels, ch)
		}
		l.Name = l.Name[:i]
	}
	if l.Name == "" {
		return l, fmt.Errorf("layer %q: no layer name", s)
	}
	return l, nil
}
