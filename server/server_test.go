package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/tinynet"
	"github.com/deepdream-go/deepdream/models"
)

// tinyModel is internal/tinynet's model, ready to dream with.
var tinyModel = sync.OnceValue(func() *dream.Network {
	n, err := dream.NewNetwork(tinynet.Model(), tinyEntry().Profile)
	if err != nil {
		panic(err)
	}
	return n
})

func tinyEntry() *models.Entry {
	return &models.Entry{Name: "tiny", Profile: dream.Profile{
		Preprocess: dream.Caffe, DefaultLayer: "relu", InputSize: 16,
		Aliases: map[string]string{"relu": "r", "conv": "c"}, MainLayers: []string{"conv", "relu"},
	}}
}

// studio is a Server on a temporary data directory behind an httptest server.
type studio struct {
	*Server
	url  string
	data string
}

func newStudio(t *testing.T, cfg Config) *studio {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Models == nil {
		cfg.Models = []*Model{NewModel("tiny", tinyEntry(), tinyModel())}
	}
	if cfg.Logf == nil {
		cfg.Logf = t.Logf
	}
	cfg.Version = "test"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(s)
	hs.Config = s.HTTPServer()
	hs.Start()
	t.Cleanup(func() {
		s.Close(false)
		hs.Close()
	})
	return &studio{Server: s, url: hs.URL, data: cfg.DataDir}
}

func pngPhoto(t testing.TB, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x * y) % 256), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// part is a file of a form: its field and its bytes.
type part struct {
	name string
	data []byte
}

// multipartBody encodes fields (repeated keys allowed as "k=v" pairs) and
// an optional photo.
func multipartBody(t testing.TB, photo []byte, fields ...string) (string, []byte) {
	var files []part
	if photo != nil {
		files = append(files, part{"photo", photo})
	}
	return multipartForm(t, files, fields...)
}

// multipartForm encodes fields ("k=v" pairs) and files, each with a file
// name, as a browser sends a file input.
func multipartForm(t testing.TB, files []part, fields ...string) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, kv := range fields {
		k, v, _ := strings.Cut(kv, "=")
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		fw, err := mw.CreateFormFile(f.name, f.name+".png")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(f.data)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// small are parameters that dream the test photos in a few milliseconds.
var small = []string{"octaves=2", "iterations=3", "jitter=2", "seed=5"}

func (s *studio) submit(t *testing.T, photo []byte, fields ...string) (*http.Response, map[string]any) {
	t.Helper()
	var files []part
	if photo != nil {
		files = append(files, part{"photo", photo})
	}
	return s.submitFiles(t, files, fields...)
}

// submitFiles posts a dream of these files (the photo, the request's
// images) and fields.
func (s *studio) submitFiles(t *testing.T, files []part, fields ...string) (*http.Response, map[string]any) {
	t.Helper()
	ctype, body := multipartForm(t, files, fields...)
	res, err := http.Post(s.url+"/api/jobs", ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v map[string]any
	json.NewDecoder(res.Body).Decode(&v)
	return res, v
}

func (s *studio) mustSubmit(t *testing.T, photo []byte, fields ...string) Status {
	t.Helper()
	res, v := s.submit(t, photo, fields...)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /api/jobs: %s %v", res.Status, v)
	}
	pos, _ := v["position"].(float64) // absent when a worker took the job at once
	return Status{ID: v["id"].(string), State: v["state"].(string), Position: int(pos)}
}

func (s *studio) get(t *testing.T, path string, v any) *http.Response {
	t.Helper()
	res, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if v != nil {
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %s: %v", path, res.Status, err)
		}
	}
	return res
}

