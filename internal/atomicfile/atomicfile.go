// Package atomicfile writes files so that readers see either the old file
// or the whole new one: data goes to a temporary file .NAME.tmp-* in the
// same directory, is synced, and is renamed over the target; on error the
// temporary file is removed. Create and CreateDir give the temporary
// file, or a temporary directory .NAME.tmp-*, to a writer that cannot
// take an io.Writer (a program that writes the file by name, files
// written one by one over a long job) until Commit renames it over the
// target or Abort removes it.
//
// The new file has the mode of the file it replaces, or 0666 less the
// umask when there is none, as a file made by os.Create has. On Unix each
// temporary file or directory is locked (flock) while it is written, so that a write
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
	p, err := Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			p.Abort()
			err = hideTemp(err, p.f.Name(), path)
		}
	}()
	if err = fill(p.f); err != nil {
		return err
	}
	return p.Commit()
}

// Pending is a file or directory being written under a temporary name
// beside its target, locked, until Commit puts it in place or Abort
// removes it. Write is Create, fill, Commit; Create serves a writer that
// cannot be given an io.Writer, such as a program that writes the file
// by name (Name), or one whose output comes piece by piece over a long
// job; CreateDir, a directory of files.
type Pending struct {
	f    *os.File // the temporary file, or the temporary directory opened (its lock)
	path string
	mode fs.FileMode // of the file replaced, 0 when none
}

// Create starts writing path: a new temporary file, Name, whose stale
// predecessors (left by killed processes) are removed. Until Commit,
// path is untouched.
func Create(path string) (*Pending, error) {
	mode, err := targetMode(path)
	if err != nil {
		return nil, err
	}
	removeStale(path)
	f, err := create(path)
	if err != nil {
		return nil, err
	}
	return &Pending{f: f, path: path, mode: mode}, nil
}

// CreateDir starts writing the directory path: a new temporary
// directory, Name, locked while it is written, which Commit puts in
// place of path. A directory at path is replaced whole: the caller
// checks first that it may be.
func CreateDir(path string) (*Pending, error) {
	st, err := os.Stat(path)
	switch {
	case err == nil && !st.IsDir():
		return nil, fmt.Errorf("%s is not a directory", path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	removeStale(path)
	f, err := newTemp(path, "directory", func(name string) (*os.File, error) {
		if err := os.Mkdir(name, 0o777); err != nil {
			return nil, err
		}
		f, err := os.Open(name)
		if err != nil {
			os.Remove(name)
			return nil, hideTemp(err, name, path)
		}
		return f, nil
	})
	if err != nil {
		return nil, err
	}
	return &Pending{f: f, path: path}, nil
}

// Name is the temporary file's or directory's path.
func (p *Pending) Name() string { return p.f.Name() }

// Commit syncs the temporary file (or directory) and renames it over
// path. A directory replaced is removed: between the two renames path
// is briefly absent.
func (p *Pending) Commit() error {
	st, err := p.f.Stat()
	if err == nil {
		err = p.f.Sync()
		if st.IsDir() {
			err = nil // best effort: not every system syncs a directory
		}
	}
	if err != nil {
		p.Abort()
		return hideTemp(err, p.f.Name(), p.path)
	}
	if !st.IsDir() {
		if p.mode != 0 {
			if err := p.f.Chmod(p.mode); err != nil {
				p.Abort()
				return hideTemp(err, p.f.Name(), p.path)
			}
		}
		if err := commit(p.f, p.path); err != nil {
			p.Abort()
			return hideTemp(err, p.f.Name(), p.path)
		}
		return nil
	}
	var old string // the directory replaced, under a temporary name: stale if we die now
	if st, err := os.Stat(p.path); err == nil && st.IsDir() {
		dir, prefix := tempPrefix(p.path)
		old = filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		if err := os.Rename(p.path, old); err != nil {
			p.Abort()
			return hideTemp(err, old, p.path)
		}
	}
	if err := commit(p.f, p.path); err != nil {
		if old != "" {
			os.Rename(old, p.path)
		}
		p.Abort()
		return hideTemp(err, p.f.Name(), p.path)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// Abort removes the temporary file or directory; path is as it was.
func (p *Pending) Abort() {
	p.f.Close()
	os.RemoveAll(p.f.Name())
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
	return newTemp(path, "file", func(name string) (*os.File, error) {
		return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	})
}

// newTemp makes a new temporary file or directory (what) for path with
// mk, under random names until one is free (mk fails with
// fs.ErrExist), and returns it open and locked. mk's error that names
// the temporary (os.OpenFile's, os.Mkdir's *fs.PathError) is told as
// path's and its directory's; others (hideTemp's) are returned as they
// are.
func newTemp(path, what string, mk func(name string) (*os.File, error)) (*os.File, error) {
	dir, prefix := tempPrefix(path)
	for range 100 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := mk(name)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) && pe.Path == name {
			return nil, fmt.Errorf("%s: cannot create a %s in %s: %w", path, what, dir, pe.Err)
		}
		if err != nil {
			return nil, err
		}
		if !lock(f) { // removed as stale between its creation and the lock
			f.Close()
			continue
		}
		return f, nil
	}
	return nil, fmt.Errorf("%s: cannot create a temporary %s in %s", path, what, dir)
}

// removeStale removes path's temporary files and directories that no
// live process is writing: those left by a process killed before it could
// remove them.
func removeStale(path string) {
	dir, prefix := tempPrefix(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if (e.Type().IsRegular() || e.IsDir()) && strings.HasPrefix(e.Name(), prefix) {
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
