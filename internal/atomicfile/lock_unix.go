//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package atomicfile

import (
	"os"
	"syscall"
)

// lock takes an exclusive flock on the new temporary file (or directory) f, held until f
// is closed, by exit or death; it reports false when a removeStale got
// there first and removed f.
func lock(f *os.File) bool {
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX) != nil {
		return true // a file system without locks: nothing is removed as stale either
	}
	var st syscall.Stat_t
	return syscall.Fstat(int(f.Fd()), &st) != nil || st.Nlink > 0
}

// removeIfUnlocked removes the temporary file or directory at name if no
// process holds its lock.
func removeIfUnlocked(name string) {
	f, err := os.Open(name)
	if err != nil {
		return
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
		os.RemoveAll(name)
	}
}

// commit renames f to path, then closes it: the lock is held until the
// temporary name is gone. (f is synced: closing it can lose nothing.)
func commit(f *os.File, path string) error {
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	f.Close()
	return nil
}
