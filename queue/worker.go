package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/motion"
	"github.com/deepdream-go/deepdream/video"
)

// previewSize bounds the longer side of the previews a worker sends, and
// previewGap the time between two.
const (
	previewSize = 512
	previewGap  = 500 * time.Millisecond
)

// ModelError is a worker's answer to a job whose model it lacks.
type ModelError struct {
	Worker, Model, SHA256 string
	Err                   error
}

func (e *ModelError) Error() string {
	return fmt.Sprintf("worker %s has no model %s (sha256 %s): %v", e.Worker, e.Model, e.SHA256, e.Err)
}

func (e *ModelError) Unwrap() error { return e.Err }

// Worker dreams the jobs of a queue, one at a time.
type Worker struct {
	// Name tells the worker in the jobs' states ("host/pid" in the
	// command line).
	Name string
	// Budget is the memory a dream may take here in bytes: a job whose
	// estimate exceeds it is left to another worker.
	Budget int64
	// Network opens the model of a record by its sha256 (rec.ModelSHA256;
	// rec.Model names it for messages), or says why it cannot (a
	// *ModelError tells the job which model the worker lacks).
	Network func(ctx context.Context, rec dream.Record) (*dream.Network, error)
	// Logf reports the jobs taken and their ends; nil: silent.
	Logf func(format string, args ...any)
	// WorkDir holds a directory for each zoom or video job running here,
	// its frames as they are finished: a job given back to this worker
	// (the worker stopped, the queue unreachable) resumes from them. ""
	// is a directory of the system's temporary one. A job's directory goes
	// once the job has ended.
	WorkDir string

	mu      sync.Mutex
	current string // the job running
	stop    context.CancelFunc
}

