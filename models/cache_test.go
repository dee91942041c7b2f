package models

import (
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
)

// fakeModel is a small file standing in for a model, with its entry.
func fakeModel(urls ...string) ([]byte, Entry) {
	data := []byte(strings.Repeat("not really an onnx model ", 4000))
	sum := sha256.Sum256(data)
	return data, Entry{
		Name: "fake", File: "fake-1.onnx", Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), URLs: urls, Profile: dream.Profile{Preprocess: dream.Caffe},
	}
}

// server serves data at /good, a different file at /bad, 404 elsewhere.
func server(t *testing.T, data []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/good":
			w.Write(data)
		case "/bad":
			bad := append([]byte(nil), data...)
			bad[len(bad)/2] ^= 1
			w.Write(bad)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// dirEntries lists dir, so that tests can check no temporary file is left.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestResolveDownloadsFallsBackAndCaches(t *testing.T) {
	data, _ := fakeModel()
	srv := server(t, data)
	_, e := fakeModel(srv.URL+"/missing", srv.URL+"/good")
	dir := filepath.Join(t.TempDir(), "cache")
	var last DownloadProgress
	opts := Options{Dir: dir, Entries: []Entry{e}, Client: srv.Client(), Progress: func(p DownloadProgress) { last = p }}

	path, got, err := Resolve(context.Background(), "fake", opts)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Name != "fake" || path != filepath.Join(dir, "fake-1.onnx") {
		t.Fatalf("Resolve = %q, %+v", path, got)
	}
	if b, _ := os.ReadFile(path); string(b) != string(data) {
		t.Error("cached file differs from the served one")
	}
	if last.URL != srv.URL+"/good" || last.Done != e.Size || last.Total != e.Size {
		t.Errorf("last progress = %+v, want all %d bytes from /good", last, e.Size)
	}
	if names := dirEntries(t, dir); len(names) != 1 {
		t.Errorf("cache holds %v, want only the model", names)
	}

	// Cached now: no server needed, even with downloads disabled.
	srv.Close()
	opts.NoDownload = true
	if p2, _, err := Resolve(context.Background(), "fake", opts); err != nil || p2 != path {
		t.Errorf("second Resolve = %q, %v", p2, err)
	}
}

func TestResolveExistingFileIsUsedAsIs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "googlenet")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file wins over a registry name of the same spelling.
	path, e, err := Resolve(context.Background(), file, Options{Dir: t.TempDir()})
	if err != nil || path != file || e != nil {
		t.Errorf("Resolve(file) = %q, %v, %v", path, e, err)
	}
	_, _, err = Resolve(context.Background(), filepath.Join(t.TempDir(), "nope.onnx"), Options{Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "neither a file nor a known model") || !strings.Contains(err.Error(), "googlenet") {
		t.Errorf("Resolve(missing file) error = %v", err)
	}
}

func TestDownloadMismatchDeletesTempAndNamesURL(t *testing.T) {
	data, _ := fakeModel()
	srv := server(t, data)
	_, e := fakeModel(srv.URL + "/bad")
	dir := t.TempDir()
	_, _, err := Resolve(context.Background(), "fake", Options{Dir: dir, Entries: []Entry{e}, Client: srv.Client()})
	var ce *ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a ChecksumError", err)
	}
	if ce.Source != srv.URL+"/bad" || ce.Size != e.Size || ce.SHA256 == e.SHA256 || len(ce.SHA256) != 64 {
		t.Errorf("ChecksumError = %+v", ce)
	}
	if msg := err.Error(); !strings.Contains(msg, srv.URL+"/bad served "+strconv.FormatInt(e.Size, 10)+" bytes, sha256 "+ce.SHA256) {
		t.Errorf("error does not say which URL served what:\n%s", msg)
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("cache holds %v after a mismatch, want nothing", names)
	}
}

func TestDownloadWrongLengthStopsEarly(t *testing.T) {
	data, e := fakeModel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length (flushed), and longer than the model.
		w.(http.Flusher).Flush()
		w.Write(data)
		w.Write(data)
	}))
	defer srv.Close()
	e.URLs = []string{srv.URL}
	dir := t.TempDir()
	_, err := Pull(context.Background(), &e, Options{Dir: dir, Client: srv.Client()})
	var ce *ChecksumError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "more than "+strconv.FormatInt(e.Size, 10)+" bytes") {
		t.Fatalf("err = %v", err)
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("cache holds %v, want nothing", names)
	}
}

func TestDownloadCancelLeavesNothing(t *testing.T) {
	data, e := fakeModel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data[:len(data)/2])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // hang until the client gives up
	}))
	defer srv.Close()
	e.URLs = []string{srv.URL, srv.URL} // the second URL must not be tried
	dir := t.TempDir()
	progress := func(p DownloadProgress) {
		if p.Done > 0 {
			if names := dirEntries(t, dir); len(names) != 1 || !strings.HasPrefix(names[0], ".fake-1.onnx.tmp-") {
				t.Errorf("during the download the cache holds %v, want one temporary file", names)
			}
			cancel() // Ctrl-C mid-download
		}
	}
	_, err := Pull(ctx, &e, Options{Dir: dir, Client: srv.Client(), Progress: progress})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("cache holds %v after cancel, want nothing", names)
	}
}

