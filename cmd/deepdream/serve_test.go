package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/internal/shared"
	"github.com/deepdream-go/deepdream/models"
)

func TestServeRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--on-shutdown", "later"},
		{"--workers", "-1"},
		{"--workers", "0", "--nats", "off"},
		{"--ack-wait", "10ms"},
		{"--queue", "0"},
		{"--max-upload", "0"},
		{"--max-pixels", "-1"},
		{"--job-timeout", "0s"},
		{"--max-memory", "lots"},
		{"--max-memory", "0"},
		{"--allow-host", "evil.example:8080"},
		{"--allow-host", ""},
		{"--nats-tls-cert", "cert.pem"},
		{"--nats", "nats://a:4222", "--nats-tls-cert", "cert.pem", "--nats-tls-key", "key.pem"},
		{"--nats-ca", "ca.pem"},
	} {
		cmd := newServeCmd()
		cmd.SetArgs(append(args, "--data", t.TempDir(), "--offline"))
		cmd.SetErr(io.Discard)
		cmd.SetOut(io.Discard)
		err := cmd.ExecuteContext(context.Background())
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("serve %v: %v, want a usage error", args, err)
		}
	}
}

// TestServeStartsAndStops runs the studio on a free port with ../shared's
// GoogLeNet as a FILE model, fetches the page and the config, and stops it
// as SIGINT would (the command's context ends). Listening beyond loopback
// must say so.
func TestServeStartsAndStops(t *testing.T) {
	model := shared.GoogLeNet(t)
	for _, tc := range []struct {
		addr string
		warn bool
	}{{"127.0.0.1:0", false}, {"0.0.0.0:0", true}} {
		var stderr bytes.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ready := make(chan string, 1)
		cmd := newServeCmdFor(&serveOptions{ready: func(addr string) { ready <- addr }})
		cmd.SetArgs([]string{"--addr", tc.addr, "--data", t.TempDir(), "--model", model, "--models", t.TempDir(), "--allow-host", "studio.lan", "--max-memory", "1.5G", "--nats-listen", "127.0.0.1:0"})
		cmd.SetErr(&stderr)
		done := make(chan error, 1)
		go func() { done <- cmd.ExecuteContext(ctx) }()
		var addr string
		select {
		case addr = <-ready:
		case err := <-done:
			t.Fatalf("serve ended before listening: %v\n%s", err, stderr.String())
		case <-time.After(60 * time.Second):
			t.Fatal("serve did not start")
		}
		for path, want := range map[string]string{"/": "DeepDream studio", "/api/config": "googlenet-bvlc.onnx"} {
			res, err := http.Get("http://" + addr + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
				t.Errorf("GET %s: %s %.200s, want %q", path, res.Status, body, want)
			}
		}
		for host, want := range map[string]int{"evil.example": http.StatusMisdirectedRequest, "studio.lan": http.StatusOK, "localhost": http.StatusOK} {
			req, _ := http.NewRequest("GET", "http://"+addr+"/api/config", nil)
			req.Host = host
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != want {
				t.Errorf("GET /api/config as %s: %s, want %d", host, res.Status, want)
			}
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve after an interrupt: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not stop")
		}
		out := stderr.String()
		if !strings.Contains(out, "studio at http://127.0.0.1:") || !strings.Contains(out, "memory for dreams 1.5 GB, --max-memory") || !strings.Contains(out, "studio stopped") || !strings.Contains(out, "NATS for workers at nats://127.0.0.1:") || strings.Contains(out, "WARNING") != tc.warn {
			t.Errorf("serve --addr %s said:\n%s", tc.addr, out)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for s, want := range map[string]int64{
		"4G": 4 << 30, "4GB": 4 << 30, "4gib": 4 << 30, "512M": 512 << 20, "1.5G": 3 << 29, "1000": 1000, " 64 KB ": 64 << 10, "2T": 2 << 40,
	} {
		if got, err := parseBytes(s); got != want || err != nil {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "G", "lots", "-1G", "0", "4X", "4I", "4iB", "NaN", "1e30", "99999999T"} {
		if got, err := parseBytes(s); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", s, got)
		}
	}
}

// TestServeDefaultsToModelsDir starts the studio offline, with an empty
// model cache and no --model, on a --models directory holding one model
// file: it starts with that model (it used to insist on downloading the
// registry's googlenet) and says so.
func TestServeDefaultsToModelsDir(t *testing.T) {
	t.Setenv(models.EnvDir, t.TempDir()) // an empty cache
	dir := t.TempDir()
	model := writeONNX(t)
	data, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tiny.onnx"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	cmd := newServeCmdFor(&serveOptions{ready: func(addr string) { ready <- addr }})
	cmd.SetArgs([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--models", dir, "--offline", "--nats", "off"})
	cmd.SetErr(&stderr)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	select {
	case addr := <-ready:
		res, err := http.Get("http://" + addr + "/api/config")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(body), "tiny.onnx") {
			t.Errorf("/api/config: %.300s, want the model tiny.onnx", body)
		}
	case err := <-done:
		t.Fatalf("serve --models DIR --offline without --model: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	cancel()
	<-done
	if !strings.Contains(stderr.String(), "the studio starts with "+filepath.Join(dir, "tiny.onnx")) {
		t.Errorf("serve said:\n%s\nwant which model it starts with", stderr.String())
	}
}
