package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// A client that went away without forgetting its jobs (a crash) is
// followed by one that takes them back: Pending lists them with their
// tasks as submitted, Follow gives each its state at once (a job done
// while nobody followed it), and a job whose task never reached the
// stream is queued again.
func TestPendingJobsAreTakenBack(t *testing.T) {
	e, err := Embed(EmbedOptions{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	first, err := NewClient(ctx, connect(t, e.URL), Config{AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mask := photo(t, 24, 24)
	for _, id := range []string{"a", "b"} {
		tk := task(id, 2)
		tk.Client = json.RawMessage(`{"owner":"` + id + `"}`)
		files := map[string][]byte{"photo": photo(t, 24, 24)}
		if id == "b" {
			tk.Images, files["mask.png"] = []string{"mask.png"}, mask
		}
		if err := first.Submit(ctx, tk, files, func(Event) {}); err != nil {
			t.Fatal(err)
		}
	}
	// "lost": the first client stopped after storing its state, before
	// queueing it (submit's steps but the last).
	lost := task("lost", 2)
	lost.MaxAttempts = DefaultMaxAttempts
	data, _ := json.Marshal(lost)
	state, _ := json.Marshal(State{State: Queued})
	if _, err := first.h.files.PutBytes(ctx, photoObject("lost"), photo(t, 24, 24)); err != nil {
		t.Fatal(err)
	}
	if _, err := first.h.files.PutBytes(ctx, taskObject("lost"), data); err != nil {
		t.Fatal(err)
	}
	if _, err := first.h.kv.Create(ctx, "lost", state); err != nil {
		t.Fatal(err)
	}
	// "legacy": a state without a task, as a client before tasks were
	// kept left it.
	if _, err := first.h.kv.Create(ctx, "legacy", state); err != nil {
		t.Fatal(err)
	}
	first.Close() // and never Forgets

	runWorkers(t, 1, 1<<30, e.URL)
	second, err := NewClient(ctx, connect(t, e.URL), Config{AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	var pending []Pending
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if pending, err = second.Pending(ctx); err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, p := range pending {
			if p.State.State == Done {
				done++
			}
		}
		if done == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs a and b not done: %+v", pending)
		}
	}
	byID := map[string]Pending{}
	for _, p := range pending {
		id := "legacy"
		if p.Task != nil {
			id = p.Task.ID
		}
		byID[id] = p
	}
	if len(pending) != 4 || len(byID) != 4 || byID["legacy"].Task != nil {
		t.Fatalf("pending %+v, want a, b, lost and a legacy job without a task", pending)
	}
	if p := byID["b"]; string(p.Task.Client) != `{"owner":"b"}` || !slices.Equal(p.Task.Images, []string{"mask.png"}) || p.Task.Record.ModelSHA256 != tinySHA {
		t.Errorf("b's task came back as %+v", p.Task)
	}
	if p := byID["lost"]; p.State.State != Queued {
		t.Errorf("the lost job is %+v, want still queued (its task never reached the stream)", p.State)
	}
	if got, err := second.File(ctx, "b", "mask.png"); err != nil || !bytes.Equal(got, mask) {
		t.Errorf("b's mask: %d bytes, %v", len(got), err)
	}
	if err := second.Follow(ctx, "nosuchjob", func(Event) {}); err == nil || !strings.Contains(err.Error(), "nosuchjob") {
		t.Errorf("following a job the queue does not hold: %v", err)
	}

	l := newLedger()
	for _, id := range []string{"a", "b", "lost"} {
		if err := second.Follow(ctx, id, l.watch); err != nil {
			t.Fatal(err)
		}
	}
	l.wait(t, 3, 20*time.Second)
	if err := second.Forget(ctx, "legacy"); err != nil {
		t.Fatal(err)
	}
	l.collect(t, second, []string{"a", "b", "lost"})
	if pending, err := second.Pending(ctx); err != nil || len(pending) != 0 {
		t.Errorf("left in the queue: %+v %v", pending, err)
	}
}
