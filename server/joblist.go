package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"
)

// jobKinds are the kinds of job a client may say it submits ("kind");
// the first is the default.
var jobKinds = []string{"dream", "explore", "sweep", "zoom", "video"}

// validTag is the form of a group and of an owner: an ID the client
// chose.
var validTag = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// checkTag says (400, naming the field and value) when value, the form's
// key (group or owner), is not a validTag.
func checkTag(key, value string) error {
	if validTag.MatchString(value) {
		return nil
	}
	return &httpError{code: http.StatusBadRequest, field: key, value: value,
		msg: fmt.Sprintf("the %s %q is not 1 to 64 letters, digits, - or _", key, value)}
}

// jobTags are the form's fields that say what a job is for and whose it
// is, beyond the dream request.
type jobTags struct{ kind, group, owner string }

// tags reads and checks the form's kind, group and owner.
func (f *form) tags() (jobTags, error) {
	t := jobTags{kind: f.get("kind"), group: f.get("group"), owner: f.get("owner")}
	if t.kind == "" {
		t.kind = jobKinds[0]
	}
	if !slices.Contains(jobKinds, t.kind) {
		return t, &httpError{code: http.StatusBadRequest, field: "kind", value: t.kind,
			msg: fmt.Sprintf("there is no kind of job %q (the kinds are %v)", t.kind, jobKinds)}
	}
	for _, v := range []struct{ key, value string }{{"group", t.group}, {"owner", t.owner}} {
		if v.value == "" {
			continue
		}
		if err := checkTag(v.key, v.value); err != nil {
			return t, err
		}
	}
	return t, nil
}

// jobsWatcher is an open GET /api/jobs/events: the IDs of the jobs changed
// since it last looked, and a channel that wakes it.
type jobsWatcher struct {
	mu    sync.Mutex
	dirty map[string]bool
	wake  chan struct{}
}

// take returns the IDs changed since the last take.
func (w *jobsWatcher) take() map[string]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.dirty
	w.dirty = map[string]bool{}
	return d
}

func (q *queue) watch() *jobsWatcher {
	w := &jobsWatcher{dirty: map[string]bool{}, wake: make(chan struct{}, 1)}
	q.watchMu.Lock()
	q.watchers[w] = true
	q.watchMu.Unlock()
	return w
}

func (q *queue) unwatch(w *jobsWatcher) {
	q.watchMu.Lock()
	delete(q.watchers, w)
	q.watchMu.Unlock()
}

// changed tells the watchers that job id changed (job.onChange).
func (q *queue) changed(id string) {
	q.watchMu.Lock()
	defer q.watchMu.Unlock()
	for w := range q.watchers {
		w.mu.Lock()
		w.dirty[id] = true
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// handleJobs lists every waiting and running job and the recently
// finished ones, oldest first, without previews.
func (s *Server) handleJobs(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"jobs": s.q.list()})
}

// jobEventGap is the least time between two events of GET
// /api/jobs/events on a job whose state stays the same (its progress).
const jobEventGap = 500 * time.Millisecond

// handleJobsEvents streams the jobs as server-sent events: first "jobs"
// with the whole list (as GET /api/jobs), then a "job" with a job's
// status (no preview) when it is queued or changes state at once, and as
// it progresses at most every jobEventGap; a "ping" every timeouts.ping.
func (s *Server) handleJobsEvents(w http.ResponseWriter, r *http.Request) {
	watcher := s.q.watch() // before the list: no change falls between them
	defer s.q.unwatch(watcher)
	send := s.eventStream(w)
	data, _ := json.Marshal(map[string]any{"jobs": s.q.list()})
	if !send("event: jobs\ndata: %s\n\n", data) {
		return
	}
	type sent struct {
		state string
		at    time.Time
	}
	last := map[string]sent{}
	pending := map[string]bool{} // changed, not yet sent
	ping := time.NewTicker(s.timeouts.ping)
	defer ping.Stop()
	later := time.NewTimer(time.Hour)
	defer later.Stop()
	for {
		select {
		case <-watcher.wake:
		case <-later.C:
		case <-ping.C:
			if !send("event: ping\ndata: {}\n\n") {
				return
			}
			continue
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
		for id := range watcher.take() {
			pending[id] = true
		}
		now := time.Now()
		var next time.Time // when the earliest job held back may go
		for id := range pending {
			j := s.q.get(id)
			if j == nil { // forgotten
				delete(pending, id)
				continue
			}
			st, _, _, _ := j.snapshot()
			if l, ok := last[id]; ok && l.state == st.State && now.Sub(l.at) < jobEventGap {
				if due := l.at.Add(jobEventGap); next.IsZero() || due.Before(next) {
					next = due
				}
				continue
			}
			delete(pending, id)
			data, _ := json.Marshal(st)
			if !send("event: job\ndata: %s\n\n", data) {
				return
			}
			if st.finished() {
				delete(last, id)
			} else {
				last[id] = sent{st.State, now}
			}
		}
		if !next.IsZero() {
			later.Reset(time.Until(next))
		}
	}
}

// eventStream starts an answer of server-sent events and returns the
// function that sends one, reporting whether it went. A stream lasts as
// long as the client stays: each event has its own write deadline (the
// server lifts the read deadline once the request is read: the client
// sends nothing more).
func (s *Server) eventStream(w http.ResponseWriter) func(format string, args ...any) bool {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return func(format string, args ...any) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.timeouts.request))
		_, err := fmt.Fprintf(w, format, args...)
		return err == nil && rc.Flush() == nil
	}
}

// handleCancelGroup cancels every waiting or running job of a group (the
// explorer's tiles) and says how many.
func (s *Server) handleCancelGroup(w http.ResponseWriter, r *http.Request) {
	group := r.PathValue("group")
	if err := checkTag("group", group); err != nil {
		writeError(w, err)
		return
	}
	n := s.q.cancelGroup(group)
	if n > 0 {
		s.logf("group %s: %d jobs cancelled", group, n)
	}
	writeJSON(w, http.StatusOK, map[string]int{"cancelled": n})
}
