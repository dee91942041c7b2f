package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputCheckedBeforeWork dreams into outputs that cannot be written:
// each fails before the model is loaded (it does not exist) or the photo
// read (it is no image), naming the output, never a temporary file.
func TestOutputCheckedBeforeWork(t *testing.T) {
	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.png")
	if err := os.WriteFile(photo, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(dir, "out.png")
	readOnly := filepath.Join(dir, "ro")
	for _, d := range []string{outDir, readOnly} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(readOnly, 0o555)
	cases := map[string]string{
		outDir:                                 "is a directory",
		filepath.Join(dir, "missing", "o.png"): "no such file or directory",
		filepath.Join(photo, "o.png"):          "not a directory",
	}
	if os.Geteuid() != 0 { // root writes anywhere
		cases[filepath.Join(readOnly, "o.png")] = "permission denied"
	}
	for out, want := range cases {
		for _, args := range [][]string{
			{"dream", photo, "-o", out},
			{"probe", "--input", photo, "--layer", "r", "--out", out},
		} {
			code, _, errOut := cli(t, context.Background(), append(args, "--model", filepath.Join(dir, "missing.onnx"))...)
			if code != exitError || !strings.Contains(errOut, out) || !strings.Contains(errOut, want) || strings.Contains(errOut, ".tmp-") {
				t.Errorf("%s: exit %d, %q; want exit 1 naming the output, saying %q", strings.Join(args, " "), code, errOut, want)
			}
		}
	}
}
