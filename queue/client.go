package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Event is a change of a job a Client watches: its new State, or its
// Progress while it runs.
type Event struct {
	ID       string
	State    *State
	Progress *Progress
	// Forgotten says the job's State was deleted (its client forgot it,
	// or it expired); only Others is told.
	Forgotten bool
}

// Client submits jobs, follows them and cancels them. Its methods may be
// called from several goroutines.
type Client struct {
	nc  *nats.Conn
	h   *handles
	cfg Config

	mu       sync.Mutex
	watching map[string]*watch
	others   func(Event)

	stop     context.CancelFunc
	done     chan struct{}
	progress *nats.Subscription
}

// NewClient sets up the queue on the server nc is connected to (the
// stream, buckets and consumer, created or updated to cfg) and starts
// following the jobs it will submit.
func NewClient(ctx context.Context, nc *nats.Conn, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	h, err := setup(ctx, js, cfg)
	if err != nil {
		return nil, err
	}
	return newClient(nc, h, cfg)
}

// Attach returns a Client of the queue a studio has set up on the server
// nc is connected to, leaving its configuration (AckWait, Replicas) as
// the studio made it; on a server without one (workers waiting for it:
// its stream, consumer or buckets do not exist), it sets one up with cfg,
// as NewClient does. Any other failure to find the queue (a timeout, a
// permission, JetStream off) is returned, naming the server: setting the
// queue up then would overwrite a studio's configuration. For a client
// that is not the studio: deepdream batch --nats.
func Attach(ctx context.Context, nc *nats.Conn, cfg Config) (*Client, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return attach(ctx, nc, js, cfg)
}

// attach is Attach through js.
func attach(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	h, _, err := tryBind(ctx, js)
	switch {
	case missing(err):
		h, err = setup(ctx, js, cfg)
	case err != nil:
		err = fmt.Errorf("%w (stream %s at %s)", err, streamName, nc.ConnectedUrlRedacted())
	}
	if err != nil {
		return nil, err
	}
	return newClient(nc, h, cfg)
}

// missing reports whether err says that the queue's stream, its consumer
// or one of its buckets does not exist.
func missing(err error) bool {
	return errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrBucketNotFound)
}

// newClient starts following the jobs of the queue of h.
func newClient(nc *nats.Conn, h *handles, cfg Config) (*Client, error) {
	c := &Client{nc: nc, h: h, cfg: cfg, watching: map[string]*watch{}, done: make(chan struct{})}
	wctx, stop := context.WithCancel(context.Background())
	w, err := h.kv.WatchAll(wctx, jetstream.UpdatesOnly())
	if err != nil {
		stop()
		return nil, fmt.Errorf("queue: watching %s: %w", jobsBucket, err)
	}
	c.stop = stop
	go c.follow(w)
	c.progress, err = nc.Subscribe(progressSubject+"*", func(m *nats.Msg) {
		var p Progress
		if json.Unmarshal(m.Data, &p) == nil {
			c.tell(Event{ID: strings.TrimPrefix(m.Subject, progressSubject), Progress: &p})
		}
	})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("queue: %w", err)
	}
	return c, nil
}

// follow passes the changes of the States to the jobs' watchers.
func (c *Client) follow(w jetstream.KeyWatcher) {
	defer close(c.done)
	defer w.Stop()
	for e := range w.Updates() {
		if e == nil {
			continue
		}
		if e.Operation() != jetstream.KeyValuePut {
			if _, others := c.route(e.Key()); others != nil {
				others(Event{ID: e.Key(), Forgotten: true})
			}
			continue
		}
		var st State
		if json.Unmarshal(e.Value(), &st) == nil {
			c.tellState(e.Key(), st, e.Revision())
		}
	}
}

// watch is the watcher of a job: its function, and the revision of the
// last State it was given.
type watch struct {
	mu  sync.Mutex // held while fn runs: a job's events come one at a time
	fn  func(Event)
	rev uint64
}

// route returns the watcher of job id, or, when none follows it, the
// function of Others (nil when none).
func (c *Client) route(id string) (*watch, func(Event)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w := c.watching[id]; w != nil {
		return w, nil
	}
	return nil, c.others
}