func TestOfflineErrorSaysHowToInstall(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens: every URL fails like an offline machine
	_, e := fakeModel(srv.URL+"/a/fake-1.onnx", srv.URL+"/b/fake-1.onnx")
	dir := filepath.Join(t.TempDir(), "models")
	_, _, err := Resolve(context.Background(), "fake", Options{Dir: dir, Entries: []Entry{e}})
	var fe *FetchError
	if !errors.As(err, &fe) || len(fe.Attempts) != 2 {
		t.Fatalf("err = %v, want a FetchError with 2 attempts", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"fake (fake-1.onnx) is not in the cache and could not be downloaded",
		srv.URL + "/a/fake-1.onnx", srv.URL + "/b/fake-1.onnx",
		strconv.FormatInt(e.Size, 10) + " bytes, sha256 " + e.SHA256,
		"deepdream models import fake PATH/TO/fake-1.onnx",
		filepath.Join(dir, "fake-1.onnx"),
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("offline error lacks %q:\n%s", want, msg)
		}
	}

	_, _, err = Resolve(context.Background(), "fake", Options{Dir: dir, Entries: []Entry{e}, NoDownload: true})
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "downloads are disabled") {
		t.Errorf("NoDownload error = %v", err)
	}
}

func TestImportAndVerify(t *testing.T) {
	data, e := fakeModel()
	src := filepath.Join(t.TempDir(), "download.onnx")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "cache")
	if c, err := Verify(&e, dir); err != nil || c.State != Missing {
		t.Errorf("Verify before import = %+v, %v", c, err)
	}
	path, err := Import(&e, src, dir)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := Verify(&e, dir); err != nil || c.State != OK || c.Path != path || c.SHA256 != e.SHA256 {
		t.Errorf("Verify after import = %+v, %v", c, err)
	}

	// A same-size file with other bytes is refused and leaves the cached one.
	bad := append([]byte(nil), data...)
	bad[0] ^= 1
	if err := os.WriteFile(src, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	var ce *ChecksumError
	if _, err := Import(&e, src, dir); !errors.As(err, &ce) || ce.Source != src {
		t.Errorf("Import(bad) err = %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != string(data) {
		t.Error("a refused import changed the cached file")
	}
	if names := dirEntries(t, dir); len(names) != 1 {
		t.Errorf("cache holds %v, want only the model", names)
	}
	// A wrong size is refused before copying.
	if err := os.WriteFile(src, data[1:], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(&e, src, dir); !errors.As(err, &ce) || ce.Size != e.Size-1 {
		t.Errorf("Import(short) err = %v", err)
	}

	// Corruption in the cache shows up in Verify.
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := Verify(&e, dir); err != nil || c.State != Mismatch {
		t.Errorf("Verify(corrupt) = %+v, %v", c, err)
	}
}

func TestCacheDirHonoursEnv(t *testing.T) {
	t.Setenv(EnvDir, "/somewhere/models")
	if d, err := CacheDir(); err != nil || d != "/somewhere/models" {
		t.Errorf("CacheDir = %q, %v", d, err)
	}
	t.Setenv(EnvDir, "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	d, err := CacheDir()
	if err != nil || !strings.HasSuffix(d, filepath.Join("deepdream", "models")) {
		t.Errorf("CacheDir = %q, %v", d, err)
	}
}

func TestDownloadWrongContentLengthIsNotRead(t *testing.T) {
	data, e := fakeModel()
	short := data[:len(data)-1]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(short)))
		w.Write(short)
	}))
	defer srv.Close()
	e.URLs = []string{srv.URL}
	_, err := Pull(context.Background(), &e, Options{Dir: t.TempDir(), Client: srv.Client()})
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Size != e.Size-1 || ce.SHA256 != "" ||
		!strings.Contains(err.Error(), srv.URL+" served "+strconv.Itoa(len(short))+" bytes for fake; want") {
		t.Errorf("err = %v", err)
	}
}

// stallingServer serves data at /slow-body by sending half of it and then
// nothing, and at /no-headers nothing at all, until the test ends.
func stallingServer(t *testing.T, data []byte) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-body" {
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Write(data[:len(data)/2])
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv
}

// TestPullStalledServer downloads from a server that stalls before its
// headers and from one that stalls halfway through the body: each fails
// after the timeout, saying so, with the line naming the download given
// before the request; no file is left.
func TestPullStalledServer(t *testing.T) {
	data, _ := fakeModel()
	srv := stallingServer(t, data)
	for _, path := range []string{"/no-headers", "/slow-body"} {
		_, e := fakeModel(srv.URL + path)
		dir := t.TempDir()
		var seen []DownloadProgress
		_, err := Pull(context.Background(), &e, Options{Dir: dir, Timeout: 50 * time.Millisecond,
			Progress: func(p DownloadProgress) { seen = append(seen, p) }})
		if err == nil || !strings.Contains(err.Error(), "GET "+srv.URL+path+": the server sent nothing for 50ms") {
			t.Errorf("%s: %v; want a timeout", path, err)
		}
		if len(seen) == 0 || seen[0].Done != 0 || seen[0].URL != srv.URL+path {
			t.Errorf("%s: progress %+v, want a first report before the request", path, seen)
		}
		if names := dirEntries(t, dir); len(names) != 0 {
			t.Errorf("%s: left %v", path, names)
		}
	}
}
