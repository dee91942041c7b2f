// Package atomicfile writes files so that readers see either the old file
// or the whole new one: data goes to a temporary file .NAME.tmp-* in the
// same directory, is synced, and is renamed over the target; on error the
// temporary file is removed.
//
// The new file has the mode of the file it replaces, or 0666 less the
// umask when there is none, as a file made by os.Create has. On Unix each
// temporary file is locked (flock) while it is written, so that a write
// can tell those of a process that died (killed before it could clean up)
// from those of a live one, and removes the dead ones of its target. Check
// finds, before any long work, what would make Write fail for want of a
// place to write. Errors name the target, never the temporary file.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Write creates path with the bytes fill writes, atomically.
func Write(path string, fill func(w io.Writer) error) (err error) {
	mode, err := targetMode(path)
	if err != nil {
		return err
	}
	removeStale(path)
	f, err := create(path)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = hideTemp(err, tmp, path)
		}
	}()
	if err = fill(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if mode != 0 {
		if err = f.Chmod(mode); err != nil {
			return err
		}
	}
	return commit(f, path)
}

// Check reports whether Write could write path, without writing it: that
// path is not a directory or another non-regular file, and that a file can
// be created beside it (the directory exists and is writable). Call it
// before the long work whose result goes to path.
func Check(path string) error {
	if _, err := targetMode(path); err != nil {
		return err
	}
	f, err := create(path)
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	if err := os.Remove(tmp); err != nil {
		return hideTemp(err, tmp, path)
	}
	return nil
}

// targetMode returns the permission bits of the file at path, which Write
// keeps, or 0 when there is no file there yet.
func targetMode(path string) (fs.FileMode, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, nil
	case err != nil:
		return 0, err
	case st.IsDir():
		return 0, fmt.Errorf("%s is a directory", path)
	case !st.Mode().IsRegular():
		return 0, fmt.Errorf("%s is not a regular file (%v)", path, st.Mode().Type())
	}
	return st.Mode().Perm(), nil
}

// tempPrefix returns the start of the names of path's temporary files.
func tempPrefix(path string) (dir, prefix string) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	return dir, "." + base + ".tmp-"
}

// create makes a new temporary file for path, locked, with mode 0666 less
// the umask (os.CreateTemp's files are 0600).
func create(path string) (*os.File, error) {
	dir, prefix := tempPrefix(path)
	for range 100 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("%s: cannot create a file in %s: %w", path, dir, err)
		}
		if !lock(f) { // removed as stale between its creation and the lock
			f.Close()
			continue
		}
		return f, nil
	}
	return nil, fmt.Errorf("%s: cannot create a temporary file in %s", path, dir)
}

// removeStale removes path's temporary files that no live process is
// writing: those left by a process killed before it could remove them.
func removeStale(path string) {
	dir, prefix := tempPrefix(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) {
			removeIfUnlocked(filepath.Join(dir, e.Name()))
		}
	}
}

// hideTemp rewrites an error that names the temporary file tmp to name
// path instead.
func hideTemp(err error, tmp, path string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == tmp {
		pe.Path = path
		return err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return &fs.PathError{Op: "rename", Path: path, Err: le.Err}
	}
	return err
}

// SameFile reports whether a and b name the same existing file, so that a
// command can refuse to write its output over its input.
func SameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}
