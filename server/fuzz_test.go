package server

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzPhotos reads the small real photos of testdata.
func fuzzPhotos(tb testing.TB) [][]byte {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		tb.Fatal(err)
	}
	var photos [][]byte
	for _, name := range names {
		if strings.HasSuffix(name, ".md") {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		photos = append(photos, data)
	}
	if len(photos) < 5 {
		tb.Fatalf("testdata holds %d photos, want the 5 seeds of FuzzUpload", len(photos))
	}
	return photos
}

// TestFuzzSeedsArePhotos keeps FuzzUpload's seeds what they are meant to
// be: photos each format's header reads, which the studio admits.
func TestFuzzSeedsArePhotos(t *testing.T) {
	s := newStudio(t, Config{})
	for _, p := range fuzzPhotos(t) {
		res, v := s.submit(t, p, append(small, "max_size=16")...)
		if res.StatusCode != http.StatusAccepted {
			t.Errorf("seed %.12q: %s %v", p, res.Status, v)
		}
	}
}

// FuzzUpload feeds arbitrary request bodies to the upload path up to the
// queue: the multipart reader and its limits, the sniffing, the request's
// fields, the headers of the photo and of the request's images, the
// model's layers and the memory admission. Each must answer with an error
// the page can show or a job within the limits; none may panic or read
// past a limit. The seeds are
// the small real photos of testdata with the fields the page sends, one
// with a mask and a guide, and a zoom's.
//
//	go test -run '^$' -fuzz '^FuzzUpload$' -fuzztime 20000x ./server
func FuzzUpload(f *testing.F) {
	const maxUpload, maxPixels = 1 << 12, 64 * 64
	fields := []string{"model=tiny", "layers=relu:1", "octaves=2", "octave_scale=1.4", "iterations=3", "step=1.5", "jitter=2", "seed=5", "max_size=16", "winograd=true", "gallery=0"}
	var boundary string
	photos := fuzzPhotos(f)
	for _, photo := range photos {
		ctype, body := multipartBody(f, photo, fields...)
		_, boundary, _ = strings.Cut(ctype, "boundary=")
		f.Add(body, boundary)
	}
	_, body := multipartBody(f, nil, "source=0123456789abcdef", "layers=conv")
	f.Add(body, boundary)
	_, body = multipartForm(f, []part{{"photo", photos[0]}, {"mask", photos[1]}, {"guide", photos[2]}}, append(fields, "classes=goldfish=0.5", "laplacian=2", "smooth=1", "keep_colors=true")...)
	f.Add(body, boundary)
	_, body = multipartBody(f, photos[0], append(fields, "kind=zoom", "frames=3", "zoom=1.1", "rotate=-2", "pan=1,-1", "fps=30000/1001")...)
	f.Add(body, boundary)
	f.Add([]byte("--"+boundary+"--\r\n"), boundary)

	s, err := New(Config{
		DataDir: f.TempDir(), Models: []*Model{NewModel("tiny", tinyEntry(), tinyModel())},
		MaxUpload: maxUpload, MaxPixels: maxPixels, MaxMemory: 64 << 20, Logf: func(string, ...any) {},
	})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close(false)
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		req := httptest.NewRequest("POST", "/api/jobs", bytes.NewReader(body))
		req.Header.Set("Content-Type", fmt.Sprintf("multipart/form-data; boundary=%q", boundary))
		rec := httptest.NewRecorder()
		req.Body = http.MaxBytesReader(rec, req.Body, maxUpload+1<<12)
		files := 0
		form, err := readForm(req, maxUpload, func() error { files++; return nil })
		if err == nil {
			held := int64(len(form.photo))
			for _, u := range form.images {
				held += int64(len(u.data))
				if len(u.data) > maxUpload {
					t.Fatalf("read a %d-byte %s over the %d-byte limit", len(u.data), u.key, maxUpload)
				}
			}
			if len(form.photo) > maxUpload {
				t.Fatalf("read a %d-byte photo over the %d-byte limit", len(form.photo), maxUpload)
			}
			if n := len(form.images); files != n && files != n-1 {
				t.Fatalf("%d images read with %d more files reserved for", n, files)
			}
			var j *job
			if j, err = s.newJob(form); err == nil {
				j.cancel()
				if j.fileBytes != held || j.peak <= 0 || j.peak+j.fileBytes > s.q.memoryBudget() {
					t.Fatalf("job of %d bytes of files (%d read) with a peak of %d bytes, budget %d", j.fileBytes, held, j.peak, s.q.memoryBudget())
				}
				if err := j.record.Request.Validate(); err != nil {
					t.Fatalf("job with an invalid request: %v", err)
				}
				return
			}
		}
		var he *httpError
		if !errors.As(err, &he) || he.code < 400 || he.msg == "" {
			t.Fatalf("refusal %v is not an answer for the page", err)
		}
	})
}
