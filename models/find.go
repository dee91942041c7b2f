package models

import (
	"fmt"

	"github.com/deepdream-go/deepdream/internal/recorded"
)

// HashFile returns the size and sha256 (lower-case hex) of the file at
// path: a model file's identity, as the registry's entries have theirs.
func HashFile(path string) (size int64, sum string, err error) {
	if size, sum, err = recorded.HashFile(path); err != nil {
		return 0, "", fmt.Errorf("models: %w", err)
	}
	return size, sum, nil
}

// NotFoundError says that no file with a model's sha256 was found.
type NotFoundError = recorded.NotFoundError

// Find returns the .onnx file of dirs whose sha256 is sum, trying the files
// named name first (a model moved with its name), then the others in
// name order; it stops at the first match (recorded.Find, which finds the
// other files a record names too). Directories that do not exist are
// skipped. No match is a *NotFoundError.
func Find(sum, name string, dirs []string) (string, error) {
	path, err := recorded.Find(sum, name, dirs, []string{".onnx"})
	if err != nil {
		return "", fmt.Errorf("models: %w", err)
	}
	return path, nil
}
