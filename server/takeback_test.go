package server

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	jobqueue "github.com/deepdream-go/deepdream/queue"
)

// natsQueue is a NATS server in this process for studios that come and
// go, and a client that looks at its queue as the tests' observer.
type natsQueue struct {
	e        *jobqueue.Embedded
	observer *jobqueue.Client
	workDir  string // the worker's, for its zoom and video jobs
}

func newNATSQueue(t *testing.T) *natsQueue {
	e, err := jobqueue.Embed(jobqueue.EmbedOptions{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	q := &natsQueue{e: e, workDir: t.TempDir()}
	q.observer = q.client(t)
	return q
}

func (q *natsQueue) conn(t *testing.T) *nats.Conn {
	nc, err := nats.Connect(q.e.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// client is a client of the queue on its own connection, closed at the
// end of the test.
func (q *natsQueue) client(t *testing.T) *jobqueue.Client {
	c, err := jobqueue.NewClient(context.Background(), q.conn(t), jobqueue.Config{AckWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// crashed is a studio on the queue that dies without a word (as by
// SIGKILL) when crash is called: its client stops following the jobs
// and its connection goes, so nothing of it touches the queue again.
func (q *natsQueue) crashed(t *testing.T, cfg Config) (s *studio, crash func()) {
	nc := q.conn(t)
	c, err := jobqueue.NewClient(context.Background(), nc, jobqueue.Config{AckWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Remote = c
	return newStudio(t, cfg), func() { c.Close(); nc.Close() }
}

// worker runs a worker of the tiny model on the queue until stop or the
// end of the test.
func (q *natsQueue) worker(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	w := &jobqueue.Worker{Name: "w1", Budget: 1 << 30, Logf: t.Logf, WorkDir: q.workDir,
		Network: func(context.Context, dream.Record) (*dream.Network, error) { return tinyModel(), nil }}
	nc := q.conn(t)
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx, nc) })
	stop = func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return stop
}

// pending polls the queue until ok holds of its jobs, and returns them.
func (q *natsQueue) pending(t *testing.T, what string, ok func([]jobqueue.Pending) bool) []jobqueue.Pending {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p, err := q.observer.Pending(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue never had %s: %+v", what, p)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// countState counts the jobs in state.
func countState(p []jobqueue.Pending, state string) int {
	n := 0
	for _, x := range p {
		if x.State.State == state {
			n++
		}
	}
	return n
}

// empty waits until the queue holds no job and no file.
func (q *natsQueue) empty(t *testing.T) {
	t.Helper()
	q.pending(t, "no job", func(p []jobqueue.Pending) bool { return len(p) == 0 })
	deadline := time.Now().Add(5 * time.Second)
	for {
		names, err := q.observer.Files(context.Background())
		if err == nil && len(names) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("files left in the queue: %v %v", names, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logBook collects a studio's log, and passes it on to the test's.
type logBook struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
}

func (l *logBook) logf(format string, args ...any) {
	l.t.Logf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logBook) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

// A studio with no worker of its own sends 3 jobs to the queue and
// crashes; a worker dreams them while no studio runs (the first is even
// kept in the gallery before the crash, as a studio killed between
// saving it and forgetting it would leave it); a new studio on the same
// data and queue takes them back: all three in its job list as they were
// sent, each in the gallery once, nothing left on the queue.
func TestRestartedStudioTakesBackItsJobs(t *testing.T) {
	q := newNATSQueue(t)
	data := t.TempDir()
	first, crash := q.crashed(t, Config{DataDir: data, Queue: 4})
	photo, mask := pngPhoto(t, 24, 18), halfBlack(t, 24, 18)
	var sent []Status
	sent = append(sent, first.mustSubmit(t, photo, append(small, "owner=page1")...))
	sent = append(sent, first.mustSubmitFiles(t, []part{{"photo", photo}, {"mask", mask}}, append(small, "owner=page1", "kind=sweep", "group=g1")...))
	sent = append(sent, first.mustSubmit(t, pngPhoto(t, 128, 128), "octaves=1", "iterations=100", "owner=page2"))
	q.pending(t, "the 3 jobs", func(p []jobqueue.Pending) bool { return len(p) == 3 })
	crash()

	stopWorker := q.worker(t)
	p := q.pending(t, "the first job done", func(p []jobqueue.Pending) bool {
		return slices.ContainsFunc(p, func(x jobqueue.Pending) bool { return x.Task.ID == sent[0].ID && x.State.State == jobqueue.Done })
	})
	// The first job kept in the gallery just before the crash, by hand.
	for _, x := range p {
		if x.Task.ID != sent[0].ID {
			continue
		}
		file, err := q.observer.Result(context.Background(), x.Task.ID, x.State)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := imageio.Decode(bytes.NewReader(file), 0)
		if err != nil {
			t.Fatal(err)
		}
		g, err := openGallery(data)
		if err != nil {
			t.Fatal(err)
		}
		e := &Entry{ID: x.Task.ID, Created: time.Now().UTC(), Params: x.Task.Record, Format: "png", Width: 24, Height: 18, Seconds: 42}
		if err := g.add(e, photo, nil, file, out); err != nil {
			t.Fatal(err)
		}
	}
	// The studio's next start: the others may be queued, running or done.
	log := logBook{t: t}
	next := newStudio(t, Config{DataDir: data, Queue: 4, Remote: q.client(t), Logf: log.logf})
	var jobs struct{ Jobs []Status }
	next.get(t, "/api/jobs", &jobs)
	list := jobs.Jobs
	if len(list) != 3 {
		t.Fatalf("the jobs taken back: %+v, want the 3 sent", list)
	}
	for i, want := range []Status{
		{ID: sent[0].ID, Kind: "dream", Owner: "page1", Gallery: true},
		{ID: sent[1].ID, Kind: "sweep", Group: "g1", Owner: "page1", Gallery: true},
		{ID: sent[2].ID, Kind: "dream", Owner: "page2", Gallery: true},
	} {
		got := list[i]
		if got.ID != want.ID || got.Kind != want.Kind || got.Group != want.Group || got.Owner != want.Owner || got.Gallery != want.Gallery || got.Model != "tiny" {
			t.Errorf("job %d listed as %+v, want %+v", i, got, want)
		}
	}
	for _, st := range sent {
		if end := next.wait(t, st.ID); end.State != stateDone || end.Entry != st.ID {
			t.Errorf("job %s ended %+v, want done into the gallery", st.ID, end)
		}
	}
	entries := next.entries(t)
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.ID)
		switch e.ID {
		case sent[0].ID:
			if e.Seconds != 42 {
				t.Errorf("the entry kept before the crash was replaced: %+v", e.Entry)
			}
		case sent[1].ID:
			got, _ := next.fetch(t, e.Images["mask.png"])
			if !bytes.Equal(got, mask) || e.Params.Request.Mask != "mask.png" {
				t.Errorf("the second job's entry has mask %q, %d bytes; want mask.png as sent", e.Params.Request.Mask, len(got))
			}
		}
	}
	slices.Sort(ids)
	want := []string{sent[0].ID, sent[1].ID, sent[2].ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("gallery %v, want each job once: %v", ids, want)
	}
	if n := log.count("taken back from the queue"); n != 3 {
		t.Errorf("%d log lines of jobs taken back, want 3: %q", n, log.lines)
	}
	q.empty(t)
	stopWorker()
}

// A studio restarted without the model of a job it left on the queue
// reports the job failed, naming the model's sha256, and drops it; the
// job of another client on the same queue it leaves alone, listed as
// that client's; a job with its ID but a kind it does not make (written by
// another client) it drops without listing it.
func TestTakeBackFailsAJobOfAMissingModel(t *testing.T) {
	q := newNATSQueue(t)
	data := t.TempDir()
	model := func(sha string) []*Model {
		e := tinyEntry()
		e.SHA256 = sha
		return []*Model{NewModel("tiny", e, tinyModel())}
	}
	gone, kept := strings.Repeat("a", 64), strings.Repeat("b", 64)
	first, crash := q.crashed(t, Config{DataDir: data, Queue: 4, Models: model(gone)})
	st := first.mustSubmit(t, pngPhoto(t, 24, 18), small...)
	q.pending(t, "the job", func(p []jobqueue.Pending) bool { return len(p) == 1 })
	crash()
	req := dream.Defaults()
	req.Octaves, req.Iterations = 1, 1
	batch := jobqueue.Task{ID: "batchjob", Record: dream.Record{Model: "tiny", ModelSHA256: kept, Request: req}}
	if err := q.observer.Submit(context.Background(), batch, map[string][]byte{"photo": pngPhoto(t, 8, 8)}, func(jobqueue.Event) {}); err != nil {
		t.Fatal(err)
	}
	id, err := os.ReadFile(filepath.Join(data, studioIDFile))
	if err != nil {
		t.Fatal(err)
	}
	forged := batch
	forged.ID = "0123456789abcdef"
	forged.Client = []byte(`{"studio":"` + strings.TrimSpace(string(id)) + `","kind":"<b>","format":"png"}`)
	if err := q.observer.Submit(context.Background(), forged, map[string][]byte{"photo": pngPhoto(t, 8, 8)}, func(jobqueue.Event) {}); err != nil {
		t.Fatal(err)
	}

	log := logBook{t: t}
	next := newStudio(t, Config{DataDir: data, Queue: 4, Remote: q.client(t), Models: model(kept), Logf: log.logf})
	end := next.wait(t, st.ID)
	if end.State != stateFailed || !strings.Contains(end.Error, gone) || end.Kind != "dream" {
		t.Errorf("the job of the missing model ended %+v, want failed naming sha256 %s", end, gone)
	}
	if n := log.count("is not taken back, and is dropped: there is no kind of job"); n != 1 {
		t.Errorf("%d log lines of the forged job dropped, want 1: %q", n, log.lines)
	}
	if n := log.count("taken back from the queue"); n != 1 {
		t.Errorf("%d log lines of jobs taken back, want 1: %q", n, log.lines)
	}
	q.pending(t, "only the batch's job", func(p []jobqueue.Pending) bool {
		return len(p) == 1 && p[0].Task.ID == "batchjob" && p[0].State.State == jobqueue.Queued
	})
	if len(next.entries(t)) != 0 {
		t.Errorf("gallery %+v, want none", next.entries(t))
	}
	jobs := next.jobsListed(t, "the job taken back and the other client's", func(m map[string]Status) bool { return len(m) >= 2 })
	if len(jobs) != 2 || jobs[st.ID].Client != "" || jobs["batchjob"].Client != "another client" {
		t.Errorf("jobs %+v, want the one taken back and the other client's, listed as such", jobs)
	}
}

// A studio stopped (Close) with a job on the queue leaves it there (for
// a worker that comes later), and its next start takes the result into
// the gallery; with Config.CancelRemote it cancels the job instead.
func TestCloseLeavesRemoteJobsForTheNextStart(t *testing.T) {
	for _, cancel := range []bool{false, true} {
		t.Run(fmt.Sprintf("CancelRemote=%v", cancel), func(t *testing.T) {
			q := newNATSQueue(t)
			data := t.TempDir()
			first := newStudio(t, Config{DataDir: data, Queue: 4, Remote: q.client(t), CancelRemote: cancel})
			st := first.mustSubmit(t, pngPhoto(t, 24, 18), small...)
			q.pending(t, "the job", func(p []jobqueue.Pending) bool { return len(p) == 1 })
			first.Close(false)
			if cancel {
				q.empty(t)
				return
			}
			p := q.pending(t, "the job", func(p []jobqueue.Pending) bool { return len(p) == 1 })
			if p[0].State.State != jobqueue.Queued {
				t.Fatalf("the job left on the queue is %+v, want queued", p[0].State)
			}
			q.worker(t)
			next := newStudio(t, Config{DataDir: data, Queue: 4, Remote: q.client(t)})
			if end := next.wait(t, st.ID); end.State != stateDone || end.Entry != st.ID {
				t.Errorf("the job left by the stopped studio ended %+v, want done into the gallery", end)
			}
			q.empty(t)
		})
	}
}

// A zoom sent to the queue by a studio that crashes is taken back by its
// next start with what makes it a zoom: listed as one, its frames
// counted, its MP4 and options in the gallery.
func TestRestartedStudioTakesBackAZoom(t *testing.T) {
	needFFmpeg(t)
	q := newNATSQueue(t)
	data := t.TempDir()
	first, crash := q.crashed(t, Config{DataDir: data, Queue: 4})
	sent := first.mustSubmit(t, pngPhoto(t, 24, 16), append(small, "kind=zoom", "frames=3", "zoom=1.1", "rotate=2", "fps=12", "owner=page1")...)
	q.pending(t, "the zoom", func(p []jobqueue.Pending) bool { return len(p) == 1 })
	crash()

	q.worker(t)
	next := newStudio(t, Config{DataDir: data, Queue: 4, Remote: q.client(t)})
	var jobs struct{ Jobs []Status }
	next.get(t, "/api/jobs", &jobs)
	if len(jobs.Jobs) != 1 || jobs.Jobs[0].ID != sent.ID || jobs.Jobs[0].Kind != "zoom" || jobs.Jobs[0].Frames != 3 || jobs.Jobs[0].Owner != "page1" {
		t.Fatalf("the jobs taken back: %+v, want the zoom of 3 frames", jobs.Jobs)
	}
	end := next.wait(t, sent.ID)
	if end.State != stateDone || end.Entry != sent.ID || end.Result != "/api/gallery/"+sent.ID+"/result.mp4" {
		t.Fatalf("the zoom ended %+v, want done into the gallery as an MP4", end)
	}
	entries := next.entries(t)
	if len(entries) != 1 || entries[0].Kind != "zoom" || entries[0].Frames != 3 || entries[0].Motion["rotate"] != 2.0 || entries[0].Motion["fps"] != "12" {
		t.Fatalf("gallery %+v, want the zoom with its options", entries)
	}
	if info := next.probeResult(t, entries[0].Result); info.Frames != 3 || info.Width != 24 {
		t.Errorf("the zoom's MP4: %+v", info)
	}
	q.empty(t)
}
