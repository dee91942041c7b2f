//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/queue"
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

// TestBatchOnAQueueTakesBackItsJobs kills batch --nats (SIGKILL) while
// its first two jobs wait on a queue without workers, twice: run A with
// --seed 3, then run B with --seed 4 on the same OUT_DIR. Then a worker
// comes, and A's batch runs again: it takes back A's two jobs instead of
// sending them again (the worker dreams each of A's four photos once),
// writes what a batch in this process writes, and removes B's jobs,
// which it did not dream; nothing is left on the queue.
func TestBatchOnAQueueTakesBackItsJobs(t *testing.T) {
	model := writeONNX(t)
	in, want := photoFolder(t)
	e := embedQueue(t, queue.EmbedOptions{})
	observer, err := queue.Attach(context.Background(), natsConn(t, e.URL, ""), queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer observer.Close()
	queued := func() int {
		p, err := observer.Pending(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, x := range p {
			if x.Task != nil && x.State.State == queue.Queued {
				n++
			}
		}
		return n
	}

	out := filepath.Join(t.TempDir(), "dreams")
	args := func(seed string) []string {
		return append([]string{"batch", in, "-o", out, "--nats", e.URL}, append(batchArgs(model), "--seed", seed, "--quiet=false")...)
	}
	for i, seed := range []string{"3", "4"} {
		cmd, stderr := startMain(t, args(seed)...)
		for deadline := time.Now().Add(time.Minute); queued() < 2*(i+1); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) { // a hang, not a measure of speed
				cmd.Process.Kill()
				t.Fatalf("run %d: no 2 jobs queued after a minute; stderr:\n%s", i+1, stderr.String())
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if i == 1 && !strings.Contains(stderr.String(), "batch: 2 jobs of an earlier run of this batch are on the queue") {
			t.Errorf("run B did not see A's jobs; stderr:\n%s", stderr.String())
		}
	}
	if names, _ := files(t, out); len(names) != 0 {
		t.Fatalf("the killed batches wrote %v", names)
	}

	net := openModel(t, model)
	var mu sync.Mutex
	dreamed := map[uint64]int{} // jobs the worker ran, by seed
	startQueueWorker(t, natsConn(t, e.URL, ""), "w", func(_ context.Context, rec dream.Record) (*dream.Network, error) {
		mu.Lock()
		dreamed[rec.Request.Seed]++
		mu.Unlock()
		return net, nil
	})

	code, _, errOut := cli(t, context.Background(), args("3")...)
	if code != 0 {
		t.Fatalf("A again: exit %d; stderr:\n%s", code, errOut)
	}
	for _, line := range []string{
		"batch: 4 jobs of an earlier run of this batch are on the queue",
		"batch: 2 jobs of an earlier run, of photos or settings this run did not dream, are removed from the queue",
	} {
		if !strings.Contains(errOut, line) {
			t.Errorf("A again does not say %q; stderr:\n%s", line, errOut)
		}
	}
	mu.Lock()
	if dreamed[3] != 4 {
		t.Errorf("the worker dreamed %d jobs of A's 4 photos, want 4: each once", dreamed[3])
	}
	mu.Unlock()
	local := filepath.Join(t.TempDir(), "local")
	if code, _, errOut := cli(t, context.Background(), append([]string{"batch", in, "-o", local}, append(batchArgs(model), "--seed", "3")...)...); code != 0 {
		t.Fatalf("in this process: exit %d: %s", code, errOut)
	}
	if names, _ := files(t, out); !slices.Equal(names, want) {
		t.Fatalf("A again wrote %v, want %v", names, want)
	}
	for _, name := range want {
		a, _ := os.ReadFile(filepath.Join(local, name))
		b, _ := os.ReadFile(filepath.Join(out, name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s is not the dream of a batch in this process", name)
		}
	}
	if n := queued(); n != 0 {
		t.Errorf("%d jobs left queued", n)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		p, errP := observer.Pending(context.Background())
		names, errF := observer.Files(context.Background())
		if errP == nil && errF == nil && len(p) == 0 && len(names) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("left on the queue: %d jobs, files %v (%v, %v)", len(p), names, errP, errF)
		}
	}
}
