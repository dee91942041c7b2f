//go:build unix

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestKilledStudioTakesBackItsJob sends a dream to the studio (its
// embedded NATS server, no worker of its own), SIGKILLs it once the job
// is on the queue, and starts it again on the same --data, with a
// worker: the studio takes the job back, and the dream lands in the
// gallery once; nothing is left in the queue's object store.
func TestKilledStudioTakesBackItsJob(t *testing.T) {
	_, model := tinyModelsDir(t)
	natsAddr := freeAddr(t)
	dataDir := t.TempDir()
	studioAt := regexp.MustCompile(`studio at (http://[^/ ]+)/`)
	serve := func(workers string) (base string, stop func(sig syscall.Signal), log *syncBuffer) {
		cmd, stderr := startMain(t, "serve", "--addr", "127.0.0.1:0", "--data", dataDir, "--model", model, "--offline",
			"--max-memory", "1G", "--nats-listen", natsAddr, "--workers", workers)
		stopped := false
		stop = func(sig syscall.Signal) {
			if !stopped {
				stopped = true
				cmd.Process.Signal(sig)
				cmd.Wait()
			}
		}
		t.Cleanup(func() { stop(syscall.SIGTERM) })
		waitFor(t, stderr, "deepdream: studio at ")
		return studioAt.FindStringSubmatch(stderr.String())[1], stop, stderr
	}

	base, kill, log := serve("0")
	id := submitJob(t, base, gradientPNG(t, 32, 24), "octaves=1", "iterations=2", "seed=3")
	waitFor(t, log, "job "+id+" queued")
	// On the queue once the studio lists it as sent: its state stays
	// queued, with no worker, so the page's status cannot tell; the
	// queue's bucket can.
	waitForJobOnQueue(t, "nats://"+natsAddr, id)
	kill(syscall.SIGKILL)

	base, _, log = serve("1")
	var st jobStatus
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st = jobState(t, base, id); st.State == "done" || st.State == "failed" || st.State == "cancelled" {
			break
		}
	}
	if st.State != "done" || st.Entry != id {
		t.Fatalf("the job of the killed studio ended %+v, want done into the gallery; the studio said:\n%s", st, log.String())
	}
	if !strings.Contains(log.String(), "job "+id+" taken back from the queue") {
		t.Errorf("the studio did not say it took the job back:\n%s", log.String())
	}
	res, err := http.Get(base + "/api/gallery")
	if err != nil {
		t.Fatal(err)
	}
	var g struct{ Entries []struct{ ID string } }
	json.NewDecoder(res.Body).Decode(&g)
	res.Body.Close()
	if len(g.Entries) != 1 || g.Entries[0].ID != id {
		t.Errorf("gallery %+v, want the job once", g.Entries)
	}
	checkObjectStoreEmpty(t, "nats://"+natsAddr)
}

// waitForJobOnQueue waits until the queue at natsURL holds the state of
// job id.
func waitForJobOnQueue(t *testing.T, natsURL, id string) {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if kv, err := js.KeyValue(context.Background(), "dream-jobs"); err == nil {
			if _, err := kv.Get(context.Background(), id); err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s never reached the queue", id)
		}
	}
}
