package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
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
	nc, err := connectNATS(o.nats, natsToken(o.token), "batch")
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
			return &queueDreamer{nc: nc, c: c, net: lm.net, images: images, headers: headers, background: o.bg, n: max(2*len(workers), 2)}, nil
		}
		c.Close()
	}
	nc.Close()
	return nil, fmt.Errorf("batch: --nats %s: %w", o.nats, err)
}

func (q *queueDreamer) close() {
	q.c.Close()
	q.nc.Close()
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
	id := jobID()
	ended := make(chan queue.State, 1)
	task := queue.Task{ID: id, Record: rec, Images: names, Peak: q.peak(data, rec.Request), MaxPixels: photo.MaxPixels,
		Format: photo.Format, Quality: photo.Quality, Depth: photo.Depth, Background: q.background}
	err = q.c.Submit(ctx, task, files, func(e queue.Event) {
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
	})
	if err != nil {
		return nil, err
	}
	defer q.c.Forget(context.WithoutCancel(ctx), id)
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
