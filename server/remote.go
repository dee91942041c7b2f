package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/motion"
	jobqueue "github.com/deepdream-go/deepdream/queue"
)

// remoteCancelWait bounds the wait for the queue to confirm a cancel (a
// shutdown must not hang on a NATS server gone).
const remoteCancelWait = 10 * time.Second

// runRemote sends a job to the workers of Config.Remote, follows it to
// its end and keeps its result as run does; then the queue forgets it.
// A cancel (the page's, or a shutdown's) is passed on to the worker.
func (s *Server) runRemote(j *job) {
	remote := s.cfg.Remote
	t := jobqueue.Task{ID: j.id, Record: j.record, Peak: j.estimate, MaxPixels: s.cfg.MaxPixels, Timeout: s.cfg.JobTimeout}
	if j.kind == motion.Zoom || j.kind == motion.Video {
		t.Kind, t.Motion = j.kind, &j.motion
	}
	files := map[string][]byte{"photo": j.original}
	for _, u := range j.images {
		t.Images = append(t.Images, u.name())
		files[u.name()] = u.data
	}
	// States are few and must all arrive; progress may be dropped.
	states := make(chan jobqueue.State, 16)
	progress := make(chan jobqueue.Progress, 1)
	watch := func(e jobqueue.Event) {
		switch {
		case e.State != nil:
			states <- *e.State
		case e.Progress != nil:
			select {
			case progress <- *e.Progress:
			default:
			}
		}
	}
	bg := context.WithoutCancel(j.ctx)
	if err := remote.Submit(j.ctx, t, files, watch); err != nil {
		s.logf("job %s: %v", j.id, err)
		s.q.finish(j, func(x *Status) {
			x.State, x.Error = stateFailed, "the job could not be sent to the workers; the studio's log says why"
			if j.ctx.Err() != nil {
				x.State, x.Error = stateCancelled, ""
			}
		})
		return
	}
	defer func() {
		if err := remote.Forget(bg, j.id); err != nil {
			s.logf("job %s: %v", j.id, err)
		}
	}()
	cancelled := j.ctx.Done()
	var giveUp <-chan time.Time // after a cancel the queue does not confirm
	for {
		select {
		case p := <-progress:
			j.show(p)
		case <-cancelled:
			cancelled = nil // once; the job's end comes as a state
			giveUp = time.After(remoteCancelWait)
			if _, err := remote.Cancel(bg, j.id); err != nil {
				s.logf("job %s: %v", j.id, err)
			}
		case <-giveUp:
			s.logf("job %s: the queue did not confirm its cancel within %s", j.id, remoteCancelWait)
			s.q.finish(j, func(x *Status) { x.State, x.Position = stateCancelled, 0 })
			return
		case st := <-states:
			switch st.State {
			case jobqueue.Running:
				j.update(func(x *Status) { x.State, x.Worker = stateRunning, st.Worker })
			case jobqueue.Failed:
				s.logf("job %s failed on %s: %s", j.id, st.Worker, st.Error)
				s.q.finish(j, func(x *Status) { x.State, x.Error = stateFailed, st.Error })
				return
			case jobqueue.Cancelled:
				s.q.finish(j, func(x *Status) { x.State, x.Position = stateCancelled, 0 })
				return
			case jobqueue.Done:
				s.keepRemote(j, st)
				return
			}
		}
	}
}

// keepRemote fetches the result of a job a worker has done and keeps it.
func (s *Server) keepRemote(j *job, st jobqueue.State) {
	fail := func(err error) {
		s.logf("job %s: %v", j.id, err)
		s.q.finish(j, func(x *Status) {
			x.State, x.Error = stateFailed, "the dream's result could not be kept: "+withoutPath(err)
		})
	}
	file, err := s.cfg.Remote.Result(context.WithoutCancel(j.ctx), j.id, st)
	if err != nil {
		fail(err)
		return
	}
	image := file // the result, or an animation's thumbnail
	if st.Thumb != "" {
		if image, err = s.cfg.Remote.Thumb(context.WithoutCancel(j.ctx), j.id, st); err != nil {
			fail(err)
			return
		}
	}
	out, _, err := imageio.Decode(bytes.NewReader(image), s.cfg.MaxPixels)
	if err != nil {
		fail(err)
		return
	}
	rec := j.record
	files := map[string][]byte{}
	for _, u := range j.images {
		sum := sha256.Sum256(u.data)
		if rec.Request.Images == nil {
			rec.Request.Images = map[string]dream.Image{}
		}
		rec.Request.Images[u.name()] = dream.Image{SHA256: hex.EncodeToString(sum[:])}
		files[hex.EncodeToString(sum[:])] = u.data
	}
	kept, err := s.keep(j, rec, files, file, out, st.Frames, time.Duration(st.Seconds*float64(time.Second)))
	if err != nil {
		s.q.finish(j, func(x *Status) { x.State, x.Error = stateFailed, err.Error() })
		return
	}
	s.logf("job %s done on %s in %.1f s", j.id, st.Worker, st.Seconds)
	s.q.finish(j, func(x *Status) { x.State, x.Entry, x.Result = stateDone, kept.Entry, kept.Result })
}
