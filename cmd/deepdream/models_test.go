package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/models"
)

// fakeEntry is a registry entry for a small file, served by a test server.
func fakeEntry(t *testing.T) (models.Entry, []byte) {
	t.Helper()
	data := bytes.Repeat([]byte("fake model "), 10000)
	sum := sha256.Sum256(data)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
	t.Cleanup(srv.Close)
	return models.Entry{Name: "fake", File: "fake-1.onnx", Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), URLs: []string{srv.URL + "/fake-1.onnx"}, Profile: dream.Profile{Preprocess: dream.Caffe}}, data
}

// runModels runs the models command built over opts with args, the cache
// in DEEPDREAM_MODELS = dir.
func runModels(t *testing.T, opts models.Options, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	t.Setenv(models.EnvDir, dir)
	cmd := modelsCmd(opts)
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestModelsListMarksDefaultAndCached(t *testing.T) {
	dir := t.TempDir()
	out, _, err := runModels(t, models.Options{}, dir, "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 11 || !strings.HasPrefix(lines[0], "NAME") || lines[10] != "cache: "+dir {
		t.Fatalf("list output:\n%s", out)
	}
	if f := strings.Fields(lines[1]); f[0] != "googlenet" || f[1] != "(default)" || f[2] != "googlenet-7.onnx" || f[3] != "28.0" || f[5] != "no" {
		t.Errorf("first row = %q", lines[1])
	}

	e, data := fakeEntry(t)
	if err := os.WriteFile(filepath.Join(dir, e.File), data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err = runModels(t, models.Options{Entries: []models.Entry{e}}, dir, "list")
	if err != nil || !strings.Contains(out, "fake-1.onnx") || !strings.HasSuffix(strings.Split(out, "\n")[1], "yes") {
		t.Errorf("list with a cached model: %v\n%s", err, out)
	}
}

func TestModelsImportVerifyPath(t *testing.T) {
	e, data := fakeEntry(t)
	opts := models.Options{Entries: []models.Entry{e}}
	dir := filepath.Join(t.TempDir(), "cache")
	src := filepath.Join(t.TempDir(), "download.onnx")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}

	out, _, err := runModels(t, opts, dir, "verify")
	if err != nil || !strings.Contains(out, "fake") || !strings.Contains(out, "missing") {
		t.Errorf("verify before import: %v\n%s", err, out)
	}
	out, _, err = runModels(t, opts, dir, "import", "fake", src)
	cached := filepath.Join(dir, e.File)
	if err != nil || !strings.Contains(out, "imported to "+cached) {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, _, err = runModels(t, opts, dir, "verify", "fake")
	if err != nil || !strings.Contains(out, "OK") {
		t.Errorf("verify after import: %v\n%s", err, out)
	}
	out, _, err = runModels(t, opts, dir, "path", "fake")
	if err != nil || out != cached+"\n" {
		t.Errorf("path = %q, %v", out, err)
	}

	// A wrong file is refused; a corrupted cache fails verify.
	bad := append([]byte(nil), data...)
	bad[7] ^= 1
	if err := os.WriteFile(src, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	var ce *models.ChecksumError
	if _, _, err := runModels(t, opts, dir, "import", "fake", src); !errors.As(err, &ce) {
		t.Errorf("import of a wrong file: err = %v", err)
	}
	if err := os.WriteFile(cached, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err = runModels(t, opts, dir, "verify")
	if err == nil || !strings.Contains(out, "MISMATCH") || !strings.Contains(out, e.SHA256) {
		t.Errorf("verify of a corrupt file: %v\n%s", err, out)
	}

	var u usageError
	if _, _, err := runModels(t, opts, dir, "path", "nope"); !errors.As(err, &u) {
		t.Errorf("unknown model: err = %v, want a usage error", err)
	}
}

func TestModelsPullShowsPlainProgressOffTerminal(t *testing.T) {
	e, data := fakeEntry(t)
	dir := t.TempDir()
	out, stderr, err := runModels(t, models.Options{Entries: []models.Entry{e}}, dir, "pull", "fake")
	if err != nil {
		t.Fatal(err)
	}
	if out != "fake: "+filepath.Join(dir, e.File)+"\n" {
		t.Errorf("stdout = %q", out)
	}
	if !strings.Contains(stderr, "downloading fake (0.1 MB) from "+e.URLs[0]) || !strings.Contains(stderr, "fake: 100%") {
		t.Errorf("stderr = %q", stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, e.File)); !bytes.Equal(got, data) {
		t.Error("pulled file differs")
	}
}

// TestModelsPullStalledServer pulls from a server that sends half the file
// and then nothing: the line naming the download comes first, and the pull
// fails after the timeout, saying why, where it used to hang silently.
func TestModelsPullStalledServer(t *testing.T) {
	e, data := fakeEntry(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data[:100])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	e.URLs = []string{srv.URL + "/fake-1.onnx"}
	_, stderr, err := runModels(t, models.Options{Entries: []models.Entry{e}, Timeout: 50 * time.Millisecond}, t.TempDir(), "pull", "fake")
	if !strings.HasPrefix(stderr, "downloading fake (0.1 MB) from "+e.URLs[0]+"\n") {
		t.Errorf("stderr = %q", stderr)
	}
	if err == nil || !strings.Contains(err.Error(), "the server sent nothing for 50ms") {
		t.Errorf("err = %v", err)
	}
}