func (c *Client) tell(e Event) {
	switch w, others := c.route(e.ID); {
	case w != nil:
		w.mu.Lock()
		defer w.mu.Unlock()
		w.fn(e)
	case others != nil:
		others(e)
	}
}

// Others calls fn with the events of the jobs this Client does not
// follow (other clients' on the same queue: another studio's, deepdream
// batch's), from now on, until Close: their changes of State, their
// progress, and their end when they are forgotten (Event.Forgotten). fn
// is called from one goroutine for States and from another for progress,
// and must not block.
func (c *Client) Others(fn func(Event)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.others = fn
}

// Task returns the task of a job as submitted, or nil (and no error) for
// a job stored without one (Pending).
func (c *Client) Task(ctx context.Context, id string) (*Task, error) {
	data, err := c.h.files.GetBytes(ctx, taskObject(id))
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue: job %s: task: %w", id, err)
	}
	t, err := DecodeTask(data)
	if err != nil {
		return nil, fmt.Errorf("queue: job %s: object %s: %w", id, taskObject(id), err)
	}
	if t.ID != id {
		return nil, fmt.Errorf("queue: job %s: object %s is the task of job %q", id, taskObject(id), t.ID)
	}
	return &t, nil
}

// tellState gives a job's watcher a State at revision rev, unless it had
// that one or a later one already (Follow reads the State while the
// watch of the bucket may bring the same change).
func (c *Client) tellState(id string, st State, rev uint64) {
	w, others := c.route(id)
	if w == nil {
		if others != nil {
			others(Event{ID: id, State: &st})
		}
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if rev <= w.rev {
		return
	}
	w.rev = rev
	w.fn(Event{ID: id, State: &st})
}

// Close stops following the jobs; it closes no connection.
func (c *Client) Close() {
	if c.progress != nil {
		c.progress.Unsubscribe()
	}
	c.stop()
	<-c.done
}

// Submit queues t with its files ("photo", and each of t.Images by its
// name) and calls fn with each change of the job until Forget.
func (c *Client) Submit(ctx context.Context, t Task, files map[string][]byte, fn func(Event)) error {
	if t.MaxAttempts == 0 {
		t.MaxAttempts = c.cfg.MaxAttempts
	}
	var err error
	for attempt := range submitAttempts {
		if attempt > 0 { // a cluster electing a leader, a server going away
			select {
			case <-ctx.Done():
				return err
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
			}
		}
		c.mu.Lock()
		c.watching[t.ID] = &watch{fn: fn}
		c.mu.Unlock()
		if err = c.submit(ctx, t, files); err == nil || ctx.Err() != nil {
			break
		}
		c.Forget(ctx, t.ID) // what was stored of it: the next attempt starts anew
	}
	if err != nil {
		c.Forget(ctx, t.ID)
	}
	return err
}

// submitAttempts is how many times Submit tries to store and queue a job.
const submitAttempts = 3

// cleanupTime bounds the work of Forget, which goes on after its
// caller's context has ended (a cancelled submission's files go too).
const cleanupTime = 10 * time.Second

// submit stores the job's files and its task (the object <id>/task: the
// stream's message goes once a worker acknowledges it, and a job done
// while its submitter was away must still be known by Pending), then
// its State, then queues it.
func (c *Client) submit(ctx context.Context, t Task, files map[string][]byte) error {
	if files["photo"] == nil {
		return fmt.Errorf("queue: job %s has no photo", t.ID)
	}
	if _, ok := files["task"]; ok {
		return fmt.Errorf("queue: job %s: a file may not be called task", t.ID)
	}
	task, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("queue: job %s: %w", t.ID, err)
	}
	if _, err := c.h.files.PutBytes(ctx, taskObject(t.ID), task); err != nil {
		return fmt.Errorf("queue: job %s: storing its task: %w", t.ID, err)
	}
	for name, data := range files {
		if _, err := c.h.files.PutBytes(ctx, fileObject(t.ID, name), data); err != nil {
			return fmt.Errorf("queue: job %s: storing its %s: %w", t.ID, name, err)
		}
	}
	data, _ := json.Marshal(State{State: Queued})
	if _, err := c.h.kv.Create(ctx, t.ID, data); err != nil {
		return fmt.Errorf("queue: job %s: state: %w", t.ID, err)
	}
	return c.publish(ctx, t.ID, task)
}

