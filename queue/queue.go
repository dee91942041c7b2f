package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/motion"
)

// Names on the NATS server.
const (
	streamName      = "DREAMS"
	consumerName    = "workers"
	jobSubject      = "dream.jobs."
	progressSubject = "dream.progress."
	cancelSubject   = "dream.cancel."
	jobsBucket      = "dream-jobs"
	workersBucket   = "dream-workers"
	filesBucket     = "dream-files"
)

// Defaults of Config.
const (
	DefaultAckWait     = 30 * time.Second
	DefaultMaxAttempts = 3
	// stateTTL bounds how long a State lives: a job forgotten by a client
	// that went away is dropped after it.
	stateTTL = 7 * 24 * time.Hour
	// workerTTL is how long a worker's announcement lives unless renewed
	// (every workerTTL/3).
	workerTTL = 30 * time.Second
)

// Config sets up the stream, buckets and consumer (Setup). Zero fields
// take the defaults.
type Config struct {
	// AckWait is how long a job may go without word from its worker
	// before it is given to another (workers renew it every AckWait/3).
	AckWait time.Duration
	// MaxAttempts is how many times a job may be started before it
	// fails.
	MaxAttempts int
	// Replicas is how many servers of a cluster keep each stream (1 for a
	// single server, 3 for a cluster of three).
	Replicas int
}

func (c Config) withDefaults() Config {
	if c.AckWait <= 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	return c
}

// Task is a job as a worker receives it: the dream request as the record
// the result will embed (the model by its sha256), and what the worker
// needs besides.
type Task struct {
	ID     string       `json:"id"`
	Record dream.Record `json:"record"`
	// Kind is "" for a dream of the photo, or motion.Zoom or
	// motion.Video: an animation of the photo, or of the clip that is
	// then the job's "photo" file, moving as Motion says, into an MP4
	// (motion.RunFile; the worker needs ffmpeg).
	Kind   string          `json:"kind,omitempty"`
	Motion *motion.Options `json:"motion,omitempty"`
	// Images are the names of the request's images (Record.Request's
	// image fields), each a file of the job (dream-files <id>/<name>).
	Images []string `json:"images,omitempty"`
	// Peak is the estimated memory of the dream in bytes: a worker with a
	// smaller budget leaves the job to another.
	Peak int64 `json:"peak"`
	// Format ("png" if empty, or "jpeg"), Quality and Depth are the
	// dream file's, as dream.Photo has them; Background is the colour a
	// JPEG shows through the photo's transparency, as
	// imageio.ParseColor reads it ("": white).
	Format      string        `json:"format,omitempty"`
	Quality     int           `json:"quality,omitempty"`
	Depth       int           `json:"depth,omitempty"`
	Background  string        `json:"background,omitempty"`
	MaxPixels   int           `json:"max_pixels"`
	Timeout     time.Duration `json:"timeout"`      // the dream's time limit
	MaxAttempts int           `json:"max_attempts"` // starts before it fails
	// Client is what the submitter keeps with the job, passed through
	// untouched (workers ignore it): what it needs to take the job back
	// after a restart (Client.Pending).
	Client json.RawMessage `json:"client,omitempty"`
}

// Job states, as State.State says them.
const (
	Queued    = "queued"
	Running   = "running"
	Done      = "done"
	Failed    = "failed"
	Cancelled = "cancelled"
)

// State is a job's state as the dream-jobs bucket holds it.
type State struct {
	State   string  `json:"state"`
	Worker  string  `json:"worker,omitempty"`  // running, done: who
	Attempt int     `json:"attempt,omitempty"` // running, done: the how-manieth start
	Result  string  `json:"result,omitempty"`  // done: the result object
	Width   int     `json:"width,omitempty"`   // done: the result's size
	Height  int     `json:"height,omitempty"`
	Seconds float64 `json:"seconds,omitempty"` // done: the dream's time
	// Notes, done, say what the photo held that its dream does not
	// carry, and why (dream.Photo.Note), for the client to tell as a dream
	// here would.
	Notes []string `json:"notes,omitempty"`
	// Thumb and Frames are an animation's (Task.Kind): its last frame as
	// a JPEG object, and its frame count.
	Thumb  string `json:"thumb,omitempty"`
	Frames int    `json:"frames,omitempty"`
	Error  string `json:"error,omitempty"` // failed
}

// Final reports whether the job has ended.
func (s State) Final() bool { return s.State == Done || s.State == Failed || s.State == Cancelled }

// Progress is a running job's progress, sent on dream.progress.<id>: the
// dream's counters and, at most twice a second, a JPEG preview. Step and
// Steps count the whole job's; Frame and Frames an animation's frames
// (the one being dreamed, 1-based; Frames 0 when not known).
type Progress struct {
	Octave, Octaves, Iteration, Iterations int
	Step, Steps, Width, Height             int
	Frame, Frames                          int `json:",omitempty"`
	ElapsedMS, ETAMS                       int64
	Preview                                []byte `json:",omitempty"`
}

