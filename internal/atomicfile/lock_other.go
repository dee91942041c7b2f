//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package atomicfile

import "os"

// Without flock, no temporary file can be told to be stale: none is
// removed but by the write that made it.

func lock(*os.File) bool { return true }

func removeIfUnlocked(string) {}

// commit closes f, then renames it to path (Windows renames no open file).
func commit(f *os.File, path string) error {
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