// publish queues a job's task for the workers; a task sent again within
// the stream's duplicate window is dropped by JetStream.
func (c *Client) publish(ctx context.Context, id string, task []byte) error {
	if _, err := c.h.js.Publish(ctx, jobSubject+id, task, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("queue: job %s: %w", id, err)
	}
	return nil
}

// Pending is a job the queue holds (until a Client Forgets it): its
// State, and its Task as submitted, Client part included.
type Pending struct {
	State State
	// Task is nil for a job stored without one (by a version of this
	// package that kept none, or whose submission stopped midway).
	Task *Task
}

// Pending lists the jobs the queue holds, whoever submitted them and
// whatever their State: a client restarted after a crash takes its own
// back (by Task.Client) with Follow.
func (c *Client) Pending(ctx context.Context) ([]Pending, error) {
	keys, err := c.h.kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue: listing %s: %w", jobsBucket, err)
	}
	var out []Pending
	for _, id := range keys {
		st, _, ok, err := c.h.state(ctx, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // forgotten meanwhile
		}
		p := Pending{State: st}
		if p.Task, err = c.Task(ctx, id); err != nil {
			if _, _, ok, serr := c.h.state(ctx, id); serr == nil && !ok {
				continue // forgotten while its task was read
			}
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Follow calls fn with each change of a job the queue holds until
// Forget, as Submit does, starting with its State now: a job that ended
// while nobody followed it is seen at once. A job still queued whose
// task is not in the stream (its submitter stopped between storing its
// State and queueing it) is queued again. It is for a client taking
// back the jobs it submitted before a restart (Pending).
func (c *Client) Follow(ctx context.Context, id string, fn func(Event)) error {
	w := &watch{fn: fn}
	c.mu.Lock()
	c.watching[id] = w
	c.mu.Unlock()
	st, rev, ok, err := c.h.state(ctx, id)
	if err == nil && !ok {
		err = fmt.Errorf("queue: job %s: no such job (forgotten, or its state expired)", id)
	}
	if err == nil && st.State == Queued {
		err = c.requeue(ctx, id)
	}
	if err != nil {
		c.mu.Lock()
		if c.watching[id] == w {
			delete(c.watching, id)
		}
		c.mu.Unlock()
		return err
	}
	c.tellState(id, st, rev)
	return nil
}

// requeue queues a queued job's task again unless the stream holds it.
func (c *Client) requeue(ctx context.Context, id string) error {
	stream, err := c.h.js.Stream(ctx, streamName)
	if err != nil {
		return fmt.Errorf("queue: job %s: stream %s: %w", id, streamName, err)
	}
	_, err = stream.GetLastMsgForSubject(ctx, jobSubject+id)
	if !errors.Is(err, jetstream.ErrMsgNotFound) {
		if err != nil {
			return fmt.Errorf("queue: job %s: looking for its task in %s: %w", id, streamName, err)
		}
		return nil
	}
	task, err := c.h.files.GetBytes(ctx, taskObject(id))
	if err != nil {
		return fmt.Errorf("queue: job %s: task: %w", id, err)
	}
	return c.publish(ctx, id, task)
}

// File returns a file of a job as submitted: "photo", or an image by its
// name (Task.Images).
func (c *Client) File(ctx context.Context, id, name string) ([]byte, error) {
	data, err := c.h.files.GetBytes(ctx, fileObject(id, name))
	if err != nil {
		return nil, fmt.Errorf("queue: job %s: %s: %w", id, name, err)
	}
	return data, nil
}

// Cancel ends a job that has not ended: a waiting one is not started, a
// running one stops within a step and stores nothing. It reports whether
// the job was still going.
func (c *Client) Cancel(ctx context.Context, id string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, cleanupTime)
	defer cancel()
	for {
		st, rev, ok, err := c.h.state(ctx, id)
		if err != nil || !ok || st.Final() {
			return false, err
		}
		_, err = c.h.update(ctx, id, State{State: Cancelled, Worker: st.Worker, Attempt: st.Attempt}, rev)
		if errors.Is(err, jetstream.ErrKeyExists) {
			continue // it changed meanwhile: look again
		}
		if err != nil {
			return false, fmt.Errorf("queue: job %s: cancelling: %w", id, err)
		}
		if st.State == Running {
			_ = c.nc.Publish(cancelSubject+id, nil)
		}
		return true, nil
	}
}

// Result returns the result of a job whose State is done: the PNG the
// dream wrote, or an animation's MP4, its record embedded.
func (c *Client) Result(ctx context.Context, id string, st State) ([]byte, error) {
	if st.State != Done {
		return nil, fmt.Errorf("queue: job %s is %s, not done", id, st.State)
	}
	ctx, cancel := context.WithTimeout(ctx, cleanupTime)
	defer cancel()
	data, err := c.h.files.GetBytes(ctx, st.Result)
	if err != nil {
		return nil, fmt.Errorf("queue: job %s: result %s: %w", id, st.Result, err)
	}
	return data, nil
}

// Thumb returns the JPEG of the last frame of an animation whose State
// is done (Task.Kind).
func (c *Client) Thumb(ctx context.Context, id string, st State) ([]byte, error) {
	if st.State != Done || st.Thumb == "" {
		return nil, fmt.Errorf("queue: job %s has no thumbnail (it is %s)", id, st.State)
	}
	ctx, cancel := context.WithTimeout(ctx, cleanupTime)
	defer cancel()
	data, err := c.h.files.GetBytes(ctx, st.Thumb)
	if err != nil {
		return nil, fmt.Errorf("queue: job %s: thumbnail %s: %w", id, st.Thumb, err)
	}
	return data, nil
}

// Forget stops following a job and deletes its files and State: call it
// once the result is stored, or the job has failed or been cancelled.
func (c *Client) Forget(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTime)
	defer cancel()
	c.mu.Lock()
	delete(c.watching, id)
	c.mu.Unlock()
	var errs []error
	names, err := c.jobFiles(ctx, id)
	if err != nil {
		errs = append(errs, err)
	}
	for _, name := range names {
		if err := c.h.files.Delete(ctx, name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			errs = append(errs, err)
		}
	}
	if err := c.h.kv.Purge(ctx, id); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("queue: forgetting job %s: %w", id, err)
	}
	return nil
}

