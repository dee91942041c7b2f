// Package shared finds the read-only ../shared directory (models, fixtures,
// photos) that sits beside the repository in CI and on the developers'
// machines, for tests and benchmarks. A user's clone has no such directory:
// the tests that need it skip, saying so.
package shared

import (
	"math"
	"os"
	"path/filepath"
	"slices"
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

// CheckGradient applies the gradient tolerance of fixtures/README.md to got
// against the reference want: relative L2 error below 1e-2, and the 99.9th
// percentile of |got-want| below 1% of max|want| (float32 may flip a
// near-tie in a max-pool window, which moves a few values). what names the
// quantity in failure messages.
func CheckGradient(tb testing.TB, what string, got, want []float32) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: %d values, the reference has %d", what, len(got), len(want))
	}
	var num, den, maxRef float64
	diffs := make([]float64, len(got))
	for i := range got {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
		diffs[i] = math.Abs(d)
		maxRef = max(maxRef, math.Abs(float64(want[i])))
	}
	if rel := math.Sqrt(num / den); !(rel < 1e-2) {
		tb.Errorf("%s: relative L2 error %.3g, want < 1e-2", what, rel)
	}
	slices.Sort(diffs)
	p := diffs[int(0.999*float64(len(diffs)))]
	if !(p < 0.01*maxRef) {
		tb.Errorf("%s: 99.9th percentile |diff| %.4g, want < %.4g (1%% of max|ref|)", what, p, 0.01*maxRef)
	}
	tb.Logf("%s: relative L2 error %.3g, 99.9th percentile |diff| %.3g of max|ref|", what, math.Sqrt(num/den), p/maxRef)
}