func (s *studio) do(t *testing.T, method, path string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// wait polls a job until it has ended.
func (s *studio) wait(t *testing.T, id string) Status {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var st Status
		s.get(t, "/api/jobs/"+id, &st)
		if st.finished() {
			return st
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("job %s did not end", id)
	return Status{}
}

func (s *studio) entries(t *testing.T) []entryView {
	var g struct{ Entries []entryView }
	s.get(t, "/api/gallery", &g)
	return g.Entries
}

func TestDreamGoesToTheGallery(t *testing.T) {
	s := newStudio(t, Config{})
	photo := pngPhoto(t, 24, 18)
	st := s.mustSubmit(t, photo, append(small, "layers=relu:1,3")...)
	end := s.wait(t, st.ID)
	if end.State != stateDone || end.Entry != st.ID || end.Result != "/api/gallery/"+st.ID+"/result.png" {
		t.Fatalf("final status %+v", end)
	}
	entries := s.entries(t)
	if len(entries) != 1 || entries[0].ID != st.ID {
		t.Fatalf("gallery %+v, want the one dream", entries)
	}
	e := entries[0]
	want := dream.Record{Version: "test", Model: "tiny", Request: dream.Request{
		Layers: []string{"relu:1,3"}, Octaves: 2, OctaveScale: 1.4, Iterations: 3, Step: 1.5, Jitter: 2, Seed: 5, Winograd: true,
	}}
	if !reflect.DeepEqual(e.Params, want) || e.Width != 24 || e.Height != 18 || e.Format != "png" {
		t.Errorf("entry %+v, want params %+v at 24x18", *e.Entry, want)
	}
	res, err := http.Get(s.url + e.Result + "?download=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("Content-Type") != "image/png" || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("result headers %v", res.Header)
	}
	meta, err := imageio.ReadMetadata(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var rec dream.Record
	if err := json.Unmarshal([]byte(meta), &rec); err != nil || !reflect.DeepEqual(rec, want) {
		t.Errorf("embedded parameters %s, want %+v", meta, want)
	}
	res, _ = http.Get(s.url + e.Original)
	orig, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Equal(orig, photo) || res.Header.Get("Content-Type") != "image/png" {
		t.Errorf("original: %d bytes as %s, want the %d uploaded bytes as image/png", len(orig), res.Header.Get("Content-Type"), len(photo))
	}
	if res := s.get(t, e.Thumb, nil); res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("thumbnail: %s %s", res.Status, res.Header.Get("Content-Type"))
	}
	var one entryView
	s.get(t, "/api/gallery/"+st.ID, &one)
	if one.ID != st.ID {
		t.Errorf("GET /api/gallery/%s = %+v", st.ID, one)
	}
}

func TestRejections(t *testing.T) {
	s := newStudio(t, Config{MaxUpload: 4000, MaxPixels: 30 * 30})
	okPhoto := pngPhoto(t, 20, 20)
	noisy := make([]byte, 6000) // a PNG over 4000 bytes
	copy(noisy, okPhoto)
	for _, tc := range []struct {
		name   string
		photo  []byte
		fields []string
		code   int
		msg    string
	}{
		{"too large upload", noisy, nil, http.StatusRequestEntityTooLarge, "larger than the limit of 3.9 KB"},
		{"too many pixels", pngPhoto(t, 40, 40), nil, http.StatusRequestEntityTooLarge, "too many pixels"},
		{"not an image", []byte("hello, this is text and not a photo at all"), nil, http.StatusUnsupportedMediaType, "not a photo"},
		{"image cut in its header", okPhoto[:20], nil, http.StatusUnsupportedMediaType, "cannot be read"},
		{"no photo", nil, []string{"octaves=2"}, http.StatusBadRequest, "choose a photo"},
		{"empty photo", []byte{}, nil, http.StatusBadRequest, "empty"},
		{"unknown model", okPhoto, []string{"model=../../etc/passwd"}, http.StatusBadRequest, `no model "../../etc/passwd"`},
		{"unknown layer", okPhoto, []string{"layers=nope"}, http.StatusBadRequest, `no layer "nope"`},
		{"the input as a layer", okPhoto, []string{"layers=x"}, http.StatusBadRequest, `"x" is the model's input, not a layer`},
		{"bad channel", okPhoto, []string{"layers=relu:4"}, http.StatusBadRequest, "channel 4 does not exist"},
		{"bad layer spec", okPhoto, []string{"layers=relu=x"}, http.StatusBadRequest, "not a number"},
		{"octaves 0", okPhoto, []string{"octaves=0"}, http.StatusBadRequest, "octaves is \"0\""},
		{"iterations text", okPhoto, []string{"iterations=many"}, http.StatusBadRequest, "iterations"},
		{"step NaN", okPhoto, []string{"step=NaN"}, http.StatusBadRequest, "step"},
		{"octave scale below 1", okPhoto, []string{"octave_scale=0.5"}, http.StatusBadRequest, "octave scale"},
		{"negative seed", okPhoto, []string{"seed=-1"}, http.StatusBadRequest, "seed"},
		{"tiny max size", okPhoto, []string{"max_size=5"}, http.StatusBadRequest, "max size"},
		{"unknown source", nil, []string{"source=0123456789abcdef"}, http.StatusNotFound, "no gallery entry"},
		{"source path", nil, []string{"source=../../../etc/passwd"}, http.StatusNotFound, "no gallery entry"},
		{"photo and source", okPhoto, []string{"source=0123456789abcdef"}, http.StatusBadRequest, "not both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, v := s.submit(t, tc.photo, tc.fields...)
			msg, _ := v["error"].(string)
			if res.StatusCode != tc.code || !strings.Contains(msg, tc.msg) {
				t.Errorf("%s %q, want %d and a message with %q", res.Status, msg, tc.code, tc.msg)
			}
		})
	}

	t.Run("not multipart", func(t *testing.T) {
		res, err := http.Post(s.url+"/api/jobs", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("%s, want 415", res.Status)
		}
	})
	t.Run("other site", func(t *testing.T) {
		ctype, body := multipartBody(t, okPhoto)
		req, _ := http.NewRequest("POST", s.url+"/api/jobs", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Origin", "https://evil.example")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s, want 403", res.Status)
		}
	})
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/api/jobs/0123456789abcdef", http.StatusNotFound},
		{"GET", "/api/jobs/0123456789abcdef/events", http.StatusNotFound},
		{"GET", "/api/jobs/0123456789abcdef/result", http.StatusNotFound},
		{"DELETE", "/api/jobs/0123456789abcdef", http.StatusNotFound},
		{"GET", "/api/jobs/..%2F..%2Fetc", http.StatusNotFound},
		{"GET", "/api/gallery/0123456789abcdef", http.StatusNotFound},
		{"GET", "/api/gallery/0123456789abcdef/result.png", http.StatusNotFound},
		{"DELETE", "/api/gallery/0123456789abcdef", http.StatusNotFound},
		{"GET", "/api/models/nope/layers", http.StatusNotFound},
		{"PUT", "/api/jobs", http.StatusMethodNotAllowed},
		{"POST", "/api/gallery/0123456789abcdef", http.StatusMethodNotAllowed},
		{"PATCH", "/api/config", http.StatusMethodNotAllowed},
	} {
		if res := s.do(t, tc.method, tc.path); res.StatusCode != tc.code {
			t.Errorf("%s %s: %s, want %d", tc.method, tc.path, res.Status, tc.code)
		}
	}
}

