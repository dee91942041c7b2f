package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/deepdream-go/deepdream/internal/atomicfile"
	"github.com/deepdream-go/deepdream/motion"
	jobqueue "github.com/deepdream-go/deepdream/queue"
)

// remoteTags are what the studio keeps with a job it sends to the queue
// (queue.Task.Client), beyond the task itself: what it needs to take the
// job back after a restart.
type remoteTags struct {
	// Studio is the studio's ID (studioID): a queue may be shared with
	// other studios, and with deepdream batch.
	Studio  string    `json:"studio"`
	Kind    string    `json:"kind"`
	Group   string    `json:"group,omitempty"`
	Owner   string    `json:"owner,omitempty"`
	Gallery bool      `json:"gallery"`
	Format  string    `json:"format"` // the photo's (a clip's), for its gallery entry
	Created time.Time `json:"created"`
	// Frames is a zoom's or a video's count of frames (its clip's, read
	// at submission), for its status.
	Frames int `json:"frames,omitempty"`
}

// remoteTags returns the tags of j.
func (s *Server) remoteTags(j *job) remoteTags {
	st, _, _, _ := j.snapshot()
	return remoteTags{Studio: s.id, Kind: st.Kind, Group: st.Group, Owner: st.Owner, Gallery: j.keep, Format: j.format, Created: st.Created, Frames: st.Frames}
}

// check says why a job of this studio on the queue cannot be taken back:
// what a job carries comes from the queue, which other clients may
// write, and its ID names a gallery entry.
func (tags remoteTags) check(t *jobqueue.Task) error {
	switch {
	case !validID.MatchString(t.ID):
		return fmt.Errorf("its ID is not one the studio makes (16 hex digits)")
	case !slices.Contains(jobKinds, tags.Kind):
		return fmt.Errorf("there is no kind of job %q", tags.Kind)
	case tags.Group != "" && checkTag("group", tags.Group) != nil:
		return checkTag("group", tags.Group)
	case tags.Owner != "" && checkTag("owner", tags.Owner) != nil:
		return checkTag("owner", tags.Owner)
	case tags.Kind == motion.Video && !knownFormat(sniffedVideo, tags.Format):
		return fmt.Errorf("its clip's format %q is not one the studio reads", tags.Format)
	case tags.Kind != motion.Video && !knownFormat(sniffed, tags.Format):
		return fmt.Errorf("its photo's format %q is not one the studio reads", tags.Format)
	case t.Kind != tags.Kind && (t.Kind != "" || motion.Animated(tags.Kind)): // a task's kind is an animation's, or none
		return fmt.Errorf("it is a %s job whose task is of kind %q", tags.Kind, t.Kind)
	case t.Kind != "" && t.Motion == nil:
		return fmt.Errorf("it is a %s job without its motion options", t.Kind)
	case t.Kind != "" && tags.Frames < 0:
		return fmt.Errorf("its count of frames %d is negative", tags.Frames)
	}
	if t.Kind != "" {
		if err := t.Motion.Validate(t.Kind); err != nil {
			return err
		}
	}
	for _, name := range t.Images {
		if u := uploaded(name, nil); !slices.Contains(imageFields, u.key) || !knownFormat(sniffed, u.format) {
			return fmt.Errorf("its image %q is not a field's image the studio reads", name)
		}
	}
	return nil
}

// knownFormat reports whether format is one of the formats a sniffing
// table names (sniffed, sniffedVideo).
func knownFormat(formats map[string]string, format string) bool {
	return slices.Contains(slices.Collect(maps.Values(formats)), format)
}

// studioIDFile, in the data directory, holds the studio's ID.
const studioIDFile = "studio-id"

// studioID returns the ID of the studio of dataDir, made on its first
// start: the jobs it sends to a queue carry it, and only the studio of
// the same data directory takes them back.
func studioID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, studioIDFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		id := newID()
		if err := atomicfile.WriteBytes(path, []byte(id+"\n")); err != nil {
			return "", fmt.Errorf("server: %w", err)
		}
		return id, nil
	}
	if err != nil {
		return "", fmt.Errorf("server: %w", err)
	}
	id := strings.TrimSpace(string(data))
	if !validID.MatchString(id) {
		return "", fmt.Errorf("server: %s: %q is not a studio ID (16 hex digits): remove the file, and the jobs the studio left on its queue are not taken back", path, id)
	}
	return id, nil
}

// takeBackTime bounds the listing of the jobs on the queue at start.
const takeBackTime = 30 * time.Second

