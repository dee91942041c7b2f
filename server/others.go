package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	jobqueue "github.com/deepdream-go/deepdream/queue"
)

// Other clients' jobs. A studio on a queue shares it with other clients:
// another studio, deepdream batch --nats. Their jobs are listed with the
// studio's own (Status.Client says whose), followed from the queue's
// events (queue.Client.Others), and may be cancelled from the page; their
// results are their clients', never the gallery's.

// Status.Client of other clients' jobs.
const (
	clientBatch  = "deepdream batch"
	clientStudio = "another studio"
	clientOther  = "another client"
)

// otherTaskTime bounds the reading of another client's task.
const otherTaskTime = 10 * time.Second

// otherJobs are the other clients' jobs the studio knows of, by ID: a
// listed job, or nil while its task is read (last then holds the latest
// event seen meanwhile), or ignored for a job not to list (the studio's
// own, before takeBack follows it; one without a task).
type otherJobs struct {
	mu      sync.Mutex
	jobs    map[string]*job
	last    map[string]jobqueue.Event
	ignored map[string]bool
}

// otherEvent takes an event of a job the studio's client does not
// follow (queue.Client.Others). It must not block: a job first seen is
// read in a goroutine.
func (s *Server) otherEvent(e jobqueue.Event) {
	o := &s.others
	o.mu.Lock()
	if o.ignored[e.ID] {
		if e.Forgotten {
			delete(o.ignored, e.ID)
		}
		o.mu.Unlock()
		return
	}
	j, known := o.jobs[e.ID]
	switch {
	case known && j != nil:
		if e.Forgotten || (e.State != nil && e.State.Final()) {
			delete(o.jobs, e.ID)
		}
		o.mu.Unlock()
		s.applyOther(j, e)
		return
	case known: // its task is being read
		if e.State != nil || e.Forgotten {
			o.last[e.ID] = e
		}
		o.mu.Unlock()
		return
	case e.Forgotten || (e.State != nil && e.State.Final()):
		o.mu.Unlock() // an end of a job never listed
		return
	}
	o.jobs[e.ID] = nil
	if e.State != nil {
		o.last[e.ID] = e
	}
	o.mu.Unlock()
	go s.readOther(e.ID)
}

// readOther reads the task of another client's job first seen, and
// lists the job.
func (s *Server) readOther(id string) {
	ctx, cancel := context.WithTimeout(s.jobsCtx, otherTaskTime)
	defer cancel()
	t, err := s.cfg.Remote.Task(ctx, id)
	o := &s.others
	o.mu.Lock()
	last, seen := o.last[id]
	delete(o.last, id)
	var tags clientTags
	if t != nil {
		_ = json.Unmarshal(t.Client, &tags)
	}
	if err != nil || t == nil || tags.Studio == s.id || (seen && (last.Forgotten || last.State.Final())) {
		delete(o.jobs, id)
		if err != nil || t == nil || tags.Studio == s.id {
			o.ignored[id] = true
		}
		o.mu.Unlock()
		if err != nil && s.jobsCtx.Err() == nil {
			s.logf("another client's job %s on the queue is not listed: %v", id, err)
		}
		return
	}
	j := s.otherJob(t, tags)
	if !s.q.watchOther(j) {
		delete(o.jobs, id)
		o.mu.Unlock()
		return
	}
	o.jobs[id] = j
	o.mu.Unlock()
	context.AfterFunc(j.ctx, func() {
		if s.jobsCtx.Err() != nil { // the studio stops: not the page's cancel
			return
		}
		bg, cancel := context.WithTimeout(context.Background(), remoteCancelWait)
		defer cancel()
		if _, err := s.cfg.Remote.Cancel(bg, id); err != nil {
			s.logf("job %s: %v", id, err)
		}
	})
	if seen {
		s.applyOther(j, last)
	}
}

// clientTags are what the studio reads of another client's part of a
// task (queue.Task.Client): a studio's ID and frame count (remoteTags),
// a batch's OUT_DIR (cmd/deepdream's batchTags).
type clientTags struct {
	Studio string `json:"studio"`
	Batch  string `json:"batch"`
	Frames int    `json:"frames"`
}

// otherJob makes the listed job of another client's task t, whose tags
// are tags: its model, layers and kind as the task says; a batch's jobs
// in one group per OUT_DIR, cancelled as one.
func (s *Server) otherJob(t *jobqueue.Task, tags clientTags) *job {
	client, group := clientOther, ""
	switch {
	case tags.Batch != "":
		sum := sha256.Sum256([]byte(tags.Batch))
		client, group = clientBatch, "batch-"+hex.EncodeToString(sum[:6])
	case tags.Studio != "":
		client = clientStudio
	}
	kind := kindNoun(t.Kind)
	j := s.makeJob(t.ID, ModelOf(s.cfg.Models, t.Record), t.Record, jobTags{kind: kind, group: group}, false, "", time.Now())
	j.status.Client = client
	if t.Motion != nil {
		j.motion = *t.Motion
		j.setFrames(max(tags.Frames, t.Motion.Frames))
	}
	return j
}

// applyOther shows an event of another client's listed job.
func (s *Server) applyOther(j *job, e jobqueue.Event) {
	switch {
	case e.Progress != nil:
		j.show(*e.Progress)
	case e.Forgotten:
		if st, _, _, _ := j.snapshot(); !st.finished() {
			s.q.finish(j, func(x *Status) { x.State, x.Position = stateCancelled, 0 })
		}
	case e.State != nil:
		st := e.State
		switch st.State {
		case jobqueue.Running:
			j.update(func(x *Status) { x.State, x.Worker = stateRunning, st.Worker })
		case jobqueue.Queued: // given back to the queue
			j.update(func(x *Status) { x.State, x.Worker = stateQueued, "" })
		case jobqueue.Done:
			s.q.finish(j, func(x *Status) { x.State, x.Worker = stateDone, st.Worker })
		case jobqueue.Failed:
			s.q.finish(j, func(x *Status) { x.State, x.Error = stateFailed, st.Error })
		case jobqueue.Cancelled:
			s.q.finish(j, func(x *Status) { x.State, x.Position = stateCancelled, 0 })
		}
	}
}
