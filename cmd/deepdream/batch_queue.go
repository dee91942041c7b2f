package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/queue"
)

// batch --nats: the photos dreamed by the workers of a NATS queue.

// queueDreamer dreams each photo as a job of a queue: the photo, the
// request's images and the output's options go along, and the dream's
// file comes back as a dream here writes it.
type queueDreamer struct {
	nc     *nats.Conn
	c      *queue.Client
	net    *dream.Network    // the model, to estimate a job's memory
	images map[string][]byte // the request's images' files, by the names the request gives them
	// headers are the images' headers, by the same names, for the
	// estimate.
	headers map[string]dream.FileHeader
	// background is --background, which the workers read as it is.
	background string
	n          int
	// outDir is the batch's OUT_DIR, absolute: the jobs sent carry it
	// (batchTags), so that a batch run again on it after a kill takes
	// back the jobs it left on the queue instead of sending them again.
	outDir string
	stderr io.Writer
	quiet  bool
	mu     sync.Mutex
	left   map[string]queue.Pending // the earlier run's jobs not taken back yet, by batchTags.Key
}

// batchTags are what a job of batch --nats carries in queue.Task.Client:
// the batch's OUT_DIR and what makes the job this one (the photo, its
// path and every field of the task but its ID and estimate), for the
// batch run again on the same OUT_DIR after a kill. A studio on the same
// queue reads "batch" to list the jobs as a batch's (server's clientTags;
// TestStudioListsABatchsJobs).
type batchTags struct {
	Batch string `json:"batch"` // OUT_DIR, absolute
	Photo string `json:"photo"` // the photo's path, absolute
	Key   string `json:"key"`   // batchKey
}

// batchKey returns the key of a job: the sha256 of its photo's path and
// file, of the files of its images, and of its task without its ID,
// estimate and tags. Two jobs of one key dream the same file.
func batchKey(photoPath string, photo []byte, images map[string][]byte, t queue.Task) string {
	t.ID, t.Peak, t.Client = "", 0, nil
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%x\x00", photoPath, sha256.Sum256(photo))
	names := slices.Sorted(maps.Keys(images))
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%x\x00", n, sha256.Sum256(images[n]))
	}
	task, err := json.Marshal(t)
	if err != nil {
		panic(err) // a Task is plain data
	}
	h.Write(task)
	return hex.EncodeToString(h.Sum(nil))
}