// hold makes the studio's workers wait at the start of each job until the
// test releases it, and records the order in which jobs start.
type hold struct {
	mu      sync.Mutex
	order   []string
	started chan string
	release chan struct{}
}

func holdJobs(s *studio) *hold {
	h := &hold{started: make(chan string, 100), release: make(chan struct{}, 100)}
	s.started = func(j *job) {
		h.mu.Lock()
		h.order = append(h.order, j.id)
		h.mu.Unlock()
		h.started <- j.id
		select {
		case <-h.release:
		case <-j.ctx.Done():
		}
	}
	return h
}

func TestQueueOrderPositionsAndBusy(t *testing.T) {
	s := newStudio(t, Config{Queue: 2})
	h := holdJobs(s)
	photo := pngPhoto(t, 16, 16)
	a := s.mustSubmit(t, photo, small...)
	if id := <-h.started; id != a.ID {
		t.Fatalf("started %s, want %s", id, a.ID)
	}
	b := s.mustSubmit(t, photo, small...)
	c := s.mustSubmit(t, photo, small...)
	if b.Position != 1 || c.Position != 2 {
		t.Errorf("positions %d, %d; want 1, 2", b.Position, c.Position)
	}
	res, v := s.submit(t, photo, small...)
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(v["error"].(string), "busy") || res.Header.Get("Retry-After") == "" {
		t.Errorf("beyond the queue: %s %v, want 429 busy", res.Status, v)
	}
	var st Status
	s.get(t, "/api/jobs/"+a.ID, &st)
	if st.State != stateRunning {
		t.Errorf("first job is %s, want running", st.State)
	}
	if res := s.do(t, "DELETE", "/api/jobs/"+b.ID); res.StatusCode != http.StatusOK {
		t.Fatalf("cancelling a waiting job: %s", res.Status)
	}
	s.get(t, "/api/jobs/"+c.ID, &st)
	if st.Position != 1 {
		t.Errorf("after the cancel, the last job is at %d, want 1", st.Position)
	}
	d := s.mustSubmit(t, photo, small...)
	for range 3 {
		h.release <- struct{}{}
	}
	for _, id := range []string{a.ID, c.ID, d.ID} {
		if end := s.wait(t, id); end.State != stateDone {
			t.Errorf("job %s ended %s (%s)", id, end.State, end.Error)
		}
	}
	if end := s.wait(t, b.ID); end.State != stateCancelled {
		t.Errorf("cancelled job ended %s", end.State)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.Equal(h.order, []string{a.ID, c.ID, d.ID}) {
		t.Errorf("jobs started in order %v, want %v", h.order, []string{a.ID, c.ID, d.ID})
	}
	if n := len(s.entries(t)); n != 3 {
		t.Errorf("%d gallery entries, want 3", n)
	}
}

func TestCancelRunningDreamKeepsNothing(t *testing.T) {
	s := newStudio(t, Config{})
	h := holdJobs(s)
	st := s.mustSubmit(t, pngPhoto(t, 16, 16), small...)
	<-h.started
	if res := s.do(t, "DELETE", "/api/jobs/"+st.ID); res.StatusCode != http.StatusOK {
		t.Fatalf("cancel: %s", res.Status)
	}
	if end := s.wait(t, st.ID); end.State != stateCancelled || end.Error != "" {
		t.Errorf("ended %s %q, want cancelled", end.State, end.Error)
	}
	if res := s.do(t, "DELETE", "/api/jobs/"+st.ID); res.StatusCode != http.StatusConflict {
		t.Errorf("cancelling an ended job: %s, want 409", res.Status)
	}
	if n := len(s.entries(t)); n != 0 {
		t.Errorf("%d gallery entries after a cancel", n)
	}
	assertEmpty(t, filepath.Join(s.data, "tmp"))
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	des, _ := os.ReadDir(dir)
	if len(des) != 0 {
		t.Errorf("%s holds %v, want nothing", dir, des)
	}
}

func TestJobTimeout(t *testing.T) {
	s := newStudio(t, Config{JobTimeout: time.Nanosecond})
	st := s.mustSubmit(t, pngPhoto(t, 16, 16), small...)
	if end := s.wait(t, st.ID); end.State != stateFailed || !strings.Contains(end.Error, "longer than the limit") {
		t.Errorf("ended %s %q, want failed over the time limit", end.State, end.Error)
	}
}

func TestShutdownCancelsRunningAndWaitingJobs(t *testing.T) {
	s := newStudio(t, Config{})
	h := holdJobs(s)
	photo := pngPhoto(t, 16, 16)
	a := s.mustSubmit(t, photo, small...)
	<-h.started
	b := s.mustSubmit(t, photo, small...)
	s.Close(false)
	for _, id := range []string{a.ID, b.ID} {
		if end := s.wait(t, id); end.State != stateCancelled {
			t.Errorf("job %s ended %s, want cancelled", id, end.State)
		}
	}
	if res, v := s.submit(t, photo, small...); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("submitting after Close: %s %v, want 503", res.Status, v)
	}
	assertEmpty(t, filepath.Join(s.data, "gallery"))
	assertEmpty(t, filepath.Join(s.data, "tmp"))
}

