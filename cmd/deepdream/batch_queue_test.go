package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"net/http"
	"net/http/httptest"
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
	"github.com/deepdream-go/deepdream/internal/testcert"
	"github.com/deepdream-go/deepdream/models"
	"github.com/deepdream-go/deepdream/queue"
	"github.com/deepdream-go/deepdream/server"
)

// TestBatchOnTheWorkersOfAQueue dreams a folder, with a mask, on two
// workers of an embedded NATS server (batch --nats): the dreams, JPEGs
// included, are byte for byte those of a batch in this process; run
// again, nothing is dreamed; nothing is left in the queue's files.
func TestBatchOnTheWorkersOfAQueue(t *testing.T) {
	model := writeONNX(t)
	in, want := photoFolder(t)
	mask := writePNG(t, t.TempDir(), 30, 20)
	e := embedQueue(t, queue.EmbedOptions{})
	net := openModel(t, model)
	for _, name := range []string{"w1", "w2"} {
		startQueueWorker(t, natsConn(t, e.URL, ""), name, staticNetwork(net))
	}

	local, remote := filepath.Join(t.TempDir(), "local"), filepath.Join(t.TempDir(), "remote")
	args := append([]string{"--mask", mask, "--quality", "70"}, batchArgs(model)...) // -q last
	if code, _, errOut := cli(t, context.Background(), append([]string{"batch", in, "-o", local}, args...)...); code != 0 {
		t.Fatalf("in this process: exit %d: %s", code, errOut)
	}
	remoteArgs := append([]string{"batch", in, "-o", remote, "--nats", e.URL}, args...)
	code, _, errOut := cli(t, context.Background(), remoteArgs...)
	if code != 0 {
		t.Fatalf("--nats: exit %d: %s", code, errOut)
	}
	if got, _ := files(t, remote); !slices.Equal(got, want) {
		t.Fatalf("--nats wrote %v, want %v", got, want)
	}
	for _, name := range want {
		a, _ := os.ReadFile(filepath.Join(local, name))
		b, _ := os.ReadFile(filepath.Join(remote, name))
		if !bytes.Equal(a, b) {
			t.Errorf("the workers' dream %s is not this process's", name)
		}
	}

	code, _, errOut = cli(t, context.Background(), append(remoteArgs[:len(remoteArgs)-1], "--quiet=false")...)
	if code != 0 || !strings.Contains(errOut, "4 photos: 0 dreamed, 4 already dreamed") {
		t.Errorf("--nats again: exit %d, stderr:\n%s", code, errOut)
	}

	// A mask's name no job can carry is refused before any is sent.
	spaced := filepath.Join(t.TempDir(), "sky mask.png")
	if err := os.Rename(mask, spaced); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = cli(t, context.Background(), "batch", in, "-o", t.TempDir(), "--nats", e.URL, "--mask", spaced, "--model", model, "--layer", "r", "-q")
	if code != exitUsage || !strings.Contains(errOut, `batch: --nats: a worker would refuse these jobs: queue: task batch: image name "sky mask.png"`) {
		t.Errorf("a mask named %q: exit %d, stderr:\n%s", spaced, code, errOut)
	}

	c, err := queue.Attach(context.Background(), natsConn(t, e.URL, ""), queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if left, err := c.Files(context.Background()); err != nil || len(left) != 0 {
		t.Errorf("the queue's files after the batch: %v (%v), want none", left, err)
	}
}

// TestBatchQueuePeakIsTheStudios checks that a job batch --nats sends
// says it needs the memory the studio's admission estimates for the same
// photo and request (GET /api/estimate: the peak and the photo's file),
// so that a worker takes or leaves it alike from either.
func TestBatchQueuePeakIsTheStudios(t *testing.T) {
	model := writeONNX(t)
	entry, _, err := models.FileEntry(model, models.Override{})
	if err != nil {
		t.Fatal(err)
	}
	net, _, err := entry.Open(model)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Config{DataDir: t.TempDir(), Models: []*server.Model{server.NewModel("tiny", entry, net)}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	defer func() { hs.Close(); s.Close(false) }()
	data, err := os.ReadFile(writePNG(t, t.TempDir(), 640, 480))
	if err != nil {
		t.Fatal(err)
	}
	q := &queueDreamer{net: net}
	for _, fields := range [][2]string{{"max_size", "0"}, {"max_size", "300"}, {"laplacian", "3"}} {
		req := dream.Defaults()
		req.Layers = []string{"r"}
		f := dream.Fields()[slices.IndexFunc(dream.Fields(), func(f dream.Field) bool { return f.Key == fields[0] })]
		if err := f.Set(&req, fields[1]); err != nil {
			t.Fatal(err)
		}
		res, err := http.Get(fmt.Sprintf("%s/api/estimate?model=tiny&layers=r&format=png&width=640&height=480&bytes=%d&%s=%s", hs.URL, len(data), fields[0], fields[1]))
		if err != nil {
			t.Fatal(err)
		}
		var v struct{ Bytes int64 }
		err = json.NewDecoder(res.Body).Decode(&v)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("%s=%s: %s, %v", fields[0], fields[1], res.Status, err)
		}
		if got, want := q.peak(data, req), v.Bytes-int64(len(data)); got != want || got == 0 {
			t.Errorf("%s=%s: batch --nats sends a peak of %d bytes, the studio admits %d", fields[0], fields[1], got, want)
		}
	}
}

// TestBatchQueueWarnsAsBatchDoes dreams a photo whose ICC profile cannot
// be read on a worker of a queue: batch --nats warns that it was dropped,
// as batch in this process does, and writes the same dream.
func TestBatchQueueWarnsAsBatchDoes(t *testing.T) {
	model := writeONNX(t)
	in := t.TempDir()
	var buf bytes.Buffer
	if err := imageio.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 24, 16)), "jpeg", imageio.EncodeOptions{}); err != nil {
		t.Fatal(err)
	}
	app2 := append([]byte{0xFF, 0xE2, 0, 20}, "ICC_PROFILE\x00\x01\x02abcd"...) // chunk 1 of 2, alone
	if err := os.WriteFile(filepath.Join(in, "photo.jpg"), append(append(buf.Bytes()[:2:2], app2...), buf.Bytes()[2:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	e := embedQueue(t, queue.EmbedOptions{})
	startQueueWorker(t, natsConn(t, e.URL, ""), "w", staticNetwork(openModel(t, model)))

	local, remote := filepath.Join(t.TempDir(), "local"), filepath.Join(t.TempDir(), "remote")
	code, _, localErr := cli(t, context.Background(), append([]string{"batch", in, "-o", local}, batchArgs(model)...)...)
	if code != 0 {
		t.Fatalf("in this process: exit %d: %s", code, localErr)
	}
	code, _, remoteErr := cli(t, context.Background(), append([]string{"batch", in, "-o", remote, "--nats", e.URL}, batchArgs(model)...)...)
	if code != 0 {
		t.Fatalf("--nats: exit %d: %s", code, remoteErr)
	}
	warning := "deepdream: warning: " + filepath.Join(in, "photo.jpg") + ": ICC profile dropped: JPEG APP2 chunk 2 of 2 is missing\n"
	if !strings.Contains(localErr, warning) || !strings.Contains(remoteErr, warning) {
		t.Errorf("the warning %q: in this process %q, on a worker %q", warning, localErr, remoteErr)
	}
	a, errA := os.ReadFile(filepath.Join(local, "photo.jpg"))
	b, errB := os.ReadFile(filepath.Join(remote, "photo.jpg"))
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("the dreams differ (%v, %v)", errA, errB)
	}
}

// openModel opens the model file at path as deepdream does.
func openModel(t *testing.T, path string) *dream.Network {
	t.Helper()
	entry, _, err := models.FileEntry(path, models.Override{})
	if err != nil {
		t.Fatal(err)
	}
	net, _, err := entry.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestBatchOverTLS dreams a photo on a worker of an embedded NATS server
// that speaks TLS with a certificate of a CA of its own: batch --nats
// tls://... with --nats-ca does it; without, it says to give the CA.
func TestBatchOverTLS(t *testing.T) {
	model := writeONNX(t)
	in := t.TempDir()
	writePNG(t, in, 24, 16)
	certs := testcert.Write(t)
	e := embedQueue(t, queue.EmbedOptions{TLSCert: certs.Cert, TLSKey: certs.Key})
	startQueueWorker(t, natsConn(t, e.URL, certs.CA), "w", staticNetwork(openModel(t, model)))

	out := filepath.Join(t.TempDir(), "out")
	code, _, errOut := cli(t, context.Background(), append([]string{"batch", in, "-o", out, "--nats", e.URL}, batchArgs(model)...)...)
	if code == 0 || !strings.Contains(errOut, "certificate signed by unknown authority") || !strings.Contains(errOut, "--nats-ca FILE") {
		t.Errorf("without the CA: exit %d, stderr:\n%s", code, errOut)
	}
	code, _, errOut = cli(t, context.Background(), append([]string{"batch", in, "-o", out, "--nats", e.URL, "--nats-ca", certs.CA}, batchArgs(model)...)...)
	if code != 0 {
		t.Fatalf("with --nats-ca: exit %d, stderr:\n%s", code, errOut)
	}
	if names, _ := files(t, out); len(names) != 1 {
		t.Errorf("the batch over TLS wrote %v, want the one dream", names)
	}
}

// embedQueue starts a NATS server in this process for the length of the
// test, on a free loopback port, as o asks beside.
func embedQueue(t *testing.T, o queue.EmbedOptions) *queue.Embedded {
	t.Helper()
	o.Dir, o.Listen = t.TempDir(), "127.0.0.1:0"
	e, err := queue.Embed(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// natsConn connects to the NATS server at url (ca: its TLS
// certificate's CA, if any) for the length of the test.
func natsConn(t *testing.T, url, ca string) *nats.Conn {
	t.Helper()
	nc, err := connectNATS(url, "", ca, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// startQueueWorker runs a worker called name on nc, with a budget of
// 1 GB and the models network finds, until the end of the test.
func startQueueWorker(t *testing.T, nc *nats.Conn, name string, network func(context.Context, dream.Record) (*dream.Network, error)) {
	ctx, stop := context.WithCancel(context.Background())
	var done sync.WaitGroup
	w := &queue.Worker{Name: name, Budget: 1 << 30, Logf: t.Logf, Network: network}
	done.Go(func() {
		if err := w.Run(ctx, nc); err != nil {
			t.Errorf("worker %s: %v", name, err)
		}
	})
	t.Cleanup(func() { stop(); done.Wait() })
}

// staticNetwork finds net for every job.
func staticNetwork(net *dream.Network) func(context.Context, dream.Record) (*dream.Network, error) {
	return func(context.Context, dream.Record) (*dream.Network, error) { return net, nil }
}

// TestStudioListsABatchsJobs runs batch --nats on the queue of a studio
// without workers: the studio lists the batch's jobs as deepdream
// batch's, in one group, as the jobs batch sends say (the studio reads
// cmd/deepdream's batchTags by their JSON keys); interrupted, the batch
// cancels them, which the studio shows.
func TestStudioListsABatchsJobs(t *testing.T) {
	model := writeONNX(t)
	in := t.TempDir()
	writePNG(t, in, 24, 16)
	if err := os.Mkdir(filepath.Join(in, "more"), 0o755); err != nil {
		t.Fatal(err)
	}
	writePNG(t, filepath.Join(in, "more"), 16, 24)
	e := embedQueue(t, queue.EmbedOptions{})
	remote, err := queue.NewClient(context.Background(), natsConn(t, e.URL, ""), queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remote.Close)
	entry, _, err := models.FileEntry(model, models.Override{})
	if err != nil {
		t.Fatal(err)
	}
	net, _, err := entry.Open(model)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Config{DataDir: t.TempDir(), Models: []*server.Model{server.NewModel("tiny", entry, net)}, Logf: t.Logf, Remote: remote, Queue: 4})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	defer func() { hs.Close(); s.Close(false) }()
	type listed struct{ ID, State, Client, Group string }
	jobs := func() []listed {
		res, err := http.Get(hs.URL + "/api/jobs")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var v struct{ Jobs []listed }
		if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v.Jobs
	}
	waitJobs := func(what string, ok func([]listed) bool) []listed {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if j := jobs(); ok(j) {
				return j
			}
			if time.Now().After(deadline) {
				t.Fatalf("the studio never listed %s: %+v", what, jobs())
			}
		}
	}

	ctx, interrupt := context.WithCancel(context.Background())
	ended := make(chan string, 1)
	go func() {
		_, _, errOut := cli(t, ctx, append([]string{"batch", in, "-o", t.TempDir(), "--nats", e.URL}, batchArgs(model)...)...)
		ended <- errOut
	}()
	listedJobs := waitJobs("the batch's 2 jobs", func(j []listed) bool { return len(j) == 2 })
	for _, j := range listedJobs {
		if j.Client != "deepdream batch" || j.Group != listedJobs[0].Group || !strings.HasPrefix(j.Group, "batch-") || j.State != "queued" {
			t.Errorf("the batch's job listed as %+v", j)
		}
	}
	interrupt()
	<-ended
	waitJobs("the batch's jobs cancelled", func(j []listed) bool {
		return len(j) == 2 && j[0].State == "cancelled" && j[1].State == "cancelled"
	})
}
