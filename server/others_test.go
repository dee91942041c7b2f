package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	jobqueue "github.com/deepdream-go/deepdream/queue"
)

// otherTask is a job of another client of the queue, for the tiny model:
// client is what it keeps in Task.Client.
func otherTask(t *testing.T, id string, client any) jobqueue.Task {
	req := dream.Defaults()
	req.Layers, req.Octaves, req.Iterations = []string{"relu"}, 1, 2
	tags, err := json.Marshal(client)
	if err != nil {
		t.Fatal(err)
	}
	return jobqueue.Task{ID: id, Record: dream.Record{Model: "tiny", Request: req}, Client: tags}
}

// jobsListed polls GET /api/jobs until ok holds of it, and returns it.
func (s *studio) jobsListed(t *testing.T, what string, ok func(map[string]Status) bool) map[string]Status {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var v struct{ Jobs []Status }
		s.get(t, "/api/jobs", &v)
		m := map[string]Status{}
		for _, st := range v.Jobs {
			if _, dup := m[st.ID]; dup {
				t.Fatalf("job %s listed twice: %+v", st.ID, v.Jobs)
			}
			m[st.ID] = st
		}
		if ok(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("the jobs never had %s: %+v", what, v.Jobs)
		}
	}
}

// A studio on a queue lists the jobs of the queue's other clients
// (deepdream batch's, another studio's) beside its own: those sent
// before it started too, whose they are, their state as the workers run
// them; a batch's as one group that the page cancels as one, on the
// queue; a result that is not the studio's is refused, naming whose.
func TestStudioListsOtherClientsJobs(t *testing.T) {
	q := newNATSQueue(t)
	other := q.client(t)
	photo := pngPhoto(t, 16, 16)
	ctx := context.Background()
	submit := func(task jobqueue.Task) <-chan jobqueue.State {
		ended := make(chan jobqueue.State, 1)
		err := other.Submit(ctx, task, map[string][]byte{"photo": photo}, func(e jobqueue.Event) {
			if e.State != nil && e.State.Final() {
				ended <- *e.State
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return ended
	}
	batch := map[string]string{"batch": "/home/ann/dreams", "photo": "/home/ann/photos/a.jpg", "key": "k1"}
	early := submit(otherTask(t, "00000000000000a1", batch)) // before the studio starts

	s := newStudio(t, Config{Remote: q.client(t), Queue: 4})
	batch["photo"], batch["key"] = "/home/ann/photos/b.jpg", "k2"
	late := submit(otherTask(t, "00000000000000a2", batch))
	studioEnded := submit(otherTask(t, "00000000000000b1", map[string]string{"studio": "00000000000000ff"}))
	own := s.mustSubmit(t, photo, small...)

	jobs := s.jobsListed(t, "the 3 other jobs and the studio's own", func(m map[string]Status) bool { return len(m) == 4 })
	a1, a2, b1 := jobs["00000000000000a1"], jobs["00000000000000a2"], jobs["00000000000000b1"]
	if a1.Client != "deepdream batch" || a2.Client != a1.Client || a1.Group == "" || a2.Group != a1.Group || a1.State != stateQueued || a1.Model != "tiny" || a1.Kind != "dream" || a1.Gallery {
		t.Errorf("the batch's jobs listed as %+v and %+v", a1, a2)
	}
	if b1.Client != "another studio" || b1.Group != "" || b1.Owner != "" {
		t.Errorf("the other studio's job listed as %+v", b1)
	}
	if st := jobs[own.ID]; st.Client != "" {
		t.Errorf("the studio's own job listed as %+v", st)
	}

	var cancelled struct{ Cancelled int }
	req, _ := http.NewRequest("DELETE", s.url+"/api/groups/"+a1.Group, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&cancelled)
	res.Body.Close()
	if cancelled.Cancelled != 2 {
		t.Errorf("cancelling the batch's group: %s, %d cancelled, want 2", res.Status, cancelled.Cancelled)
	}
	for _, ch := range []<-chan jobqueue.State{early, late} {
		select {
		case st := <-ch:
			if st.State != jobqueue.Cancelled {
				t.Errorf("the batch's job ended %+v on the queue, want cancelled", st)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the batch's job was not cancelled on the queue")
		}
	}

	q.worker(t)
	select {
	case st := <-studioEnded:
		if st.State != jobqueue.Done {
			t.Fatalf("the other studio's job ended %+v", st)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the other studio's job did not end")
	}
	jobs = s.jobsListed(t, "every job ended", func(m map[string]Status) bool {
		for _, st := range m {
			if !st.finished() {
				return false
			}
		}
		return true
	})
	if st := jobs["00000000000000b1"]; st.State != stateDone || st.Worker != "w1" || st.Entry != "" {
		t.Errorf("the other studio's job ended %+v in the studio's list", st)
	}
	if st := jobs["00000000000000a1"]; st.State != stateCancelled {
		t.Errorf("the batch's first job ended %+v in the studio's list", st)
	}
	res, err = http.Get(s.url + "/api/jobs/00000000000000b1/result")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "this dream is another studio's") {
		t.Errorf("another client's result: %s %s", res.Status, body)
	}
	if end := s.wait(t, own.ID); end.State != stateDone || end.Entry != own.ID {
		t.Errorf("the studio's own job ended %+v", end)
	}
	if entries := s.entries(t); len(entries) != 1 || entries[0].ID != own.ID {
		t.Errorf("gallery %+v, want the studio's own dream alone", entries)
	}
}