func TestShutdownFinishesRunningJobs(t *testing.T) {
	s := newStudio(t, Config{})
	h := holdJobs(s)
	a := s.mustSubmit(t, pngPhoto(t, 16, 16), small...)
	<-h.started
	closed := make(chan struct{})
	go func() {
		s.Close(true)
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close(true) returned while a job was running")
	case <-time.After(50 * time.Millisecond):
	}
	h.release <- struct{}{}
	<-closed
	if end := s.wait(t, a.ID); end.State != stateDone {
		t.Errorf("running job ended %s, want done", end.State)
	}
	if n := len(s.entries(t)); n != 1 {
		t.Errorf("%d gallery entries, want the finished one", n)
	}
}

func TestRestartReloadsTheGallery(t *testing.T) {
	data := t.TempDir()
	s := newStudio(t, Config{DataDir: data})
	photo := pngPhoto(t, 16, 16)
	var ids []string
	for range 2 {
		st := s.mustSubmit(t, photo, small...)
		s.wait(t, st.ID)
		ids = append(ids, st.ID)
	}
	s.Close(false)
	// What a crash may leave: a half-written entry in tmp/, and a
	// directory without params.json in gallery/ (as a version that wrote
	// entries in place left them).
	os.MkdirAll(filepath.Join(data, "tmp", "abc-123"), 0o755)
	os.WriteFile(filepath.Join(data, "tmp", "abc-123", fileResult), []byte("partial"), 0o644)
	os.MkdirAll(filepath.Join(data, "gallery", "fedcba9876543210"), 0o755)

	s2 := newStudio(t, Config{DataDir: data})
	var got []string
	for _, e := range s2.entries(t) {
		got = append(got, e.ID)
	}
	slices.Sort(got)
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Errorf("after a restart the gallery has %v, want %v", got, ids)
	}
	assertEmpty(t, filepath.Join(data, "tmp"))
	if _, err := os.Stat(filepath.Join(data, "gallery", "fedcba9876543210")); !os.IsNotExist(err) {
		t.Errorf("the half-written entry is still there (%v)", err)
	}
	if res := s2.get(t, "/api/gallery/"+ids[0]+"/result.png", nil); res.StatusCode != http.StatusOK {
		t.Errorf("result after restart: %s", res.Status)
	}
}

