//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to write from a process's pipe while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startMain starts this test binary as deepdream with args (TestMain
// runs main when DEEPDREAM_TEST_MAIN is set), its stderr in the buffer
// it returns.
func startMain(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "DEEPDREAM_TEST_MAIN=1")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stderr
}

// waitFor waits for s in b, failing after a minute (a hang, not a
// measure of speed).
func waitFor(t *testing.T, b *syncBuffer, s string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(b.String(), s); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in stderr:\n%s", s, b.String())
		}
	}
}

// TestSecondInterruptExitsAtOnce dreams a photo that is a pipe nobody
// writes to: the command blocks reading it, where no interrupt is seen.
// The first SIGINT is acknowledged; the second exits at once with 130
// (it used to be ignored until the work was done).
func TestSecondInterruptExitsAtOnce(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.png")
	if err := syscall.Mkfifo(photo, 0o600); err != nil {
		t.Skip(err)
	}
	pipe, err := os.OpenFile(photo, os.O_RDWR, 0) // a writer, so that the command's open does not block; it writes nothing
	if err != nil {
		t.Fatal(err)
	}
	defer pipe.Close()
	cmd, stderr := startMain(t, "dream", photo, "-o", filepath.Join(dir, "o.png"), "--model", model)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()
	waitFor(t, stderr, "preprocessing settings not set") // the model is loaded: the photo is being read
	cmd.Process.Signal(os.Interrupt)
	waitFor(t, stderr, "interrupting (interrupt again to exit at once)")
	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
			t.Errorf("exit %v, want %d; stderr:\n%s", err, exitInterrupted, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("still running a minute after the second interrupt; stderr:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "o.png")); err == nil {
		t.Error("an interrupted dream wrote its output")
	}
}
