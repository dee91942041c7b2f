package main

import (
	"bytes"
	"context"
	"log"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/deepdream-go/deepdream/queue"
)

// TestBatchOnNATS dreams a folder of three photos on a queue's worker
// (batch --nats, a NATS server and a worker in this process): the dreams
// are byte for byte the ones batch makes in its own process.
func TestBatchOnNATS(t *testing.T) {
	modelsDir := t.TempDir()
	data, err := os.ReadFile(writeONNX(t))
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(modelsDir, "tiny.onnx")
	if err := os.WriteFile(model, data, 0o644); err != nil {
		t.Fatal(err)
	}
	in := t.TempDir()
	for _, name := range []string{"a.png", "b.png", "sub/c.png"} {
		os.MkdirAll(filepath.Dir(filepath.Join(in, name)), 0o755)
		if err := os.WriteFile(filepath.Join(in, name), gradientPNG(t, 40+len(name), 30), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := queue.Embed(queue.EmbedOptions{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	nc, err := nats.Connect(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	logf := log.New(t.Output(), "", 0).Printf
	w := &queue.Worker{Name: "w1", Budget: 1 << 30, Network: filesBySHA(modelsDir, logf), Logf: logf}
	wg.Go(func() { w.Run(ctx, nc) })

	flags := []string{"--model", model, "--offline", "--octaves", "2", "--iterations", "2", "--seed", "4", "--quiet"}
	local, remote := t.TempDir(), t.TempDir()
	if code, _, errOut := cli(t, context.Background(), append([]string{"batch", in, "-o", local}, flags...)...); code != 0 {
		t.Fatalf("batch: exit %d: %s", code, errOut)
	}
	if code, _, errOut := cli(t, context.Background(), append([]string{"batch", in, "-o", remote, "--nats", srv.URL}, flags...)...); code != 0 {
		t.Fatalf("batch --nats: exit %d: %s", code, errOut)
	}
	for _, name := range []string{"a.png", "b.png", "sub/c.png"} {
		want, err := os.ReadFile(filepath.Join(local, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(remote, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the worker's dream (%d bytes) is not the one made here (%d bytes)", name, len(got), len(want))
		}
	}
}
