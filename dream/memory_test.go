package dream

import (
	"strings"
	"testing"
)

func TestPlanBytes(t *testing.T) {
	n := tinyNetwork()
	req := Defaults()
	req.Layers = []string{"r"}
	small, err := n.PlanBytes(16, 16, req)
	if err != nil {
		t.Fatal(err)
	}
	large, err := n.PlanBytes(32, 32, req)
	if err != nil {
		t.Fatal(err)
	}
	// Every buffer of tinynet is per pixel: 4 times the pixels, about 4
	// times the bytes (the buffers are rounded to 16 floats).
	if small <= 0 || large < 3*small || large > 5*small {
		t.Errorf("plans of %d bytes at 16x16 and %d at 32x32, want about 4 times more", small, large)
	}
	req.Layers = []string{"nope"}
	if _, err := n.PlanBytes(16, 16, req); err == nil || !strings.Contains(err.Error(), `no layer "nope"`) {
		t.Errorf("an unknown layer: %v", err)
	}
}

func TestPyramidBytes(t *testing.T) {
	for _, tc := range []struct {
		octaves int
		scale   float64
		want    int64
	}{
		{1, 1.4, 12*100 + 4*100},                  // the image, the result
		{2, 2, 12*100*(1+0.25+2*0.25) + 4*100},    // and a quarter-size octave, its copy and the detail
		{3, 1, 12*100*(3+2) + 4*100},              // octaves of one size
		{12, 4, 12*100*(1+1.0/15+2.0/16) + 4*100}, // about the geometric series' sum
	} {
		req := Defaults()
		req.Octaves, req.OctaveScale = tc.octaves, tc.scale
		if got := PyramidBytes(10, 10, req); got < tc.want-1 || got > tc.want {
			t.Errorf("%d octaves of scale %g at 10x10: %d bytes, want %d", tc.octaves, tc.scale, got, tc.want)
		}
	}
}
