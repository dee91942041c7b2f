package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReplacesWholeFileOrNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	if err := Write(path, func(w io.Writer) error { _, err := io.WriteString(w, "first"); return err }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		_, _ = io.WriteString(w, "partial")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != "first" {
		t.Errorf("file = %q after a failed write, want the old contents", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after a failed write, want 1 (no temp file left)", len(entries))
	}
	if !SameFile(path, filepath.Join(dir, ".", "out.txt")) || SameFile(path, filepath.Join(dir, "other")) {
		t.Error("SameFile is wrong")
	}
}

// TestCheckNamesTheTarget checks outputs that cannot be written: a
// directory, a file in a missing directory, a file under a file, and (not
// as root, whom permissions do not stop) a read-only directory. Each error
// names the target, never a temporary file, and Check leaves nothing.
func TestCheckNamesTheTarget(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(dir, "ro")
	if err := os.Mkdir(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		dir:                                    "is a directory",
		filepath.Join(dir, "missing", "o.png"): "no such file or directory",
		filepath.Join(file, "o.png"):           "not a directory",
	}
	if os.Geteuid() != 0 {
		cases[filepath.Join(readOnly, "o.png")] = "permission denied"
	}
	for path, want := range cases {
		for _, err := range []error{Check(path), Write(path, func(io.Writer) error { return nil })} {
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), ".tmp-") {
				t.Errorf("%s: %v; want an error naming it, saying %q", path, err, want)
			}
		}
	}
	if err := Check(filepath.Join(dir, "new.png")); err != nil {
		t.Error(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("Check left %d entries, want the 2 made here", len(entries))
	}
}
