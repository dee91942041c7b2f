//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/deepdream-go/deepdream/internal/testcert"
)

func gradientPNG(t *testing.T, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tinyModelsDir returns a new --models directory holding the tiny model
// (writeONNX) as tiny.onnx, and that file's path.
func tinyModelsDir(t *testing.T) (dir, model string) {
	t.Helper()
	data, err := os.ReadFile(writeONNX(t))
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	model = filepath.Join(dir, "tiny.onnx")
	if err := os.WriteFile(model, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, model
}

// freeAddr returns a loopback host:port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `deepdream serve` in this process on a free port,
// offline, with --max-memory 1G and args, until the end of the test (as
// SIGINT stops it), and returns the studio's URL and its log.
func startServe(t *testing.T, args ...string) (base string, log *syncBuffer) {
	t.Helper()
	log = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	cmd := newServeCmdFor(&serveOptions{ready: func(addr string) { ready <- addr }})
	cmd.SetArgs(append([]string{"--addr", "127.0.0.1:0", "--offline", "--max-memory", "1G"}, args...))
	cmd.SetErr(log)
	served := make(chan error, 1)
	go func() { served <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
	select {
	case addr := <-ready:
		return "http://" + addr, log
	case err := <-served:
		t.Fatalf("serve: %v\n%s", err, log.String())
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	return "", nil
}

// jobStatus is what the test reads of the studio's job statuses.
type jobStatus struct {
	ID, State, Worker, Error, Entry string
}

// submitJob sends a dream of photo to the studio at base and returns its
// job's ID.
func submitJob(t *testing.T, base string, photo []byte, fields ...string) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("photo", "photo.png")
	fw.Write(photo)
	mw.Close()
	res, err := http.Post(base+"/api/jobs", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st jobStatus
	json.NewDecoder(res.Body).Decode(&st)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /api/jobs: %s %+v", res.Status, st)
	}
	return st.ID
}

// jobState is the status of a job of the studio at base.
func jobState(t *testing.T, base, id string) jobStatus {
	t.Helper()
	res, err := http.Get(base + "/api/jobs/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st jobStatus
	json.NewDecoder(res.Body).Decode(&st)
	return st
}

// TestWorkersSurviveAKill runs the studio with its embedded NATS server
// and no worker of its own, and two `deepdream worker` processes; of 12
// small jobs, the first (a larger photo) runs while its worker is
// SIGKILLed. It goes to the other worker after the lease (--ack-wait 2s),
// and all 12 results are in the gallery once, nothing partial left: no
// temporary file, no file in the queue's object store.
func TestWorkersSurviveAKill(t *testing.T) {
	modelsDir, model := tinyModelsDir(t)
	listen := freeAddr(t)
	natsURL := "nats://" + listen
	dataDir := t.TempDir()
	base, _ := startServe(t, "--data", dataDir, "--model", model, "--nats-listen", listen, "--workers", "0", "--ack-wait", "2s")

	workers := map[string]*exec.Cmd{}
	logs := map[string]*syncBuffer{}
	for _, name := range []string{"wA", "wB"} {
		w, stderr := startMain(t, "worker", "--nats", natsURL, "--models", modelsDir, "--name", name, "--max-memory", "1G")
		logs[name] = stderr
		workers[name] = w
		defer func() {
			w.Process.Signal(syscall.SIGTERM)
			w.Wait()
		}()
	}

	submit := func(photo []byte, fields ...string) string { return submitJob(t, base, photo, fields...) }
	status := func(id string) jobStatus { return jobState(t, base, id) }
	small := []string{"octaves=1", "iterations=2", "jitter=2", "seed=3"}
	big := submit(gradientPNG(t, 1024, 1024), "octaves=1", "iterations=8", "max_size=0")
	ids := []string{big}
	for range 11 {
		ids = append(ids, submit(gradientPNG(t, 32, 24), small...))
	}

	var victim string
	for deadline := time.Now().Add(30 * time.Second); victim == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if st := status(big); st.State == "running" {
			victim = st.Worker
		} else if st.State != "queued" {
			t.Fatalf("the large job is %s before it was seen running", st.State)
		}
	}
	if workers[victim] == nil {
		t.Fatalf("the large job runs on %q, not a worker of the test", victim)
	}
	if err := workers[victim].Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	t.Logf("SIGKILLed %s running job %s", victim, big)

	for _, id := range ids {
		var st jobStatus
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if st = status(id); st.State != "queued" && st.State != "running" {
				break
			}
		}
		if st.State != "done" || st.Entry != id {
			t.Errorf("job %s ended %+v, want done into the gallery", id, st)
		}
		if id == big && st.Worker == victim {
			t.Errorf("the job of the killed worker was finished by %s", st.Worker)
		}
	}
	other := "wA"
	if victim == "wA" {
		other = "wB"
	}
	if !strings.Contains(logs[other].String(), "job "+big+", attempt 2") {
		t.Errorf("%s did not take the killed job again:\n%s", other, logs[other].String())
	}
	t.Logf("the killed job was done %s after the kill", time.Since(killed).Round(time.Millisecond))

	res, err := http.Get(base + "/api/gallery")
	if err != nil {
		t.Fatal(err)
	}
	var g struct{ Entries []struct{ ID string } }
	json.NewDecoder(res.Body).Decode(&g)
	res.Body.Close()
	seen := map[string]int{}
	for _, e := range g.Entries {
		seen[e.ID]++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("job %s is %d times in the gallery", id, seen[id])
		}
	}
	if len(g.Entries) != len(ids) {
		t.Errorf("%d gallery entries, want %d", len(g.Entries), len(ids))
	}
	if left, _ := filepath.Glob(filepath.Join(dataDir, "tmp", "*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	checkObjectStoreEmpty(t, natsURL)
}

// checkObjectStoreEmpty checks that the object store of the queue at
// natsURL is empty, or soon is (a job's files go just after its end).
func checkObjectStoreEmpty(t *testing.T, natsURL string) {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	files, err := js.ObjectStore(context.Background(), "dream-files")
	if err != nil {
		t.Fatal(err)
	}
	var objs []*jetstream.ObjectInfo
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if objs, _ = files.List(context.Background()); len(objs) == 0 {
			break
		}
	}
	for _, o := range objs {
		t.Errorf("left in the queue's object store: %s", o.Name)
	}
}

// TestServeOverTLS runs the studio's embedded NATS server with a TLS
// certificate (--nats-tls-cert, --nats-tls-key) of a CA of the test's
// own: a `deepdream worker` given the CA (--nats-ca) dreams the studio's
// job over TLS; one without it stops at once, saying to give it.
func TestServeOverTLS(t *testing.T) {
	modelsDir, model := tinyModelsDir(t)
	certs := testcert.Write(t)
	listen := freeAddr(t)
	base, studioLog := startServe(t, "--data", t.TempDir(), "--model", model, "--nats-listen", listen,
		"--nats-tls-cert", certs.Cert, "--nats-tls-key", certs.Key, "--workers", "0")
	natsURL := "tls://" + listen
	if want := "NATS for workers at " + natsURL + ", TLS with the certificate " + certs.Cert; !strings.Contains(studioLog.String(), want) {
		t.Errorf("serve did not say %q:\n%s", want, studioLog.String())
	}

	code, _, errOut := cli(t, context.Background(), "worker", "--nats", natsURL, "--models", modelsDir)
	if code == 0 || !strings.Contains(errOut, "--nats-ca FILE") {
		t.Errorf("a worker without the CA: exit %d, stderr:\n%s", code, errOut)
	}
	w, wlog := startMain(t, "worker", "--nats", natsURL, "--nats-ca", certs.CA, "--models", modelsDir, "--name", "wTLS", "--max-memory", "1G")
	defer func() {
		w.Process.Signal(syscall.SIGTERM)
		w.Wait()
	}()
	id := submitJob(t, base, gradientPNG(t, 32, 24), "octaves=1", "iterations=2")
	var st jobStatus
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st = jobState(t, base, id); st.State != "queued" && st.State != "running" {
			break
		}
	}
	if st.State != "done" || st.Worker != "wTLS" || st.Entry != id {
		t.Errorf("the job ended %+v, want done by wTLS into the gallery; the worker said:\n%s", st, wlog.String())
	}
}