// WorkerInfo is what a worker announces of itself.
type WorkerInfo struct {
	Name   string `json:"name"`
	Budget int64  `json:"budget"` // bytes of memory for a dream
	Job    string `json:"job,omitempty"`
}

// handles are the stream, buckets and consumer of a connection.
type handles struct {
	conn    *nats.Conn
	js      jetstream.JetStream
	kv      jetstream.KeyValue
	workers jetstream.KeyValue
	files   jetstream.ObjectStore
}

// setup creates (or updates) the stream, the buckets and the consumer.
func setup(ctx context.Context, js jetstream.JetStream, cfg Config) (*handles, error) {
	h := &handles{js: js, conn: js.Conn()}
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: streamName, Subjects: []string{jobSubject + "*"}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, Replicas: cfg.Replicas, Duplicates: 10 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("queue: stream %s: %w", streamName, err)
	}
	_, err = js.CreateOrUpdateConsumer(ctx, streamName, jetstream.ConsumerConfig{
		Durable: consumerName, AckPolicy: jetstream.AckExplicitPolicy, AckWait: cfg.AckWait,
		MaxDeliver: -1, MaxAckPending: -1, Replicas: cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("queue: consumer %s: %w", consumerName, err)
	}
	if h.kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: jobsBucket, TTL: stateTTL, Replicas: cfg.Replicas, Storage: jetstream.FileStorage}); err != nil {
		return nil, fmt.Errorf("queue: bucket %s: %w", jobsBucket, err)
	}
	if h.workers, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: workersBucket, TTL: workerTTL, Replicas: cfg.Replicas, Storage: jetstream.MemoryStorage}); err != nil {
		return nil, fmt.Errorf("queue: bucket %s: %w", workersBucket, err)
	}
	if h.files, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: filesBucket, Replicas: cfg.Replicas, Storage: jetstream.FileStorage}); err != nil {
		return nil, fmt.Errorf("queue: object store %s: %w", filesBucket, err)
	}
	return h, nil
}

// bind finds the stream, buckets and consumer a Client set up, waiting
// until there are some (a worker may start before the studio).
func bind(ctx context.Context, js jetstream.JetStream, logf func(string, ...any)) (*handles, jetstream.Consumer, error) {
	said := false
	for {
		h, c, err := tryBind(ctx, js)
		if err == nil || ctx.Err() != nil {
			return h, c, err
		}
		if !said {
			logf("waiting for the studio to set up the queue (%v)", err)
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func tryBind(ctx context.Context, js jetstream.JetStream) (*handles, jetstream.Consumer, error) {
	h := &handles{js: js, conn: js.Conn()}
	c, err := js.Consumer(ctx, streamName, consumerName)
	if err != nil {
		return nil, nil, fmt.Errorf("queue: consumer %s: %w", consumerName, err)
	}
	if h.kv, err = js.KeyValue(ctx, jobsBucket); err != nil {
		return nil, nil, fmt.Errorf("queue: bucket %s: %w", jobsBucket, err)
	}
	if h.workers, err = js.KeyValue(ctx, workersBucket); err != nil {
		return nil, nil, fmt.Errorf("queue: bucket %s: %w", workersBucket, err)
	}
	if h.files, err = js.ObjectStore(ctx, filesBucket); err != nil {
		return nil, nil, fmt.Errorf("queue: object store %s: %w", filesBucket, err)
	}
	return h, c, nil
}

// state reads a job's State and its revision; a job with none (never
// submitted, or forgotten) is reported by ok false.
func (h *handles) state(ctx context.Context, id string) (st State, rev uint64, ok bool, err error) {
	e, err := h.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return State{}, 0, false, nil
	}
	if err != nil {
		return State{}, 0, false, fmt.Errorf("queue: job %s: state: %w", id, err)
	}
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return State{}, 0, false, fmt.Errorf("queue: job %s: state %q: %w", id, e.Value(), err)
	}
	return st, e.Revision(), true, nil
}

// update replaces a job's State if it is still at revision rev, and
// returns the new revision; jetstream.ErrKeyExists says another change
// came first.
func (h *handles) update(ctx context.Context, id string, st State, rev uint64) (uint64, error) {
	data, _ := json.Marshal(st)
	return h.kv.Update(ctx, id, data, rev)
}

// photoObject, imageObject, taskObject and resultObject name a job's
// files.
func photoObject(id string) string       { return id + "/photo" }
func taskObject(id string) string        { return id + "/task" }
func imageObject(id, name string) string { return id + "/" + name }

// fileObject names a job's file as submitted: "photo", or an image by
// its name.
func fileObject(id, name string) string {
	if name == "photo" {
		return photoObject(id)
	}
	return imageObject(id, name)
}

func resultObject(id string, attempt int) string { return fmt.Sprintf("%s/result.%d", id, attempt) }
func thumbObject(id string, attempt int) string  { return fmt.Sprintf("%s/thumb.%d", id, attempt) }
