package dream

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinksNoNetworkCode checks that a program using package dream does
// not link the model downloader: preprocessing lives here, and package
// models (registry, HTTP cache) imports dream, not the other way round.
func TestLinksNoNetworkCode(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command:", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "net/http" || strings.HasSuffix(pkg, "/deepdream/models") {
			t.Errorf("package dream depends on %s", pkg)
		}
	}
}
