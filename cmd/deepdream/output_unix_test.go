//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOutputModeAndStaleTemps dreams over an output of mode 0600, beside
// the temporary file a killed run left: the mode is kept, the temporary
// file removed; a new output has 0666 less the umask.
func TestOutputModeAndStaleTemps(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 24, 16)
	out := filepath.Join(dir, "o.png")
	stale := filepath.Join(dir, ".o.png.tmp-4242")
	for _, p := range []string{out, stale} {
		if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"dream", photo, "--model", model, "--octaves", "1", "--iterations", "1", "-q", "-o"}
	if code, _, errOut := cli(t, context.Background(), append(args, out)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the temporary file of a killed run is still there")
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("the replaced output has mode %v, want its own 0600", st.Mode().Perm())
	}
	defer syscall.Umask(syscall.Umask(0o027))
	fresh := filepath.Join(dir, "new.png")
	if code, _, errOut := cli(t, context.Background(), append(args, fresh)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != fs.FileMode(0o640) {
		t.Errorf("a new output under umask 027 has mode %v, want 0640", st.Mode().Perm())
	}
}
