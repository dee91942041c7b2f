package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/motion"
	jobqueue "github.com/deepdream-go/deepdream/queue"
)

// remoteCancelWait bounds the wait for the queue to confirm a cancel (a
// shutdown must not hang on a NATS server gone).
const remoteCancelWait = 10 * time.Second

// runRemote sends a job to the workers of Config.Remote, with what the
// studio needs to take it back after a restart (remoteTags), and follows
// it (followRemote).
func (s *Server) runRemote(j *job) {
	t := jobqueue.Task{ID: j.id, Record: j.record, Peak: j.estimate, MaxPixels: s.cfg.MaxPixels, Timeout: s.cfg.JobTimeout}
	t.Client, _ = json.Marshal(s.remoteTags(j))
	if motion.Animated(j.kind) {
		t.Kind, t.Motion = j.kind, &j.motion
	}
	files := map[string][]byte{"photo": j.original}
	for _, u := range j.images {
		t.Images = append(t.Images, u.name())
		files[u.name()] = u.data
	}
	w := newRemoteWatch()
	if err := s.cfg.Remote.Submit(j.ctx, t, files, w.watch); err != nil {
		s.logf("job %s: %v", j.id, err)
		s.q.finish(j, func(x *Status) {
			x.State, x.Error = stateFailed, "the job could not be sent to the workers; the studio's log says why"
			if j.ctx.Err() != nil {
				x.State, x.Error = stateCancelled, ""
			}
		})
		return
	}
	s.followRemote(j, w)
}

// remoteWatch passes the events of a job on the queue to followRemote:
// states are few and must all arrive; progress may be dropped.
type remoteWatch struct {
	states   chan jobqueue.State
	progress chan jobqueue.Progress
}

func newRemoteWatch() *remoteWatch {
	return &remoteWatch{states: make(chan jobqueue.State, 16), progress: make(chan jobqueue.Progress, 1)}
}

func (w *remoteWatch) watch(e jobqueue.Event) {
	switch {
	case e.State != nil:
		w.states <- *e.State
	case e.Progress != nil:
		select {
		case w.progress <- *e.Progress:
		default:
		}
	}
}

// followRemote follows a job on the queue to its end and keeps its
// result as run does; then the queue forgets it. A cancel (the page's, a
// group's) is passed on to the worker; so is a shutdown's with
// Config.CancelRemote, else the job is left on the queue, for the
// studio's next start to take back.
func (s *Server) followRemote(j *job, w *remoteWatch) {
	remote := s.cfg.Remote
	bg := context.WithoutCancel(j.ctx)
	forget := true
	defer func() {
		if !forget {
			return
		}
		if err := remote.Forget(bg, j.id); err != nil {
			s.logf("job %s: %v", j.id, err)
		}
	}()
	states, progress := w.states, w.progress
	cancelled := j.ctx.Done()
	var giveUp <-chan time.Time // after a cancel the queue does not confirm
	for {
		select {
		case p := <-progress:
			j.show(p)
		case <-cancelled:
			if s.jobsCtx.Err() != nil && !s.cfg.CancelRemote {
				s.logf("job %s left on the queue for the studio's next start", j.id)
				forget = false
				return
			}
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
	if e := s.gallery.get(j.id); j.keep && e != nil { // kept before a restart, not forgotten then
		s.logf("job %s was kept in the gallery already", j.id)
		kept := inGallery(e)
		s.q.finish(j, func(x *Status) { x.State, x.Entry, x.Result = stateDone, kept.Entry, kept.Result })
		return
	}
	if err := s.fetchTakenBack(j); err != nil {
		fail(err)
		return
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