// jobFiles names the files job id may have, as its task says: a result
// and a thumbnail for each attempt it may make, its images and photo,
// and the task last (a Forget cut short finds the names again). They are
// named, not listed: a listing reads the metadata of every file of the
// queue, and CI once saw all four files of a job outlive a Forget that
// listed them. A job without a task (stored by a version that kept none)
// or with one that cannot be read has its files listed.
func (c *Client) jobFiles(ctx context.Context, id string) ([]string, error) {
	t, terr := c.Task(ctx, id)
	var names []string
	if t == nil { // none, or unreadable
		objs, err := c.h.files.List(ctx)
		if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
			return nil, errors.Join(terr, err)
		}
		for _, o := range objs {
			if strings.HasPrefix(o.Name, id+"/") {
				names = append(names, o.Name)
			}
		}
		return names, nil
	}
	for a := 1; a <= t.MaxAttempts; a++ {
		names = append(names, resultObject(id, a), thumbObject(id, a))
	}
	for _, n := range t.Images {
		names = append(names, imageObject(id, n))
	}
	return append(names, photoObject(id), taskObject(id)), nil
}

// Files lists the names of the objects in the files bucket (tests check
// that nothing is left).
func (c *Client) Files(ctx context.Context) ([]string, error) {
	objs, err := c.h.files.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.Name)
	}
	return names, err
}

// Workers lists the workers that announce themselves.
func (c *Client) Workers(ctx context.Context) ([]WorkerInfo, error) {
	keys, err := c.h.workers.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue: workers: %w", err)
	}
	var out []WorkerInfo
	for _, k := range keys {
		e, err := c.h.workers.Get(ctx, k)
		if err != nil {
			continue // gone meanwhile
		}
		var w WorkerInfo
		if json.Unmarshal(e.Value(), &w) == nil {
			out = append(out, w)
		}
	}
	return out, nil
}
