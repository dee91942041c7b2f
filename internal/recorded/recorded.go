// Package recorded finds again the files a dream's record names by their
// sha256 (a model file, a mask): the one helper for "a file named in a
// record". A record keeps a file's base name and sha256, never its
// directory; the sha256 is its identity, so a file moved or renamed is
// found, and a different file of the same name is not taken for it.
package recorded

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// HashFile returns the size and sha256 (lower-case hex) of the file at
// path.
func HashFile(path string) (size int64, sum string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	if size, err = io.Copy(h, f); err != nil {
		return 0, "", fmt.Errorf("reading %s: %w", path, err)
	}
	return size, hex.EncodeToString(h.Sum(nil)), nil
}

// NotFoundError says that no file with a recorded sha256 was found.
type NotFoundError struct {
	Name, SHA256 string   // the file as recorded: its base name and sha256
	Dirs         []string // where Find looked
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no file with sha256 %s (%s) in %s", e.SHA256, e.Name, strings.Join(e.Dirs, ", "))
}

// Find returns the file of dirs whose sha256 is sum, among those whose
// name ends in one of exts (compared without case, e.g. ".onnx"), trying
// the files named name first (a file moved with its name), then the
// others in name order; it stops at the first match. Directories that do
// not exist are skipped. No match is a *NotFoundError.
func Find(sum, name string, dirs, exts []string) (string, error) {
	var named, others []string
	for _, dir := range dirs {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if !slices.Contains(exts, ext) {
				continue
			}
			if f := filepath.Join(dir, e.Name()); e.Name() == name {
				named = append(named, f)
			} else {
				others = append(others, f)
			}
		}
	}
	slices.Sort(others)
	seen := map[string]bool{}
	for _, f := range append(named, others...) {
		abs, err := filepath.Abs(f)
		if err != nil || seen[abs] {
			continue
		}
		seen[abs] = true
		if st, err := os.Stat(f); err != nil || !st.Mode().IsRegular() {
			continue
		}
		if _, s, err := HashFile(f); err == nil && s == sum {
			return f, nil
		}
	}
	return "", &NotFoundError{Name: name, SHA256: sum, Dirs: dirs}
}
