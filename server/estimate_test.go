package server

import (
	"fmt"
	"net/http"
	"testing"
)

// TestEstimate checks GET /api/estimate on GoogLeNet within a budget of
// 1.5 GB: a 6000x4000 photo fits, tiled, and so admitted; untiled
// (tile=-1) it does not, and the answer says the largest max size that
// fits; a 1024x768 photo is dreamed whole. Bad sizes are refused.
func TestEstimate(t *testing.T) {
	s := newStudio(t, Config{MaxMemory: 3 << 29, Models: []*Model{googLeNetModel(t)}})
	get := func(query string) (estimateView, *http.Response) {
		var v estimateView
		res := s.get(t, "/api/estimate?"+query, &v)
		return v, res
	}
	v, res := get("width=6000&height=4000&bytes=2000000&format=jpeg")
	if res.StatusCode != http.StatusOK || !v.Fits || v.Tile <= 0 || v.Windows < 2 || v.Bytes > v.Budget || v.Bytes < 500<<20 {
		t.Errorf("6000x4000 in 1.5 GB: %s %+v, want it to fit, tiled", res.Status, v)
	}
	t.Logf("6000x4000: %+v", v)
	if v, _ := get("width=6000&height=4000&format=jpeg&tile=-1"); v.Fits || v.FitMaxSize < 16 || v.FitMaxSize >= 6000 || v.Error == "" {
		t.Errorf("6000x4000 untiled in 1.5 GB: %+v, want it refused with the max size that fits", v)
	}
	if v, _ := get("width=1024&height=768&max_size=0"); !v.Fits || v.Windows != 1 || v.Width != 1024 {
		t.Errorf("1024x768: %+v, want it whole", v)
	}
	if v, _ := get("width=6000&height=4000&max_size=1000"); v.Width != 1000 || v.Height != 667 || v.Windows != 1 {
		t.Errorf("6000x4000 at a max size of 1000: %+v, want 1000x667, whole", v)
	}
	for _, q := range []string{"width=0&height=10", "height=10", fmt.Sprintf("width=%d&height=10000", 1<<20), "width=10&height=10&bytes=-1", "width=10&height=10&octaves=99", "width=10&height=10&model=nope"} {
		var body map[string]any
		res := s.get(t, "/api/estimate?"+q, &body)
		if msg, _ := body["error"].(string); res.StatusCode/100 != 4 || msg == "" {
			t.Errorf("%s: %s %v, want a refusal", q, res.Status, body)
		}
	}
}
