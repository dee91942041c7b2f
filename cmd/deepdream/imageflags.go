package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
)

// The flags of the commands that read photos (dream, classify, probe).

// registerMaxPixels makes the --max-pixels flag into p.
func registerMaxPixels(fs *pflag.FlagSet, p *int) {
	fs.IntVar(p, "max-pixels", imageio.DefaultMaxPixels,
		"refuse input images with more pixels than this, read from the header before decoding (at least 1)")
}

// checkMaxPixels refuses a --max-pixels below 1, which would refuse every
// image.
func checkMaxPixels(command string, n int) error {
	if n < 1 {
		return usagef("%s: --max-pixels %d: want at least 1", command, n)
	}
	return nil
}

// pixelLimit adds to the refusal of an image over --max-pixels how to
// raise the limit, and why --max-size cannot help: no decoder here
// scales an image down while decoding it.
func pixelLimit(err error) error {
	if errors.Is(err, imageio.ErrTooLarge) {
		return fmt.Errorf("%w (--max-pixels raises the limit; --max-size does not lower it: the photo is decoded at full size before it is scaled down)", err)
	}
	return err
}

// samePath reports whether a and b name one file or folder: the same
// path, whether or not it exists yet, or the same existing file
// (atomicfile.SameFile).
func samePath(a, b string) bool {
	return filepath.Clean(a) == filepath.Clean(b) || atomicfile.SameFile(a, b)
}
