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
