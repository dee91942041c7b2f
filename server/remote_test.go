package server

import (
	"context"
	"net/http"
	"testing"
	"time"

	jobqueue "github.com/deepdream-go/deepdream/queue"
)

// remoteStudio is a studio whose dreams go to a NATS server in this
// process, dreamed by one worker named w1.
func remoteStudio(t *testing.T) (*studio, *jobqueue.Client) {
	s, remote, _ := remoteStudioWork(t)
	return s, remote
}

// remoteStudioWork is remoteStudio, and the work directory of its
// worker's zoom and video jobs.
func remoteStudioWork(t *testing.T) (*studio, *jobqueue.Client, string) {
	q := newNATSQueue(t)
	remote := q.client(t)
	q.worker(t)
	return newStudio(t, Config{Remote: remote, Queue: 4}), remote, q.workDir
}

func TestRemoteWorkersDreamIntoTheGallery(t *testing.T) {
	s, remote := remoteStudio(t)
	photo := pngPhoto(t, 16, 16)
	kept := s.mustSubmit(t, photo, small...)
	tile := s.mustSubmit(t, photo, append(small, "gallery=0", "kind=explore", "group=g")...)
	// The long job takes seconds here (a tenth of a second at 128 by 128 did
	// end before the test could cancel it); it is cancelled before the
	// others are waited for, so that the worker's order does not matter.
	long := s.mustSubmit(t, pngPhoto(t, 512, 512), "octaves=1", "iterations=500")
	deadline := time.Now().Add(10 * time.Second)
	for st := (Status{}); st.State != stateRunning && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		s.get(t, "/api/jobs/"+long.ID, &st)
	}
	if res := s.do(t, "DELETE", "/api/jobs/"+long.ID); res.StatusCode != http.StatusOK {
		t.Errorf("cancelling the running job: %s", res.Status)
	}
	if end := s.wait(t, long.ID); end.State != stateCancelled {
		t.Errorf("the cancelled job ended %+v", end)
	}
	for _, id := range []string{kept.ID, tile.ID} {
		if end := s.wait(t, id); end.State != stateDone || end.Worker != "w1" {
			t.Errorf("job %s ended %+v, want done by w1", id, end)
		}
	}
	entries := s.entries(t)
	if len(entries) != 1 || entries[0].ID != kept.ID || entries[0].Params.Request.Iterations != 3 {
		t.Fatalf("gallery %+v, want the one kept job", entries)
	}
	if res := s.get(t, "/api/jobs/"+tile.ID+"/result", nil); res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
		t.Errorf("the tile's result: %s", res.Status)
	}
	if res := s.get(t, entries[0].Result, nil); res.StatusCode != http.StatusOK {
		t.Errorf("the entry's result: %s", res.Status)
	}
	// A job is forgotten just after its end.
	var names []string
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if names, err = remote.Files(context.Background()); err == nil && len(names) == 0 {
			break
		}
	}
	if err != nil || len(names) != 0 {
		t.Errorf("files left in the queue: %v %v", names, err)
	}
}
