package queue

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/internal/tinynet"
)

var tinyNetwork = sync.OnceValue(func() *dream.Network {
	n, err := dream.NewNetwork(tinynet.Model(), dream.Profile{Preprocess: dream.Caffe, DefaultLayer: "r", InputSize: 16})
	if err != nil {
		panic(err)
	}
	return n
})

const tinySHA = "0123456789abcdef"

func tinyModel(_ context.Context, rec dream.Record) (*dream.Network, error) {
	if rec.ModelSHA256 != tinySHA {
		return nil, &ModelError{Model: rec.Model, SHA256: rec.ModelSHA256, Err: fmt.Errorf("not in this test")}
	}
	return tinyNetwork(), nil
}

func photo(t testing.TB, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8(x * y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// task is a small dream of the tiny model: iterations steps at 24×24.
func task(id string, iterations int) Task {
	req := dream.Defaults()
	req.Octaves, req.Iterations, req.Seed = 1, iterations, 1
	return Task{ID: id, Record: dream.Record{Model: "tiny", ModelSHA256: tinySHA, Request: req}, Peak: 1 << 20, MaxPixels: 1 << 20, Timeout: time.Minute}
}

func connect(t testing.TB, urls ...string) *nats.Conn {
	nc, err := nats.Connect(strings.Join(urls, ","), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// runWorkers runs n workers, each on its own connection to urls, until
// the test ends.
func runWorkers(t *testing.T, n int, budget int64, urls ...string) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := range n {
		nc := connect(t, urls...)
		w := &Worker{Name: fmt.Sprintf("w%d", i+1), Budget: budget, Network: tinyModel, Logf: t.Logf}
		wg.Go(func() {
			if err := w.Run(ctx, nc); err != nil {
				t.Errorf("worker %s: %v", w.Name, err)
			}
		})
	}
}

// ledger records the final states of the jobs of a Client.
type ledger struct {
	mu    sync.Mutex
	ends  map[string][]State
	ended chan string
}

func newLedger() *ledger { return &ledger{ends: map[string][]State{}, ended: make(chan string, 100)} }

func (l *ledger) watch(e Event) {
	if e.State == nil || !e.State.Final() {
		return
	}
	l.mu.Lock()
	l.ends[e.ID] = append(l.ends[e.ID], *e.State)
	l.mu.Unlock()
	l.ended <- e.ID
}

// wait waits for n ends, then a little more for any end a job should not
// have had twice.
func (l *ledger) wait(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for range n {
		select {
		case <-l.ended:
		case <-deadline:
			t.Fatalf("jobs ended: %v; want %d", l.ends, n)
		}
	}
	select {
	case id := <-l.ended:
		t.Errorf("job %s ended again: %v", id, l.ends[id])
	case <-time.After(300 * time.Millisecond):
	}
}

// collect checks that every job ended done once, takes each result, and
// forgets the jobs; then nothing is left in the files bucket.
func (l *ledger) collect(t *testing.T, c *Client, ids []string) {
	t.Helper()
	ctx := context.Background()
	for _, id := range ids {
		ends := l.ends[id]
		if len(ends) != 1 || ends[0].State != Done {
			t.Errorf("job %s ended %+v, want done once", id, ends)
			continue
		}
		data, err := c.Result(ctx, id, ends[0])
		if err != nil {
			t.Error(err)
			continue
		}
		if img, err := png.Decode(bytes.NewReader(data)); err != nil || img.Bounds().Dx() != 24 {
			t.Errorf("job %s: result %v, %v; want a 24-pixel-wide PNG", id, img.Bounds(), err)
		}
		if err := c.Forget(ctx, id); err != nil {
			t.Error(err)
		}
	}
	if names, err := c.Files(ctx); err != nil || len(names) != 0 {
		t.Errorf("files left: %v %v", names, err)
	}
}

func TestWorkersRunJobsAndRedeliverAnAbandonedOne(t *testing.T) {
	e, err := Embed(EmbedOptions{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Token != "" {
		t.Errorf("a token on loopback: %q", e.Token)
	}
	ctx := context.Background()
	c, err := NewClient(ctx, connect(t, e.URL), Config{AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l := newLedger()
	var ids []string
	for i := range 6 {
		id := fmt.Sprintf("job%d", i)
		ids = append(ids, id)
		if err := c.Submit(ctx, task(id, 2), map[string][]byte{"photo": photo(t, 24, 24)}, l.watch); err != nil {
			t.Fatal(err)
		}
	}
	// A worker that takes the first job and dies without a word: the job
	// goes to another after AckWait.
	js, _ := jetstream.New(connect(t, e.URL))
	cons, err := js.Consumer(ctx, streamName, consumerName)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1)
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		t.Logf("abandoned %s", m.Subject())
	}
	abandoned := time.Now()
	runWorkers(t, 2, 1<<30, e.URL)
	l.wait(t, 6, 30*time.Second)
	if time.Since(abandoned) < time.Second {
		t.Errorf("all jobs done %s after one was abandoned, before its AckWait of 1 s", time.Since(abandoned))
	}
	l.collect(t, c, ids)
}

func TestBudgetAndCancelAndMissingModel(t *testing.T) {
	e, err := Embed(EmbedOptions{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	c, err := NewClient(ctx, connect(t, e.URL), Config{AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l := newLedger()
	files := map[string][]byte{"photo": photo(t, 24, 24)}
	big := task("big", 1)
	big.Peak = 1 << 40
	lacking := task("lacking", 1)
	lacking.Record.ModelSHA256 = "feedface"
	long := task("long", 500)
	for _, tk := range []Task{big, lacking, long} {
		files := files
		if tk.ID == "long" {
			files = map[string][]byte{"photo": photo(t, 128, 128)}
		}
		if err := c.Submit(ctx, tk, files, l.watch); err != nil {
			t.Fatal(err)
		}
	}
	running := make(chan struct{})
	var once sync.Once
	c.mu.Lock()
	c.watching["long"] = &watch{fn: func(e Event) {
		if e.Progress != nil {
			once.Do(func() { close(running) })
		}
		l.watch(e)
	}}
	c.mu.Unlock()
	runWorkers(t, 1, 1<<30, e.URL)
	select {
	case <-running:
	case <-time.After(20 * time.Second):
		t.Fatalf("the long job did not start: %v", l.ends)
	}
	if ok, err := c.Cancel(ctx, "long"); !ok || err != nil {
		t.Fatalf("cancelling a running job: %v %v", ok, err)
	}
	if ok, err := c.Cancel(ctx, "big"); !ok || err != nil {
		t.Fatalf("cancelling a waiting job: %v %v", ok, err)
	}
	l.wait(t, 3, 20*time.Second)
	if got := l.ends["lacking"]; len(got) != 1 || got[0].State != Failed || !strings.Contains(got[0].Error, "worker w1 has no model tiny (sha256 feedface)") {
		t.Errorf("a job of a model the worker lacks ended %+v", got)
	}
	for _, id := range []string{"long", "big"} {
		if got := l.ends[id]; len(got) != 1 || got[0].State != Cancelled {
			t.Errorf("job %s ended %+v, want cancelled", id, got)
		}
	}
	if ok, _ := c.Cancel(ctx, "long"); ok {
		t.Error("cancelled an ended job")
	}
	for _, id := range []string{"big", "lacking", "long"} {
		c.Forget(ctx, id)
	}
	if names, err := c.Files(ctx); err != nil || len(names) != 0 {
		t.Errorf("files left: %v %v", names, err)
	}
}

// freePorts returns n free loopback ports.
func freePorts(t *testing.T, n int) []int {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// TestClusterLosesANode runs 12 jobs on a cluster of three servers on
// loopback, the streams kept by all three, and stops one server midway:
// every job ends done once.
func TestClusterLosesANode(t *testing.T) {
	ports := freePorts(t, 6)
	var routes, urls []string
	for i := range 3 {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[3+i]))
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	nodes := make([]*Embedded, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			var err error
			nodes[i], err = Embed(EmbedOptions{
				Dir: t.TempDir(), Listen: fmt.Sprintf("127.0.0.1:%d", ports[i]), Name: fmt.Sprintf("n%d", i+1),
				Cluster: fmt.Sprintf("127.0.0.1:%d", ports[3+i]), Routes: routes,
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, n := range nodes {
		if n != nil {
			defer n.Close()
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var c *Client
	var err error
	for leader := false; !leader && ctx.Err() == nil; time.Sleep(50 * time.Millisecond) {
		for _, n := range nodes {
			leader = leader || n.JetStreamIsLeader()
		}
	}
	nc := connect(t, urls...)
	for { // until the cluster's JetStream answers
		try, stop := context.WithTimeout(ctx, 5*time.Second)
		c, err = NewClient(try, nc, Config{AckWait: 2 * time.Second, Replicas: 3})
		stop()
		if err == nil || ctx.Err() != nil {
			break
		}
		t.Logf("setting up: %v", err)
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The workers reach the cluster by the servers that stay.
	runWorkers(t, 2, 1<<30, urls[1], urls[2])
	l := newLedger()
	var ids []string
	for i := range 12 {
		id := fmt.Sprintf("job%d", i)
		ids = append(ids, id)
		if err := c.Submit(ctx, task(id, 30), map[string][]byte{"photo": photo(t, 24, 24)}, l.watch); err != nil {
			t.Fatal(err)
		}
	}
	// Stop the first server once some jobs are done.
	for range 3 {
		<-l.ended
	}
	nodes[0].Close()
	t.Log("server n1 stopped")
	l.wait(t, 9, 45*time.Second)
	l.collect(t, c, ids)
}
