package models

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
// path: a model file's identity, as the registry's entries have theirs.
func HashFile(path string) (size int64, sum string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", fmt.Errorf("models: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if size, err = io.Copy(h, f); err != nil {
		return 0, "", fmt.Errorf("models: reading %s: %w", path, err)
	}
	return size, hex.EncodeToString(h.Sum(nil)), nil
}

// NotFoundError says that no file with a model's sha256 was found.
type NotFoundError struct {
	Name, SHA256 string   // the model as recorded: its file's base name and sha256
	Dirs         []string // where Find looked
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("models: no file with sha256 %s (%s) in %s", e.SHA256, e.Name, strings.Join(e.Dirs, ", "))
}

// Find returns the .onnx file of dirs whose sha256 is sum, trying the files
// named name first (a model moved with its name), then the others in
// name order; it stops at the first match. Directories that do not exist
// are skipped. No match is a *NotFoundError.
func Find(sum, name string, dirs []string) (string, error) {
	return FindFile(sum, name, dirs, ".onnx")
}

// FindFile is Find for the files of dirs with one of the extensions exts
// (lower-case, with the dot; matched in any case): a dream's guide image
// is found again by its sha256 as its model is.
func FindFile(sum, name string, dirs []string, exts ...string) (string, error) {
	var named, others []string
	for _, dir := range dirs {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !slices.Contains(exts, strings.ToLower(filepath.Ext(e.Name()))) {
				continue
			}
			f := filepath.Join(dir, e.Name())
			if e.Name() == name {
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