func TestDreamAgainAndDelete(t *testing.T) {
	s := newStudio(t, Config{})
	st := s.mustSubmit(t, pngPhoto(t, 20, 14), small...)
	s.wait(t, st.ID)
	again := s.mustSubmit(t, nil, append(small, "source="+st.ID)...)
	if end := s.wait(t, again.ID); end.State != stateDone {
		t.Fatalf("dream again ended %s %s", end.State, end.Error)
	}
	read := func(id string) []byte {
		b, err := os.ReadFile(filepath.Join(s.data, "gallery", id, fileResult))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(read(st.ID), read(again.ID)) {
		t.Error("the same photo and settings dreamed again gave another result")
	}
	if res := s.do(t, "DELETE", "/api/gallery/"+st.ID); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %s", res.Status)
	}
	if res := s.do(t, "GET", "/api/gallery/"+st.ID); res.StatusCode != http.StatusNotFound {
		t.Errorf("deleted entry: %s", res.Status)
	}
	if _, err := os.Stat(filepath.Join(s.data, "gallery", st.ID)); !os.IsNotExist(err) {
		t.Errorf("deleted entry still on disk: %v", err)
	}
	if n := len(s.entries(t)); n != 1 {
		t.Errorf("%d entries left, want 1", n)
	}
}

