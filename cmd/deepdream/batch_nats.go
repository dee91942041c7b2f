package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/queue"
)

// natsDreamer dreams a batch's photos on the workers of a NATS queue
// (batch --nats): each photo is a job, as a studio's dream is, and its
// dream comes back as the bytes of its file.
type natsDreamer struct {
	client *queue.Client
	n      int // jobs in flight
}

// newNATSDreamer connects to url and keeps two jobs in flight for each
// worker announced there (at least two).
func newNATSDreamer(ctx context.Context, url, token string) (*natsDreamer, func(), error) {
	nc, err := connectNATS(url, token, "batch")
	if err != nil {
		return nil, nil, fmt.Errorf("batch: %w", err)
	}
	client, err := queue.NewClient(ctx, nc, queue.Config{})
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("batch: %w", err)
	}
	workers, _ := client.Workers(ctx)
	d := &natsDreamer{client: client, n: max(2, 2*len(workers))}
	return d, func() { client.Close(); nc.Close() }, nil
}

func (d *natsDreamer) slots() int { return d.n }

func (d *natsDreamer) dreamPhoto(ctx context.Context, path string, photo dream.Photo, rec dream.Record, progress func(dream.Progress)) ([]byte, error) {
	if len(rec.Request.Images) > 0 {
		return nil, errors.New("batch --nats sends no mask nor guide to the workers yet: dream these in this process (without --nats)")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 8)
	rand.Read(id)
	t := queue.Task{
		ID: hex.EncodeToString(id), Record: rec, MaxPixels: photo.MaxPixels,
		Format: photo.Format, Quality: photo.Quality, Depth: photo.Depth,
	}
	states := make(chan queue.State, 16)
	err = d.client.Submit(ctx, t, map[string][]byte{"photo": data}, func(e queue.Event) {
		switch {
		case e.State != nil:
			states <- *e.State
		case e.Progress != nil && progress != nil:
			p := e.Progress
			progress(dream.Progress{
				Octave: p.Octave, Octaves: p.Octaves, Iteration: p.Iteration, Iterations: p.Iterations,
				Step: p.Step, Steps: p.Steps, Width: p.Width, Height: p.Height,
				Elapsed: time.Duration(p.ElapsedMS) * time.Millisecond, ETA: time.Duration(p.ETAMS) * time.Millisecond,
			})
		}
	})
	if err != nil {
		return nil, err
	}
	bg := context.WithoutCancel(ctx)
	defer d.client.Forget(bg, t.ID)
	cancelled := ctx.Done()
	for {
		select {
		case <-cancelled:
			cancelled = nil
			d.client.Cancel(bg, t.ID)
		case st := <-states:
			switch st.State {
			case queue.Done:
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return d.client.Result(bg, t.ID, st)
			case queue.Failed:
				return nil, fmt.Errorf("on worker %s: %s", st.Worker, st.Error)
			case queue.Cancelled:
				return nil, context.Canceled
			}
		}
	}
}