// dialQueue connects to the queue of the NATS server at url (a studio's,
// or one its workers wait on) and returns a dreamer of the workers
// attached to it, sending them the files of the request's images.
func dialQueue(ctx context.Context, stderr io.Writer, o *batchOptions, lm *loadedModel, rec dream.Record) (*queueDreamer, error) {
	images, headers := map[string][]byte{}, map[string]dream.FileHeader{}
	var names []string
	for name, path := range o.imageFiles {
		if _, ok := o.req.Images[name]; !ok {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if headers[name], err = dream.ReadFileHeader(data); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		images[name] = data
		names = append(names, name)
	}
	// What a worker would refuse of every job, refused once, here.
	probe, err := json.Marshal(queue.Task{ID: "batch", Record: rec, Images: names})
	if err != nil {
		return nil, err
	}
	if _, err := queue.DecodeTask(probe); err != nil {
		return nil, usagef("batch: --nats: a worker would refuse these jobs: %v", err)
	}
	nc, err := connectNATS(o.nats, natsToken(o.token), o.natsCA, "batch")
	if err != nil {
		return nil, fmt.Errorf("batch: --nats: %w", err)
	}
	c, err := queue.Attach(ctx, nc, queue.Config{})
	if err == nil {
		var workers []queue.WorkerInfo
		if workers, err = c.Workers(ctx); err == nil {
			if len(workers) == 0 {
				fmt.Fprintf(stderr, "deepdream: warning: no worker is attached to %s yet: the photos wait in its queue for one ('deepdream worker --nats %s')\n", o.nats, o.nats)
			} else if !o.quiet {
				fmt.Fprintf(stderr, "batch: %d workers attached to %s\n", len(workers), o.nats)
			}
			// Two jobs a worker: one is dreamed while the next one's
			// files travel.
			q := &queueDreamer{nc: nc, c: c, net: lm.net, images: images, headers: headers, background: o.bg, n: max(2*len(workers), 2),
				stderr: stderr, quiet: o.quiet}
			if q.outDir, err = filepath.Abs(o.outDir); err == nil {
				if err = q.findLeft(ctx); err == nil {
					return q, nil
				}
			}
		}
		c.Close()
	}
	nc.Close()
	return nil, fmt.Errorf("batch: --nats %s: %w", o.nats, err)
}

// findLeft lists the jobs an earlier run of this batch (on the same
// OUT_DIR) left on the queue, killed before it could take their results.
func (q *queueDreamer) findLeft(ctx context.Context) error {
	pending, err := q.c.Pending(ctx)
	if err != nil {
		return err
	}
	q.left = map[string]queue.Pending{}
	for _, p := range pending {
		var tags batchTags
		if p.Task != nil && json.Unmarshal(p.Task.Client, &tags) == nil && tags.Batch == q.outDir && tags.Key != "" {
			q.left[tags.Key] = p
		}
	}
	if len(q.left) > 0 && !q.quiet {
		fmt.Fprintf(q.stderr, "batch: %d jobs of an earlier run of this batch are on the queue: those of photos still to dream are taken back\n", len(q.left))
	}
	return nil
}

// close stops following the jobs. After a whole run (whole), the jobs an
// earlier run left that this one did not take back (of photos dreamed
// meanwhile, or of other settings) are cancelled and removed from the
// queue; after an interrupted one they are left for the next run.
func (q *queueDreamer) close(whole bool) {
	defer q.nc.Close()
	defer q.c.Close()
	q.mu.Lock()
	left := q.left
	q.left = nil
	q.mu.Unlock()
	if !whole || len(left) == 0 {
		return
	}
	ctx := context.Background()
	n := 0
	for _, p := range left {
		if !p.State.Final() {
			if _, err := q.c.Cancel(ctx, p.Task.ID); err != nil {
				fmt.Fprintf(q.stderr, "deepdream: warning: batch: the job %s of an earlier run: %v\n", p.Task.ID, err)
			}
		}
		if err := q.c.Forget(ctx, p.Task.ID); err != nil {
			fmt.Fprintf(q.stderr, "deepdream: warning: batch: the job %s of an earlier run: %v\n", p.Task.ID, err)
			continue
		}
		n++
	}
	if n > 0 && !q.quiet {
		fmt.Fprintf(q.stderr, "batch: %d jobs of an earlier run, of photos or settings this run did not dream, are removed from the queue\n", n)
	}
}

// takeBack returns the job an earlier run left for key, if any, and
// marks it taken.
func (q *queueDreamer) takeBack(key string) (queue.Pending, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	p, ok := q.left[key]
	delete(q.left, key)
	return p, ok
}

func (q *queueDreamer) slots() int { return q.n }

func (q *queueDreamer) dreamPhoto(ctx context.Context, path string, photo dream.Photo, rec dream.Record, progress func(dream.Progress)) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"photo": data}
	var names []string
	for name, b := range q.images {
		files[name] = b
		names = append(names, name)
	}
	ended := make(chan queue.State, 1)
	task := queue.Task{Record: rec, Images: names, MaxPixels: photo.MaxPixels,
		Format: photo.Format, Quality: photo.Quality, Depth: photo.Depth, Background: q.background}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	tags := batchTags{Batch: q.outDir, Photo: abs, Key: batchKey(abs, data, q.images, task)}
	follow := func(e queue.Event) {
		switch {
		case e.Progress != nil:
			p := e.Progress
			progress(dream.Progress{Octave: p.Octave, Octaves: p.Octaves, Iteration: p.Iteration, Iterations: p.Iterations,
				Step: p.Step, Steps: p.Steps, Width: p.Width, Height: p.Height,
				Elapsed: time.Duration(p.ElapsedMS) * time.Millisecond, ETA: time.Duration(p.ETAMS) * time.Millisecond})
		case e.State != nil && e.State.Final():
			select {
			case ended <- *e.State:
			default:
			}
		}
	}
	id := ""
	if p, ok := q.takeBack(tags.Key); ok {
		if err := q.c.Follow(ctx, p.Task.ID, follow); err != nil {
			fmt.Fprintf(q.stderr, "deepdream: warning: batch: %s: the job %s of an earlier run cannot be taken back (%v): it is sent again\n", path, p.Task.ID, err)
			_ = q.c.Forget(context.WithoutCancel(ctx), p.Task.ID)
		} else {
			id = p.Task.ID
		}
	}
	if id == "" {
		id = jobID()
		task.ID, task.Peak = id, q.peak(data, rec.Request)
		if task.Client, err = json.Marshal(tags); err != nil {
			return nil, err
		}
		if err := q.c.Submit(ctx, task, files, follow); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err := q.c.Forget(context.WithoutCancel(ctx), id); err != nil {
			fmt.Fprintf(q.stderr, "deepdream: warning: batch: %s: %v\n", path, err)
		}
	}()
	var st queue.State
	select {
	case st = <-ended:
	case <-ctx.Done():
		_, _ = q.c.Cancel(context.WithoutCancel(ctx), id)
		return nil, ctx.Err()
	}
	switch st.State {
	case queue.Failed:
		return nil, fmt.Errorf("worker %s: %s", st.Worker, st.Error)
	case queue.Cancelled:
		return nil, errors.New("its job was cancelled on the queue")
	}
	if photo.Note != nil {
		for _, note := range st.Notes {
			photo.Note(note)
		}
	}
	file, err := q.c.Result(ctx, id, st)
	if err != nil {
		return nil, err
	}
	return file, nil
}

// peak estimates the memory of the dream of the photo file data as req
// asks, for the workers' budgets, as the studio estimates its jobs'
// (dream.Network.PhotoPeak). 0 (any worker) when the photo's header
// cannot be read or the dream cannot be estimated: the worker says why.
func (q *queueDreamer) peak(data []byte, req dream.Request) int64 {
	photo, err := dream.ReadFileHeader(data)
	if err != nil {
		return 0
	}
	peak, err := q.net.PhotoPeak(photo, q.headers, req)
	if err != nil {
		return 0
	}
	return peak
}

// jobID returns a new job ID: 16 random hex digits.
func jobID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b[:])
}