var (
	badKey   = regexp.MustCompile(`[^-_=.a-zA-Z0-9]`)
	validID  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	validImg = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$`)
)

// DecodeTask reads a job's message and checks what a worker trusts of
// it before it touches anything: the job's ID (a key and an object name),
// the names of its images, its numbers, and the dream request's bounds
// (dream.Request.Validate).
func DecodeTask(data []byte) (Task, error) {
	var t Task
	if err := json.Unmarshal(data, &t); err != nil {
		return t, fmt.Errorf("queue: task: %w", err)
	}
	switch {
	case !validID.MatchString(t.ID):
		return t, fmt.Errorf("queue: task: id %q is not 1 to 64 letters, digits, - or _", t.ID)
	case t.Peak < 0 || t.MaxPixels < 0 || t.Timeout < 0 || t.MaxAttempts < 0:
		return t, fmt.Errorf("queue: task %s: a negative peak, max pixels, timeout or attempts", t.ID)
	case t.Format != "" && t.Format != "png" && t.Format != "jpeg":
		return t, fmt.Errorf("queue: task %s: format %q: want png or jpeg", t.ID, t.Format)
	}
	for _, name := range t.Images {
		if !validImg.MatchString(name) {
			return t, fmt.Errorf("queue: task %s: image name %q", t.ID, name)
		}
	}
	if err := t.Record.Request.Validate(); err != nil {
		return t, fmt.Errorf("queue: task %s: %w", t.ID, err)
	}
	if t.Kind != "" {
		if t.Motion == nil {
			return t, fmt.Errorf("queue: task %s: a %s without its options", t.ID, t.Kind)
		}
		if err := t.Motion.Validate(t.Kind); err != nil {
			return t, fmt.Errorf("queue: task %s: %w", t.ID, err)
		}
	}
	if t.MaxAttempts == 0 {
		t.MaxAttempts = DefaultMaxAttempts
	}
	return t, nil
}

func (w *Worker) logf(format string, args ...any) {
	if w.Logf != nil {
		w.Logf(format, args...)
	}
}

// Run takes and dreams jobs until ctx ends; a job running then goes back
// to the queue for another worker.
func (w *Worker) Run(ctx context.Context, nc *nats.Conn) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	h, cons, err := bind(ctx, js, w.logf)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	sub, err := nc.Subscribe(cancelSubject+"*", func(m *nats.Msg) {
		w.mu.Lock()
		if w.current == m.Subject[len(cancelSubject):] && w.stop != nil {
			w.stop()
		}
		w.mu.Unlock()
	})
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	defer sub.Unsubscribe()
	go w.announce(ctx, h)
	ackWait := cons.CachedInfo().Config.AckWait
	w.logf("worker %s: taking jobs of up to %d MB (a job silent for %s goes to another worker)", w.Name, w.Budget>>20, ackWait)
	if err := video.Available(); err != nil {
		w.logf("worker %s: zoom and video jobs fail here: %v", w.Name, err)
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			w.logf("worker %s: fetching a job: %v", w.Name, err)
			time.Sleep(time.Second)
			continue
		}
		for msg := range batch.Messages() {
			w.handle(ctx, h, msg, ackWait)
		}
	}
	return nil
}

// announce keeps the worker's WorkerInfo in the workers bucket while it
// runs.
func (w *Worker) announce(ctx context.Context, h *handles) {
	key := badKey.ReplaceAllString(w.Name, "_")
	t := time.NewTicker(workerTTL / 3)
	defer t.Stop()
	for {
		w.mu.Lock()
		data, _ := json.Marshal(WorkerInfo{Name: w.Name, Budget: w.Budget, Job: w.current})
		w.mu.Unlock()
		_, _ = h.workers.Put(ctx, key, data)
		select {
		case <-ctx.Done():
			_ = h.workers.Delete(context.Background(), key)
			return
		case <-t.C:
		}
	}
}

// handle runs one delivery of a job: see the package's doc.
func (w *Worker) handle(ctx context.Context, h *handles, msg jetstream.Msg, ackWait time.Duration) {
	t, err := DecodeTask(msg.Data())
	if err != nil {
		w.logf("worker %s: a message on %s is no job: %v", w.Name, msg.Subject(), err)
		_ = msg.Term()
		return
	}
	opCtx, opDone := context.WithTimeout(ctx, opTimeout)
	st, rev, ok, err := h.state(opCtx, t.ID)
	opDone()
	switch {
	case err != nil:
		w.logf("worker %s: %v", w.Name, err)
		_ = msg.NakWithDelay(time.Second)
		return
	case !ok || st.Final(): // forgotten, or ended by an earlier delivery or a cancel
		_ = msg.Ack()
		return
	case t.Peak > w.Budget:
		_ = msg.NakWithDelay(time.Second) // for a worker with more memory
		return
	}
	attempt := st.Attempt + 1
	if attempt > t.MaxAttempts {
		st = State{State: Failed, Attempt: st.Attempt, Error: fmt.Sprintf("the dream was started %d times and no worker finished it (a worker stopped, or ran out of memory)", st.Attempt)}
		opCtx, opDone := context.WithTimeout(ctx, opTimeout)
		_, _ = h.update(opCtx, t.ID, st, rev)
		opDone()
		_ = msg.Ack()
		return
	}
	opCtx, opDone = context.WithTimeout(ctx, opTimeout)
	rev, err = h.update(opCtx, t.ID, State{State: Running, Worker: w.Name, Attempt: attempt}, rev)
	opDone()
	if err != nil {
		_ = msg.NakWithDelay(100 * time.Millisecond) // it changed meanwhile: look again
		return
	}
	w.logf("worker %s: job %s, attempt %d", w.Name, t.ID, attempt)

	jobCtx, stop := context.WithCancel(ctx)
	defer stop()
	w.mu.Lock()
	w.current, w.stop = t.ID, stop
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.current, w.stop = "", nil
		w.mu.Unlock()
	}()
	alive := time.NewTicker(ackWait / 3)
	defer alive.Stop()
	go func() {
		for {
			select {
			case <-jobCtx.Done():
				return
			case <-alive.C:
				_ = msg.InProgress()
			}
		}
	}()

	start := time.Now()
	var notes []string
	res, err := w.dream(jobCtx, h, t, func(note string) { notes = append(notes, note) })
	end := State{State: Done, Worker: w.Name, Attempt: attempt, Notes: notes}
	switch {
	case ctx.Err() != nil: // the worker stops: another takes the job at once
		_ = msg.Nak()
		return
	case jobCtx.Err() != nil: // cancelled
		w.forget(t)
		_ = msg.Ack()
		w.logf("worker %s: job %s cancelled", w.Name, t.ID)
		return
	case errors.As(err, new(*queueError)): // a file not fetched: try again, here or elsewhere
		w.logf("worker %s: job %s: %v", w.Name, t.ID, err)
		_ = msg.NakWithDelay(time.Second)
		return
	case errors.Is(err, context.DeadlineExceeded):
		end = State{State: Failed, Worker: w.Name, Attempt: attempt, Error: fmt.Sprintf("the job took longer than the limit of %s per job; try a smaller max size or fewer iterations", t.Timeout)}
		w.forget(t)
	case err != nil:
		end = State{State: Failed, Worker: w.Name, Attempt: attempt, Error: err.Error()}
		w.forget(t)
	default:
		end.Result = resultObject(t.ID, attempt)
		b := res.out.Bounds()
		end.Width, end.Height, end.Seconds = b.Dx(), b.Dy(), time.Since(start).Seconds()
		if err := w.store(ctx, h, t, &end, res); err != nil {
			w.logf("worker %s: job %s: storing the result: %v", w.Name, t.ID, err)
			w.drop(h, end.Result, end.Thumb)
			_ = msg.NakWithDelay(time.Second) // stored nowhere: dream it again
			return
		}
	}
	switch err := w.end(ctx, h, t.ID, end, rev); {
	case errors.Is(err, jetstream.ErrKeyExists):
		// Cancelled meanwhile, or taken by another worker after a pause
		// longer than AckWait: its state stands, this result goes.
		w.drop(h, end.Result, end.Thumb)
		w.forget(t)
		w.logf("worker %s: job %s: %s result dropped: %v", w.Name, t.ID, end.State, err)
		_ = msg.Ack()
		return
	case err != nil: // the queue unreachable: the job goes to another worker
		w.drop(h, end.Result, end.Thumb)
		w.logf("worker %s: job %s: recording its end: %v", w.Name, t.ID, err)
		_ = msg.NakWithDelay(time.Second)
		return
	}
	w.forget(t)
	ackCtx, ackDone := context.WithTimeout(ctx, opTimeout)
	defer ackDone()
	if err := msg.DoubleAck(ackCtx); err != nil {
		w.logf("worker %s: job %s: acknowledging: %v (its state is %s: a redelivery does nothing)", w.Name, t.ID, err, end.State)
	}
	w.logf("worker %s: job %s %s in %s", w.Name, t.ID, end.State, time.Since(start).Round(time.Millisecond))
}

// opTimeout bounds each exchange of a worker with the queue: a server of
// a cluster going away must not hold a job forever.
const opTimeout = 10 * time.Second

// queueError is a failed exchange with the queue during a dream (not the
// dream's own failure): the job is tried again.
type queueError struct{ err error }

func (e *queueError) Error() string { return e.err.Error() }
func (e *queueError) Unwrap() error { return e.err }

// getBytes fetches an object within opTimeout.
func getBytes(ctx context.Context, h *handles, name string) ([]byte, error) {
	opCtx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	data, err := h.files.GetBytes(opCtx, name)
	if err != nil && ctx.Err() == nil {
		return nil, &queueError{fmt.Errorf("fetching %s: %w", name, err)}
	}
	return data, err
}

// drop deletes result objects that will not be the job's ("": none).
func (w *Worker) drop(h *handles, names ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	for _, name := range names {
		if name != "" {
			_ = h.files.Delete(ctx, name)
		}
	}
}

// store puts a job's result in the files bucket: the dream's PNG, or an
// animation's MP4 and the JPEG of its last frame.
func (w *Worker) store(ctx context.Context, h *handles, t Task, end *State, res result) error {
	opCtx, opDone := context.WithTimeout(ctx, opTimeout)
	defer opDone()
	if _, err := h.files.PutBytes(opCtx, end.Result, res.file); err != nil {
		return err
	}
	if t.Kind == "" {
		return nil
	}
	var thumb bytes.Buffer
	if err := imageio.Encode(&thumb, fitPreview(res.out), "jpeg", imageio.EncodeOptions{Quality: 85}); err != nil {
		return err
	}
	end.Thumb, end.Frames = thumbObject(t.ID, end.Attempt), res.frames
	_, err := h.files.PutBytes(opCtx, end.Thumb, thumb.Bytes())
	return err
}

// jobDir is the work directory of a zoom or video job here.
func (w *Worker) jobDir(t Task) string {
	dir := w.WorkDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "deepdream-worker-"+badKey.ReplaceAllString(w.Name, "_"))
	}
	return filepath.Join(dir, t.ID)
}

// forget removes the work directory of a job that has ended.
func (w *Worker) forget(t Task) {
	if t.Kind != "" {
		if err := os.RemoveAll(w.jobDir(t)); err != nil {
			w.logf("worker %s: job %s: %v", w.Name, t.ID, err)
		}
	}
}

// result is what a job made: the dream's PNG and image, or an
// animation's MP4, its last frame and its frame count.
type result struct {
	file   []byte
	out    image.Image
	frames int
}

// end records a job's end (its State at revision rev), trying again while
// the queue does not answer (a cluster electing a leader). An update that
// went through but whose answer was lost shows as this very end on a
// look; another change (a cancel) is jetstream.ErrKeyExists.
func (w *Worker) end(ctx context.Context, h *handles, id string, end State, rev uint64) error {
	var err error
	for try := range 5 {
		if try > 0 {
			time.Sleep(time.Duration(try) * 500 * time.Millisecond)
		}
		opCtx, opDone := context.WithTimeout(ctx, opTimeout)
		_, err = h.update(opCtx, id, end, rev)
		if errors.Is(err, jetstream.ErrKeyExists) {
			st, _, ok, gerr := h.state(opCtx, id)
			opDone()
			if gerr != nil {
				continue
			}
			if ok && reflect.DeepEqual(st, end) {
				return nil // ours, its answer lost
			}
			return err
		}
		opDone()
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// dream runs t under its time limit and returns its result; note is told
// what the photo held that its dream does not carry.
func (w *Worker) dream(ctx context.Context, h *handles, t Task, note func(string)) (result, error) {
	if t.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.Timeout)
		defer cancel()
	}
	if t.Kind != "" {
		if err := video.Available(); err != nil {
			return result{}, fmt.Errorf("worker %s cannot dream a %s: %w", w.Name, t.Kind, errors.Unwrap(err))
		}
	}
	net, err := w.Network(ctx, t.Record)
	if err != nil {
		if me, ok := errors.AsType[*ModelError](err); ok && me.Worker == "" {
			me.Worker = w.Name
		}
		return result{}, err
	}
	photo, err := getBytes(ctx, h, photoObject(t.ID))
	if err != nil {
		return result{}, err
	}
	rec := t.Record
	for _, name := range t.Images {
		data, err := getBytes(ctx, h, imageObject(t.ID, name))
		if err != nil {
			return result{}, err
		}
		im, err := dream.LoadImage(bytes.NewReader(data), t.MaxPixels)
		if err != nil {
			return result{}, fmt.Errorf("the image %s cannot be read: %w", name, err)
		}
		if rec.Request.Images == nil {
			rec.Request.Images = map[string]dream.Image{}
		}
		rec.Request.Images[name] = im
	}
	var last time.Time
	publish := func(p dream.Progress, frame, frames, step, steps int, elapsed, eta time.Duration) {
		msg := Progress{
			Octave: p.Octave, Octaves: p.Octaves, Iteration: p.Iteration, Iterations: p.Iterations,
			Step: step, Steps: steps, Frame: frame, Frames: frames, Width: p.Width, Height: p.Height,
			ElapsedMS: elapsed.Milliseconds(), ETAMS: eta.Milliseconds(),
		}
		if time.Since(last) >= previewGap || p.Step == p.Steps {
			last = time.Now()
			var buf bytes.Buffer
			if imageio.Encode(&buf, fitPreview(p.Preview()), "jpeg", imageio.EncodeOptions{Quality: 75}) == nil {
				msg.Preview = buf.Bytes()
			}
		}
		data, _ := json.Marshal(msg)
		_ = h.conn.Publish(progressSubject+t.ID, data)
	}
	if t.Kind != "" {
		r, err := motion.RunFile(ctx, motion.FileJob{
			Kind: t.Kind, Net: net, Record: rec, Options: *t.Motion, Input: photo, MaxPixels: t.MaxPixels, Dir: w.jobDir(t),
			Progress: func(p dream.MotionProgress) { publish(p.Dream, p.Frame, p.Frames, p.Step, p.Steps, p.Elapsed, p.ETA) },
		})
		return result{file: r.MP4, out: r.Last, frames: r.Frames}, err
	}
	progress := func(p dream.Progress) { publish(p, 0, 0, p.Step, p.Steps, p.Elapsed, p.ETA) }
	format := t.Format
	if format == "" {
		format = "png"
	}
	p := dream.Photo{Name: t.ID, MaxPixels: t.MaxPixels, Format: format, Quality: t.Quality, Depth: t.Depth, Note: note}
	if t.Background != "" {
		if p.Background, err = imageio.ParseColor(t.Background); err != nil {
			return result{}, fmt.Errorf("the job's background: %w", err)
		}
	}
	file, out, err := net.DreamPhoto(ctx, bytes.NewReader(photo), p, rec, progress)
	return result{file: file, out: out}, err
}

// fitPreview scales a preview down to previewSize on its longer side.
func fitPreview(img image.Image) image.Image {
	b := img.Bounds()
	w, h := dream.DreamSize(b.Dx(), b.Dy(), previewSize)
	if w == b.Dx() && h == b.Dy() {
		return img
	}
	return imageio.Resize(img, w, h)
}
