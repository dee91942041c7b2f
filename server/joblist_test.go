package server

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sseEvent is one server-sent event: its name and data.
type sseEvent struct{ name, data string }

// events reads the server-sent events of path into a channel, closed at
// the stream's end.
func (s *studio) events(t *testing.T, path string) <-chan sseEvent {
	t.Helper()
	res, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: content type %q", path, res.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<20)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				e.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				e.data = strings.TrimPrefix(line, "data: ")
			case line == "" && e.name != "":
				ch <- e
				e = sseEvent{}
			}
		}
	}()
	return ch
}

// next returns the next event named name, failing after a few seconds.
func next(t *testing.T, ch <-chan sseEvent, name string) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("the stream ended before an event %q", name)
			}
			if e.name == name {
				return e
			}
		case <-timeout:
			t.Fatalf("no event %q", name)
		}
	}
}

// nextJob returns the next "job" event that says job id is in state.
func nextJob(t *testing.T, ch <-chan sseEvent, id, state string) Status {
	t.Helper()
	for {
		var st Status
		if err := json.Unmarshal([]byte(next(t, ch, "job").data), &st); err != nil {
			t.Fatal(err)
		}
		if st.Preview != "" {
			t.Errorf("job %s: a preview in the jobs' events", st.ID)
		}
		if st.ID == id && st.State == state {
			return st
		}
	}
}

func TestJobsListEventsAndGroupCancel(t *testing.T) {
	s := newStudio(t, Config{})
	s.timeouts.ping = 50 * time.Millisecond
	h := holdJobs(s)
	photo := pngPhoto(t, 16, 16)
	before := time.Now().UTC().Add(-time.Second)
	a := s.mustSubmit(t, photo, append(small, "gallery=0", "kind=explore", "group=tiles-1", "owner=page_A")...)
	<-h.started
	b := s.mustSubmit(t, photo, append(small, "gallery=0", "kind=explore", "group=tiles-1", "owner=page_A")...)
	c := s.mustSubmit(t, photo, small...)

	var list struct{ Jobs []Status }
	s.get(t, "/api/jobs", &list)
	if len(list.Jobs) != 3 || list.Jobs[0].ID != a.ID || list.Jobs[1].ID != b.ID || list.Jobs[2].ID != c.ID {
		t.Fatalf("GET /api/jobs: %+v, want a, b, c", list.Jobs)
	}
	ja, jb, jc := list.Jobs[0], list.Jobs[1], list.Jobs[2]
	if ja.State != stateRunning || ja.Worker != "in-process 1" || ja.Kind != "explore" || ja.Group != "tiles-1" || ja.Owner != "page_A" {
		t.Errorf("running job %+v", ja)
	}
	if jb.State != stateQueued || jb.Worker != "" || jb.Position != 1 || jc.Position != 2 {
		t.Errorf("waiting jobs %+v, %+v", jb, jc)
	}
	if jc.Kind != "dream" || jc.Group != "" || jc.Owner != "" {
		t.Errorf("a job with no kind, group nor owner: %+v", jc)
	}
	for _, st := range list.Jobs {
		if st.Created.Before(before) || st.Created.After(time.Now().Add(time.Second)) {
			t.Errorf("job %s created %v", st.ID, st.Created)
		}
	}
	if !ja.Created.Before(jc.Created) && ja.Created != jc.Created {
		t.Errorf("created %v after %v", ja.Created, jc.Created)
	}

	ev := s.events(t, "/api/jobs/events")
	var first struct{ Jobs []Status }
	if err := json.Unmarshal([]byte(next(t, ev, "jobs").data), &first); err != nil || len(first.Jobs) != 3 {
		t.Fatalf("first event: %+v %v, want the 3 jobs", first, err)
	}
	next(t, ev, "ping")

	var out map[string]int
	req, _ := http.NewRequest("DELETE", s.url+"/api/groups/tiles-1", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || out["cancelled"] != 2 {
		t.Fatalf("DELETE /api/groups/tiles-1: %s %v, want 2 cancelled", res.Status, out)
	}
	for _, id := range []string{a.ID, b.ID} {
		if end := s.wait(t, id); end.State != stateCancelled {
			t.Errorf("job %s of the group ended %s", id, end.State)
		}
	}
	nextJob(t, ev, b.ID, stateCancelled)
	if st := nextJob(t, ev, c.ID, stateRunning); st.Worker != "in-process 1" {
		t.Errorf("job c runs on %q", st.Worker)
	}
	h.release <- struct{}{}
	nextJob(t, ev, c.ID, stateDone)

	res, _ = http.DefaultClient.Do(req)
	json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	if out["cancelled"] != 0 {
		t.Errorf("cancelling the group again: %v, want 0", out)
	}
	// A tile sent after its group was cancelled (a page reloaded while
	// its explorer was sending) is refused, not run alone.
	if res, body := s.submit(t, photo, append(small, "gallery=0", "kind=explore", "group=tiles-1")...); res.StatusCode != http.StatusConflict {
		t.Errorf("a job of the cancelled group: %s %v, want 409", res.Status, body)
	}
	s.get(t, "/api/jobs", &list)
	if len(list.Jobs) != 3 || list.Jobs[0].State != stateCancelled || list.Jobs[2].State != stateDone {
		t.Errorf("finished jobs listed: %+v", list.Jobs)
	}
}

func TestJobsEventsPaceProgress(t *testing.T) {
	s := newStudio(t, Config{})
	h := holdJobs(s)
	ev := s.events(t, "/api/jobs/events")
	next(t, ev, "jobs")
	st := s.mustSubmit(t, pngPhoto(t, 32, 32), "octaves=1", "iterations=40", "seed=1")
	<-h.started
	nextJob(t, ev, st.ID, stateRunning)
	start := time.Now()
	h.release <- struct{}{}
	progress := 0
	for {
		var e Status
		json.Unmarshal([]byte(next(t, ev, "job").data), &e)
		if e.State == stateDone {
			break
		}
		progress++
	}
	// At most one progress event at once and one per jobEventGap after.
	if most := 1 + int(time.Since(start)/jobEventGap); progress > most {
		t.Errorf("%d progress events in %s, want at most %d", progress, time.Since(start), most)
	}
}

func TestJobTagsRefused(t *testing.T) {
	s := newStudio(t, Config{})
	photo := pngPhoto(t, 16, 16)
	for _, f := range []string{"kind=painting", "group=a b", "owner=" + strings.Repeat("x", 65)} {
		res, v := s.submit(t, photo, append(small, f)...)
		key, value, _ := strings.Cut(f, "=")
		if res.StatusCode != http.StatusBadRequest || v["field"] != key || v["value"] != value {
			t.Errorf("%s: %s %v, want 400 naming the field", f, res.Status, v)
		}
	}
	if res := s.do(t, "DELETE", "/api/groups/a.b"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("DELETE /api/groups/a.b: %s, want 400", res.Status)
	}
}
