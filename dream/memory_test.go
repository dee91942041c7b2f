package dream

import (
	"image"
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

// TestLookBytes checks LookBytes against the buffers the look makes:
// setLook's at the largest octave, octaveLooks' mask pyramids, and the
// balance's copy of the gradient.
func TestLookBytes(t *testing.T) {
	const w, h = 37, 23
	n := tinyNetwork()
	mask := Image{Image: testImage(50, 20)}
	for _, tc := range []struct {
		name string
		set  func(*Request)
	}{
		{"the notebook's", func(*Request) {}},
		{"every shaping", func(r *Request) { r.Laplacian, r.Smooth = 4, 1.5 }},
		{"keep colors", func(r *Request) { r.KeepColors, r.Laplacian = true, 3 }},
		{"a mask, on the step and on a layer", func(r *Request) {
			r.Mask, r.Layers = "m.png", []string{"c@m.png", "r@n.png"}
			r.Images = map[string]Image{"m.png": mask, "n.png": mask}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := Defaults()
			req.Layers = []string{"r"}
			req.Octaves = 3
			tc.set(&req)
			obj, err := n.Resolve(&req)
			if err != nil {
				t.Fatal(err)
			}
			var octaves []image.Point
			for oh, ow := h, w; len(octaves) < req.Octaves; oh, ow = zoomSize(oh, 1/req.OctaveScale), zoomSize(ow, 1/req.OctaveScale) {
				octaves = append(octaves, image.Pt(ow, oh))
			}
			looks, err := octaveLooks(req, obj, octaves)
			if err != nil {
				t.Fatal(err)
			}
			s, err := n.NewStepper(h, w, obj, req.engine(), Tiling{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.setLook(looks[0]); err != nil {
				t.Fatal(err)
			}
			floats := len(s.shaped)
			if s.lap != nil {
				floats += len(s.lap.tmp)
				for _, lv := range s.lap.levels[1:] {
					floats += len(lv.data)
				}
			}
			if s.blur != nil {
				floats += len(s.blur.tmp)
			}
			planes := map[*float32]bool{} // a mask named twice is made once
			for _, l := range looks {
				for _, m := range append([][]float32{l.mask}, l.layerMasks...) {
					if len(m) > 0 && !planes[&m[0]] {
						planes[&m[0]] = true
						floats += len(m)
					}
				}
			}
			if got := LookBytes(w, h, req); got != 4*int64(floats) {
				t.Errorf("LookBytes = %d, the look makes %d bytes", got, 4*floats)
			}
		})
	}
	req := Defaults()
	req.Layers = []string{"r"}
	plain := LookBytes(w, h, req)
	req.Classes = []string{"1"}
	if got := LookBytes(w, h, req) - plain; got != 12*w*h {
		t.Errorf("classes with layers add %d bytes, want the gradient kept to balance them, %d", got, 12*w*h)
	}
	req.Layers = nil
	if got := LookBytes(w, h, req) - plain; got != 0 {
		t.Errorf("classes alone add %d bytes, want none (nothing to balance)", got)
	}
	req.Guide = "g.png"
	if got := LookBytes(w, h, req) - plain; got != 12*w*h+4*guideBlock {
		t.Errorf("classes with a guide add %d bytes, want the balance's gradient and the guide's dot products, %d", got, 12*w*h+4*guideBlock)
	}
}
