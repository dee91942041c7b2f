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
}

// Client submits jobs, follows them and cancels them. Its methods may be
// called from several goroutines.
type Client struct {
	nc  *nats.Conn
	h   *handles
	cfg Config

	mu       sync.Mutex
	watching map[string]func(Event)

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
	c := &Client{nc: nc, h: h, cfg: cfg, watching: map[string]func(Event){}, done: make(chan struct{})}
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
		if e == nil || e.Operation() != jetstream.KeyValuePut {
			continue
		}
		var st State
		if json.Unmarshal(e.Value(), &st) == nil {
			c.tell(Event{ID: e.Key(), State: &st})
		}
	}
}

func (c *Client) tell(e Event) {
	c.mu.Lock()
	fn := c.watching[e.ID]
	c.mu.Unlock()
	if fn != nil {
		fn(e)
	}
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
		c.watching[t.ID] = fn
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

func (c *Client) submit(ctx context.Context, t Task, files map[string][]byte) error {
	if files["photo"] == nil {
		return fmt.Errorf("queue: job %s has no photo", t.ID)
	}
	for name, data := range files {
		obj := photoObject(t.ID)
		if name != "photo" {
			obj = imageObject(t.ID, name)
		}
		if _, err := c.h.files.PutBytes(ctx, obj, data); err != nil {
			return fmt.Errorf("queue: job %s: storing its %s: %w", t.ID, name, err)
		}
	}
	data, _ := json.Marshal(State{State: Queued})
	if _, err := c.h.kv.Create(ctx, t.ID, data); err != nil {
		return fmt.Errorf("queue: job %s: state: %w", t.ID, err)
	}
	task, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("queue: job %s: %w", t.ID, err)
	}
	if _, err := c.h.js.Publish(ctx, jobSubject+t.ID, task, jetstream.WithMsgID(t.ID)); err != nil {
		return fmt.Errorf("queue: job %s: %w", t.ID, err)
	}
	return nil
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
	objs, err := c.h.files.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		errs = append(errs, err)
	}
	for _, o := range objs {
		if strings.HasPrefix(o.Name, id+"/") {
			if err := c.h.files.Delete(ctx, o.Name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
				errs = append(errs, err)
			}
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
