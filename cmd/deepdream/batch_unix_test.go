//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBatchResumesAfterSIGKILL kills a batch (SIGKILL: no chance to clean
// up) once two dreams are written, while it waits to read the third photo,
// a pipe nobody writes to, so that the kill lands at the same place on
// every machine. Run again with the photo in place of the pipe, the batch
// leaves the two dreams as they are and writes the others; the folder
// then holds what a batch never interrupted writes, byte for byte.
func TestBatchResumesAfterSIGKILL(t *testing.T) {
	model := writeONNX(t)
	in, want := photoFolder(t)
	// birds/deeper/person.jpeg and birds/eagle.png are dreamed first;
	// dog.jpg waits as a pipe.
	dog := filepath.Join(in, "dog.jpg")
	real, err := os.ReadFile(dog)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(dog)
	if err := syscall.Mkfifo(dog, 0o600); err != nil {
		t.Skip(err)
	}
	pipe, err := os.OpenFile(dog, os.O_RDWR, 0) // a writer, so that the batch's open does not block; it writes nothing
	if err != nil {
		t.Fatal(err)
	}
	defer pipe.Close()

	out := filepath.Join(t.TempDir(), "dreams")
	args := append([]string{"batch", in, "-o", out}, batchArgs(model)...)
	cmd, stderr := startMain(t, args...)
	defer cmd.Process.Kill()
	first := want[:2]
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if got, _ := files(t, out); slices.Equal(got, first) {
			break
		}
		if time.Now().After(deadline) { // a hang, not a measure of speed
			t.Fatalf("no dreams %v after a minute; stderr:\n%s", first, stderr.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	names, killed := files(t, out)
	if !slices.Equal(names, first) { // nor a temporary file
		t.Fatalf("the killed batch left %v, want %v", names, first)
	}

	pipe.Close()
	if err := os.Remove(dog); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dog, real, 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // so that a file written again has another time
	ctx := context.Background()
	code, _, errOut := cli(t, ctx, append(args[:len(args)-1], "--quiet=false")...)
	if code != 0 || !strings.Contains(errOut, "4 photos: 2 dreamed, 2 already dreamed") {
		t.Fatalf("the batch again: exit %d; stderr:\n%s", code, errOut)
	}
	got, resumed := files(t, out)
	if !slices.Equal(got, want) {
		t.Fatalf("the resumed batch wrote %v, want %v", got, want)
	}
	for _, name := range first {
		if !os.SameFile(killed[name], resumed[name]) || !killed[name].ModTime().Equal(resumed[name].ModTime()) {
			t.Errorf("%s, written before the kill, was written again", name)
		}
	}

	whole := filepath.Join(t.TempDir(), "whole")
	if code, _, errOut := cli(t, ctx, append([]string{"batch", in, "-o", whole}, batchArgs(model)...)...); code != 0 {
		t.Fatalf("the uninterrupted batch: exit %d; stderr:\n%s", code, errOut)
	}
	if names, _ := files(t, whole); !slices.Equal(names, want) {
		t.Fatalf("the uninterrupted batch wrote %v, want %v", names, want)
	}
	for _, name := range want {
		a, _ := os.ReadFile(filepath.Join(out, name))
		b, _ := os.ReadFile(filepath.Join(whole, name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from the uninterrupted batch's", name)
		}
	}
}
