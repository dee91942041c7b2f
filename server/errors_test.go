package server

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/models"
)

// TestErrorsNameNoServerPath makes the files under the studio fail (a
// model that is gone, a gallery original deleted behind its back, a
// gallery that cannot be written or deleted from) and checks that the page
// is told what failed but not where.
func TestErrorsNameNoServerPath(t *testing.T) {
	dir := t.TempDir()
	entry := &models.Entry{Name: "gone", Profile: tinyEntry().Profile}
	s := newStudio(t, Config{Models: []*Model{NewModel("tiny", tinyEntry(), tinyModel()), OpenModel("gone", entry, filepath.Join(dir, "gone.onnx"))}})
	check := func(what string, code int, msg string, wantCode int, want string) {
		t.Helper()
		if code != wantCode || !strings.Contains(msg, want) || strings.Contains(msg, dir) || strings.Contains(msg, s.data) || strings.Contains(msg, "/") {
			t.Errorf("%s: %d %q, want %d and %q without a path", what, code, msg, wantCode, want)
		}
	}
	code, msg := s.request(t, "GET", "/api/models/gone/layers", "127.0.0.1", "")
	check("the layers of a missing model", code, msg, http.StatusInternalServerError, "model gone cannot be loaded")
	res, v := s.submit(t, pngPhoto(t, 16, 16), append(small, "model=gone")...)
	check("a dream with a missing model", res.StatusCode, fmt.Sprint(v["error"]), http.StatusInternalServerError, "model gone cannot be loaded")

	st := s.mustSubmit(t, pngPhoto(t, 16, 16), small...)
	s.wait(t, st.ID)
	os.Remove(filepath.Join(s.data, "gallery", st.ID, fileOriginal))
	code, msg = s.request(t, "GET", "/api/gallery/"+st.ID+"/original", "127.0.0.1", "")
	check("a missing original", code, msg, http.StatusNotFound, "no such file or directory")
	res, v = s.submit(t, nil, append(small, "source="+st.ID)...)
	check("dreaming a missing original again", res.StatusCode, fmt.Sprint(v["error"]), http.StatusInternalServerError, "no such file or directory")

	// A file where the gallery's temporary directory should be: nothing
	// can be written, or deleted (entries are moved there first).
	tmp := filepath.Join(s.data, "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	failed := s.wait(t, s.mustSubmit(t, pngPhoto(t, 16, 16), small...).ID)
	check("a gallery that cannot be written", http.StatusOK, failed.Error, http.StatusOK, "could not be saved in the gallery: not a directory")
	code, msg = s.request(t, "DELETE", "/api/gallery/"+st.ID, "127.0.0.1", "")
	check("a gallery entry that cannot be deleted", code, msg, http.StatusInternalServerError, "deleting the entry: not a directory")
}