// takeBack takes back the jobs this studio sent to the queue before it
// stopped (a crash, a restart): each is listed in the jobs, with its
// kind, group and owner (the page that sent it finds it again), and is
// followed as if sent now. A job that ended meanwhile is kept or
// reported at once; one whose model the studio no longer offers fails.
// Other clients' jobs are left alone.
func (s *Server) takeBack() {
	ctx, cancel := context.WithTimeout(context.Background(), takeBackTime)
	defer cancel()
	pending, err := s.cfg.Remote.Pending(ctx)
	if err != nil {
		s.logf("the jobs left on the queue are not taken back: %v", err)
		return
	}
	type mine struct {
		task *jobqueue.Task
		tags remoteTags
		st   jobqueue.State
	}
	var jobs []mine
	others := 0
	for _, p := range pending {
		var tags remoteTags
		if p.Task == nil || json.Unmarshal(p.Task.Client, &tags) != nil || tags.Studio != s.id {
			others++
			if p.Task != nil && !p.State.Final() {
				s.otherEvent(jobqueue.Event{ID: p.Task.ID, State: &p.State})
			}
			continue
		}
		if err := tags.check(p.Task); err != nil {
			s.logf("job %s on the queue is not taken back, and is dropped: %v", p.Task.ID, err)
			if err := s.cfg.Remote.Forget(ctx, p.Task.ID); err != nil {
				s.logf("job %s: %v", p.Task.ID, err)
			}
			continue
		}
		jobs = append(jobs, mine{p.Task, tags, p.State})
	}
	if others > 0 {
		s.logf("%d job(s) on the queue are not this studio's: left to their clients (those still to run are listed)", others)
	}
	slices.SortFunc(jobs, func(a, b mine) int { return cmp.Compare(a.tags.Created.UnixNano(), b.tags.Created.UnixNano()) })
	for _, m := range jobs {
		t, tags := m.task, m.tags
		model := ModelOf(s.cfg.Models, t.Record)
		j := s.makeJob(t.ID, model, t.Record, jobTags{kind: tags.Kind, group: tags.Group, owner: tags.Owner}, tags.Gallery, tags.Format, tags.Created)
		j.task, j.estimate = t, t.Peak
		if t.Kind != "" {
			j.motion = *t.Motion
			j.setFrames(tags.Frames)
		}
		s.q.adopt(j)
		if model == nil {
			s.logf("job %s taken back from the queue (%s, %s): its model %s (sha256 %s) is not in this studio", j.id, m.st.State, tags.Kind, t.Record.Model, t.Record.ModelSHA256)
			s.workers.Go(func() { s.dropTakenBack(j) })
			continue
		}
		s.logf("job %s taken back from the queue (%s, %s, %s)", j.id, m.st.State, tags.Kind, model.Name)
		s.workers.Go(func() { s.resumeRemote(j) })
	}
}

// resumeRemote follows a job taken back (takeBack) as runRemote follows
// the jobs it sends.
func (s *Server) resumeRemote(j *job) {
	w := newRemoteWatch()
	if err := s.cfg.Remote.Follow(j.ctx, j.id, w.watch); err != nil {
		s.logf("job %s: %v", j.id, err)
		s.q.finish(j, func(x *Status) {
			x.State, x.Error = stateFailed, "the job could not be taken back from the queue; the studio's log says why"
		})
		if err := s.cfg.Remote.Forget(context.WithoutCancel(j.ctx), j.id); err != nil {
			s.logf("job %s: %v", j.id, err)
		}
		return
	}
	s.followRemote(j, w)
}

// dropTakenBack ends a job taken back whose model the studio no longer
// offers: its result (if any) could not be dreamed again here, nor its
// request checked; it is cancelled on the queue and forgotten.
func (s *Server) dropTakenBack(j *job) {
	rec := j.task.Record
	msg := fmt.Sprintf("this studio no longer offers the model of this dream, %s (sha256 %s): the dream was dropped", rec.Model, rec.ModelSHA256)
	bg := context.WithoutCancel(j.ctx)
	if _, err := s.cfg.Remote.Cancel(bg, j.id); err != nil {
		s.logf("job %s: %v", j.id, err)
	}
	s.q.finish(j, func(x *Status) { x.State, x.Error = stateFailed, msg })
	if err := s.cfg.Remote.Forget(bg, j.id); err != nil {
		s.logf("job %s: %v", j.id, err)
	}
}

// fetchTakenBack fetches from the queue the files of a job taken back
// that its gallery entry keeps (the photo, the request's images); the
// jobs sent since the start hold theirs.
func (s *Server) fetchTakenBack(j *job) error {
	if j.task == nil || !j.keep {
		return nil
	}
	ctx := context.WithoutCancel(j.ctx)
	photo, err := s.cfg.Remote.File(ctx, j.id, "photo")
	if err != nil {
		return err
	}
	var images []*upload
	for _, name := range j.task.Images {
		data, err := s.cfg.Remote.File(ctx, j.id, name)
		if err != nil {
			return err
		}
		images = append(images, uploaded(name, data))
	}
	j.original, j.images = photo, images
	return nil
}
