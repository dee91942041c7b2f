package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/motion"
	jobqueue "github.com/deepdream-go/deepdream/queue"
)

// Job states.
const (
	stateQueued    = "queued"
	stateRunning   = "running"
	stateDone      = "done"
	stateFailed    = "failed"
	stateCancelled = "cancelled"
)

// previewSize bounds the longer side of live previews: they are for
// watching, the result is what is kept.
const previewSize = 512

// Status is a job as the page sees it.
type Status struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// Kind is what the job is for (jobKinds: "dream", "explore", ...),
	// Group the client's name for jobs cancelled as one (the explorer's
	// tiles), Owner the client's random ID of the page that submitted it
	// (so a reloaded page knows its own jobs).
	Kind  string `json:"kind"`
	Group string `json:"group,omitempty"`
	Owner string `json:"owner,omitempty"`
	// Client names whose job it is when it is not the studio's: another
	// client's on the studio's queue ("deepdream batch", "another
	// studio", "another client"; others.go).
	Client string `json:"client,omitempty"`
	// Created is when the job was queued; Worker who runs it ("" while it
	// waits).
	Created    time.Time `json:"created"`
	Worker     string    `json:"worker"`
	Position   int       `json:"position,omitempty"` // in the queue, 1 = next
	Model      string    `json:"model"`
	Layers     []string  `json:"layers"`
	Gallery    bool      `json:"gallery"` // saved to the gallery when done
	Octave     int       `json:"octave"`
	Octaves    int       `json:"octaves"`
	Iteration  int       `json:"iteration"`
	Iterations int       `json:"iterations"`
	Step       int       `json:"step"`
	Steps      int       `json:"steps"`
	// Frame and Frames count a zoom's or a video's frames: the one
	// being dreamed (1-based) and all (0 when not known).
	Frame     int    `json:"frame,omitempty"`
	Frames    int    `json:"frames,omitempty"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	ElapsedMS int64  `json:"elapsed_ms"`
	ETAMS     int64  `json:"eta_ms"`
	Error     string `json:"error,omitempty"`
	Entry     string `json:"entry,omitempty"`  // gallery ID, once saved
	Result    string `json:"result,omitempty"` // URL of the result PNG
	// Preview is a JPEG data URL of the dream so far; only in events.
	Preview string `json:"preview,omitempty"`
}

func (s *Status) finished() bool {
	return s.State == stateDone || s.State == stateFailed || s.State == stateCancelled
}

// job is one dream request, from its submission to a little after its end.
type job struct {
	id       string
	model    *Model
	record   dream.Record // the request, and what the result will embed
	original []byte       // the photo as uploaded, decoded when the job starts
	format   string
	images   []*upload // the request's images as uploaded, decoded when the job starts
	keep     bool      // save to the gallery (explorer tiles are not saved)
	// kind is the job's (Status.Kind); motion the options of a zoom or a
	// video job, whose original is the photo or the clip.
	kind   string
	motion motion.Options
	// fileBytes is the size of original and images, peak the memory the
	// dream is estimated to take beyond them: the queue's budget counts
	// both.
	fileBytes, peak int64
	// estimate is the dream's peak wherever it runs (peak is 0 when a
	// remote worker dreams it).
	estimate int64
	// task is the task of a job taken back from the queue after a
	// restart (takeBack): its files stay there until it is kept.
	task *jobqueue.Task

	ctx    context.Context
	cancel context.CancelFunc
	// watchers counts the event streams open on the job: previews are
	// encoded only when someone looks.
	watchers atomic.Int32

	mu      sync.Mutex
	status  Status
	preview []byte // latest JPEG preview
	pseq    int    // counts previews, so a stream sends each once
	result  []byte // the result PNG of a job not kept in the gallery
	changed chan struct{}
	// seq orders jobs queued in the same instant; onChange, set by the
	// queue, tells the jobs' event streams of each update.
	seq      uint64
	onChange func(id string)
}

// dropResult forgets the result kept in memory and returns its size.
func (j *job) dropResult() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := int64(len(j.result))
	j.result = nil
	return n
}

// update changes the status under the lock and wakes the event streams.
func (j *job) update(f func(*Status)) {
	j.mu.Lock()
	f(&j.status)
	close(j.changed)
	j.changed = make(chan struct{})
	j.mu.Unlock()
	if j.onChange != nil {
		j.onChange(j.id)
	}
}

// group is the job's group ("": none).
func (j *job) group() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.status.Group
}

// snapshot returns the status, the latest preview and its number, and a
// channel closed at the next change.
func (j *job) snapshot() (Status, []byte, int, <-chan struct{}) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.status, j.preview, j.pseq, j.changed
}

// progress is the dream's progress callback.
func (j *job) progress(p dream.Progress) {
	j.progressOf(p, 0, 0, p.Step, p.Steps, p.Elapsed, p.ETA)
}

// progressOf shows the progress of a dream, a frame of a zoom or a
// video's when frames is not 0, and the job's steps: with the dream so
// far as the preview, when an event stream watches.
func (j *job) progressOf(p dream.Progress, frame, frames, step, steps int, elapsed, eta time.Duration) {
	var jpg []byte
	if j.watchers.Load() > 0 {
		var buf bytes.Buffer
		if err := imageio.Encode(&buf, fit(p.Preview(), previewSize), "jpeg", imageio.EncodeOptions{Quality: 75}); err == nil {
			jpg = buf.Bytes()
		}
	}
	j.show(jobqueue.Progress{
		Octave: p.Octave, Octaves: p.Octaves, Iteration: p.Iteration, Iterations: p.Iterations,
		Step: step, Steps: steps, Frame: frame, Frames: frames, Width: p.Width, Height: p.Height,
		ElapsedMS: elapsed.Milliseconds(), ETAMS: eta.Milliseconds(), Preview: jpg,
	})
}

// show updates the status with a dream's progress, here or on a worker.
func (j *job) show(p jobqueue.Progress) {
	if p.Preview != nil {
		j.mu.Lock()
		j.preview, j.pseq = p.Preview, j.pseq+1
		j.mu.Unlock()
	}
	j.update(func(s *Status) {
		s.Octave, s.Octaves, s.Iteration, s.Iterations = p.Octave, p.Octaves, p.Iteration, p.Iterations
		s.Step, s.Steps, s.Width, s.Height = p.Step, p.Steps, p.Width, p.Height
		if p.Frame > 0 {
			s.Frame, s.Frames = p.Frame, p.Frames
		}
		s.ElapsedMS, s.ETAMS = p.ElapsedMS, p.ETAMS
	})
}

// previewURL encodes a JPEG as a data URL.
func previewURL(jpg []byte) string {
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(jpg)
}

// run dreams one job and saves its result.
func (s *Server) run(j *job) {
	if s.started != nil {
		s.started(j)
	}
	start := time.Now()
	st, err := s.dream(j)
	if err != nil {
		s.q.finish(j, func(x *Status) {
			x.State, x.Error = stateFailed, err.Error()
			if j.ctx.Err() != nil {
				x.State, x.Error = stateCancelled, ""
			}
		})
		if j.ctx.Err() == nil {
			s.logf("job %s failed: %v", j.id, err)
		}
		return
	}
	s.logf("job %s done in %s", j.id, time.Since(start).Round(time.Millisecond))
	s.q.finish(j, func(x *Status) { x.State, x.Entry, x.Result = stateDone, st.Entry, st.Result })
}

// dream runs the dream of j under its time limit and keeps the result: in
// the gallery, or in memory for a job not kept.
func (s *Server) dream(j *job) (Status, error) {
	ctx, cancel := context.WithTimeout(j.ctx, s.cfg.JobTimeout)
	defer cancel()
	start := time.Now()
	net, _, err := s.loadModel(j.model)
	if err != nil {
		return Status{}, err
	}
	rec := j.record
	files := map[string][]byte{} // the images by sha256, for the gallery
	for _, u := range j.images {
		im, err := dream.LoadImage(bytes.NewReader(u.data), s.cfg.MaxPixels)
		if err != nil {
			return Status{}, unreadable(u.key, err)
		}
		if rec.Request.Images == nil {
			rec.Request.Images = map[string]dream.Image{}
		}
		rec.Request.Images[u.name()] = im
		files[im.SHA256] = u.data
	}
	var file []byte
	var out image.Image
	frames := 0
	if motion.Animated(j.kind) {
		var r motion.FileResult
		r, err = s.dreamMotion(ctx, j, net, rec)
		file, out, frames = r.MP4, r.Last, r.Frames
	} else {
		file, out, err = net.DreamPhoto(ctx, bytes.NewReader(j.original), dream.Photo{MaxPixels: s.cfg.MaxPixels, Format: "png"}, rec, j.progress)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) && j.ctx.Err() == nil:
		return Status{}, fmt.Errorf("the %s took longer than the limit of %s per job; try a smaller max size or fewer iterations", kindNoun(j.kind), s.cfg.JobTimeout)
	case err != nil:
		return Status{}, unreadable("photo", err)
	}
	for name, im := range rec.Request.Images {
		rec.Request.Images[name] = dream.Image{SHA256: im.SHA256} // the entry keeps the sha256, not the pixels
	}
	return s.keep(j, rec, files, file, out, frames, time.Since(start))
}

// kindNoun names a job's kind in a message: "dream", "zoom", "video".
func kindNoun(kind string) string {
	if motion.Animated(kind) {
		return kind
	}
	return "dream"
}

// keep keeps the result of j: in the gallery, under the job's ID, with
// rec (its images by sha256) and the files of its images by their
// sha256; or in memory for a job not kept. file is the result: a
// dream's PNG of out, or the MP4 of a zoom or a video of frames frames,
// out its last. A job already in the gallery is not saved again.
func (s *Server) keep(j *job, rec dream.Record, files map[string][]byte, file []byte, out image.Image, frames int, took time.Duration) (Status, error) {
	if !j.keep {
		j.mu.Lock()
		j.result = file
		j.mu.Unlock()
		return Status{Result: "/api/jobs/" + j.id + "/result"}, nil
	}
	if e := s.gallery.get(j.id); e != nil {
		return inGallery(e), nil
	}
	b := out.Bounds()
	e := &Entry{
		ID: j.id, Created: time.Now().UTC(), Params: rec, Format: j.format,
		Width: b.Dx(), Height: b.Dy(), Seconds: took.Seconds(),
	}
	if motion.Animated(j.kind) {
		e.Kind, e.Motion, e.Frames = j.kind, j.motion.Values(j.kind), frames
		if j.kind == motion.Video {
			delete(e.Motion, "fps") // the clip's own
		}
	}
	thumb := out
	if e.Kind != "" {
		thumb = playBadge(fit(out, thumbSize)) // the gallery shows a video as one
	}
	if err := s.gallery.add(e, j.original, files, file, thumb); err != nil {
		s.logf("job %s: %v", j.id, err)
		return Status{}, fmt.Errorf("the dream could not be saved in the gallery: %s", withoutPath(err))
	}
	return inGallery(e), nil
}

// inGallery is the status of a job kept in the gallery as entry e.
func inGallery(e *Entry) Status {
	return Status{Entry: e.ID, Result: "/api/gallery/" + e.ID + "/" + e.resultFile()}
}

// unreadable is the error of a job for the page: a file whose data turns
// out broken past its header (imageio's "decoding" errors) is what ("the
// photo", "the mask") that cannot be read; others lose their "dream: ".
func unreadable(what string, err error) error {
	if strings.HasPrefix(err.Error(), "imageio: decoding ") {
		return fmt.Errorf("the %s cannot be read: %v", what, errors.Unwrap(err))
	}
	return errors.New(strings.TrimPrefix(err.Error(), "dream: "))
}
