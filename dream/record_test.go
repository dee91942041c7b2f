package dream

import (
	"slices"
	"strings"
	"testing"
)

func TestParseLayer(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want Layer
		err  string
	}{
		{"inception_4c/output", Layer{Name: "inception_4c/output", Weight: 1}, ""},
		{"a:97", Layer{Name: "a", Weight: 1, Channels: []int{97}}, ""},
		{"a:1, 5=0.5", Layer{Name: "a", Weight: 0.5, Channels: []int{1, 5}}, ""},
		{"a=x", Layer{}, "weight \"x\" is not a number"},
		{"a=NaN", Layer{}, "is not a number"},
		{"a:-1", Layer{}, "not a channel number"},
		{":3", Layer{}, "no layer name"},
	} {
		got, err := ParseLayer(tc.spec)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseLayer(%q) error %v, want one with %q", tc.spec, err, tc.err)
			}
		case err != nil || got.Name != tc.want.Name || got.Weight != tc.want.Weight || !slices.Equal(got.Channels, tc.want.Channels):
			t.Errorf("ParseLayer(%q) = %+v, %v; want %+v", tc.spec, got, err, tc.want)
		}
	}
}

func TestLayersListsShapesAndAliases(t *testing.T) {
	layers, failed, err := tinyNetwork().Layers(10, 6, map[string]string{"relu": "r", "b": "r", "conv": "c"})
	if err != nil || failed != 0 {
		t.Fatal(failed, err)
	}
	want := []LayerInfo{{Tensor: "c", Alias: "conv", Shape: []int{1, 4, 6, 10}}, {Tensor: "r", Alias: "b", Shape: []int{1, 4, 6, 10}}}
	if len(layers) != len(want) {
		t.Fatalf("layers %+v, want %+v", layers, want)
	}
	for i := range want {
		if layers[i].Tensor != want[i].Tensor || layers[i].Alias != want[i].Alias || !layers[i].Shape.Equal(want[i].Shape) || !layers[i].Dreamable() {
			t.Errorf("layer %d = %+v, want %+v", i, layers[i], want[i])
		}
	}
}