func TestExplorerJobsStayOutOfTheGallery(t *testing.T) {
	s := newStudio(t, Config{})
	st := s.mustSubmit(t, pngPhoto(t, 16, 16), append(small, "gallery=0", "layers=conv")...)
	end := s.wait(t, st.ID)
	if end.State != stateDone || end.Result != "/api/jobs/"+st.ID+"/result" || end.Entry != "" {
		t.Fatalf("final status %+v", end)
	}
	res := s.get(t, end.Result, nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
		t.Errorf("tile result: %s %s", res.Status, res.Header.Get("Content-Type"))
	}
	if n := len(s.entries(t)); n != 0 {
		t.Errorf("%d gallery entries, want none", n)
	}
}

func TestEventsStreamProgressAndPreviews(t *testing.T) {
	s := newStudio(t, Config{})
	h := holdJobs(s)
	st := s.mustSubmit(t, pngPhoto(t, 16, 16), small...)
	id := <-h.started
	res, err := http.Get(s.url + "/api/jobs/" + id + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events content type %q", res.Header.Get("Content-Type"))
	}
	h.release <- struct{}{}
	var events []Status
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var e Status
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
		}
	}
	if len(events) == 0 || events[len(events)-1].State != stateDone || events[len(events)-1].ID != st.ID {
		t.Fatalf("events %+v, want a stream ending done", events)
	}
	previews, last := 0, 0
	for _, e := range events {
		if e.Preview != "" {
			previews++
			if !strings.HasPrefix(e.Preview, "data:image/jpeg;base64,") {
				t.Errorf("preview %.40s is not a JPEG data URL", e.Preview)
			}
		}
		if e.Step < last {
			t.Errorf("step went back from %d to %d", last, e.Step)
		}
		last = e.Step
	}
	if previews == 0 {
		t.Error("no preview in the stream")
	}
	if last != 6 {
		t.Errorf("last step %d, want 6", last)
	}
}

func TestPreviewsOnlyWhenWatched(t *testing.T) {
	s := newStudio(t, Config{})
	st := s.mustSubmit(t, pngPhoto(t, 16, 16), small...)
	s.wait(t, st.ID)
	j := s.q.get(st.ID)
	if _, preview, _, _ := j.snapshot(); preview != nil {
		t.Error("a preview was encoded with nobody watching")
	}
}

func TestConfigLayersAndPage(t *testing.T) {
	s := newStudio(t, Config{})
	var cfg struct {
		Models []modelInfo
		Limits map[string]any
	}
	s.get(t, "/api/config", &cfg)
	if len(cfg.Models) != 1 || cfg.Models[0].Name != "tiny" || cfg.Limits["max_upload"].(float64) != DefaultMaxUpload {
		t.Errorf("config %+v", cfg)
	}
	var layers struct {
		DefaultLayer string `json:"default_layer"`
		Layers       []Layer
	}
	s.get(t, "/api/models/tiny/layers", &layers)
	want := []Layer{{Name: "conv", Tensor: "c", Channels: 4, Main: true}, {Name: "relu", Tensor: "r", Channels: 4, Main: true}}
	if layers.DefaultLayer != "relu" || !slices.Equal(layers.Layers, want) {
		t.Errorf("layers %+v, want %+v", layers, want)
	}
	res, err := http.Get(s.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Contains(page, []byte("DeepDream studio")) || res.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("page: %s, %d bytes, CSP %q", res.Status, len(page), res.Header.Get("Content-Security-Policy"))
	}
	files := []string{"/style.css"}
	for _, m := range regexp.MustCompile(`<script src="([^"]+)"`).FindAllSubmatch(page, -1) {
		files = append(files, "/"+string(m[1]))
	}
	if len(files) < 2 {
		t.Errorf("the page names no script")
	}
	for _, f := range files {
		if res := s.get(t, f, nil); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", f, res.Status)
		}
	}
}

func TestNewValidates(t *testing.T) {
	m := NewModel("tiny", tinyEntry(), tinyModel())
	for _, cfg := range []Config{
		{Models: []*Model{m}},
		{DataDir: t.TempDir()},
		{DataDir: t.TempDir(), Models: []*Model{m, m}},
	} {
		if s, err := New(cfg); err == nil {
			s.Close(false)
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
