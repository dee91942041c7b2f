// Package shared finds the read-only ../shared directory (models, fixtures,
// photos) that sits beside the repository in CI and on the developers'
// machines, for tests and benchmarks. A user's clone has no such directory:
// the tests that need it skip, saying so.
package shared

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the path of ../shared, searched upwards from the working
// directory, or "" when there is none.
func Dir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		cand := filepath.Join(dir, "..", "shared")
		if fi, err := os.Stat(filepath.Join(cand, "models")); err == nil && fi.IsDir() {
			return filepath.Clean(cand)
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Path returns the path of a file under ../shared, skipping the test when it
// is absent. In CI (CI=true) the directory is present, so absence fails.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	dir := Dir()
	p := filepath.Join(dir, rel)
	if dir != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("needs ../shared/%s, which CI provides: it is missing", rel)
	}
	tb.Skipf("needs ../shared/%s beside the repository (present in CI; not in a user's clone)", rel)
	return ""
}

// GoogLeNet returns the path of the BVLC GoogLeNet ONNX file.
func GoogLeNet(tb testing.TB) string {
	return Path(tb, filepath.Join("models", "googlenet-bvlc.onnx"))
}
