//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package atomicfile

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func writeString(path, s string) error {
	return Write(path, func(w io.Writer) error { _, err := io.WriteString(w, s); return err })
}

// TestModeFollowsUmaskAndReplacedFile writes a new file under two umasks,
// then replaces a file of another mode: a new file has 0666 less the
// umask, a replaced one keeps its mode (it was always 0644).
func TestModeFollowsUmaskAndReplacedFile(t *testing.T) {
	dir := t.TempDir()
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	for _, c := range []struct {
		umask int
		want  fs.FileMode
	}{{0o077, 0o600}, {0o022, 0o644}, {0o002, 0o664}} {
		syscall.Umask(c.umask)
		path := filepath.Join(dir, "new")
		os.Remove(path)
		if err := writeString(path, "x"); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != c.want {
			t.Errorf("umask %03o: new file mode %v, want %v", c.umask, st.Mode().Perm(), c.want)
		}
	}
	syscall.Umask(0o022)
	path := filepath.Join(dir, "kept")
	for _, mode := range []fs.FileMode{0o600, 0o640, 0o755} {
		if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if err := writeString(path, "new"); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != mode {
			t.Errorf("replacing a %v file: mode %v", mode, st.Mode().Perm())
		}
	}
}

// TestStaleTempFilesAreRemoved leaves two temporary files of a target,
// one as a killed process would (unlocked) and one as a live writer holds
// it (locked): the next write of the target removes the first only, and
// temporary files of other targets are left alone.
func TestStaleTempFilesAreRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.png")
	stale := filepath.Join(dir, ".out.png.tmp-12345")
	live := filepath.Join(dir, ".out.png.tmp-67890")
	other := filepath.Join(dir, ".out.png.bak.tmp-1")
	for _, p := range []string{stale, live, other} {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Skipf("no flock here: %v", err)
	}
	if err := writeString(path, "x"); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{stale: false, live: true, other: true, path: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}

// TestPendingByNameAndDir writes a file by its temporary name, as a
// program given the name does, and a directory that replaces another
// whole; a stale temporary directory (unlocked) is removed by the next
// write of its target, a live one (locked) is not.
func TestPendingByNameAndDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.mp4")
	p, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Name(), []byte("video"), 0o600); err != nil { // truncates the file, keeps its inode and lock
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("the target exists before Commit")
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "video" {
		t.Errorf("committed %q", b)
	}

	frames := filepath.Join(dir, "frames")
	stale := filepath.Join(dir, ".frames.tmp-1")
	if err := os.MkdirAll(filepath.Join(stale, "sub"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(frames, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(frames, "old.png"), nil, 0o666); err != nil {
		t.Fatal(err)
	}
	live, err := CreateDir(frames)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale temporary directory is still there")
	}
	second, err := CreateDir(frames) // another writer of the same target: the live one stays
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(live.Name()); err != nil {
		t.Errorf("a live temporary directory was removed: %v", err)
	}
	second.Abort()
	if _, err := os.Stat(second.Name()); err == nil {
		t.Error("Abort left its directory")
	}
	if err := os.WriteFile(filepath.Join(live.Name(), "new.png"), []byte("x"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := live.Commit(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(frames)
	if len(entries) != 1 || entries[0].Name() != "new.png" {
		t.Errorf("the directory holds %v, want new.png only", entries)
	}
	all, _ := os.ReadDir(dir)
	for _, e := range all {
		if e.Name() != "out.mp4" && e.Name() != "frames" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
