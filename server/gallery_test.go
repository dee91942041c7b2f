package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestGallerySkipsMalformedEntries restarts the studio on a gallery
// directory that holds, beside a whole entry, what is not one: it lists
// the whole entry only, serves nothing of the others, removes the
// half-written one, and reports the malformed ones (in its log and in the
// gallery's "skipped", with the reason) without touching them.
func TestGallerySkipsMalformedEntries(t *testing.T) {
	data := t.TempDir()
	s := newStudio(t, Config{DataDir: data})
	st := s.mustSubmit(t, pngPhoto(t, 16, 16), small...)
	s.wait(t, st.ID)
	s.Close(false)
	gallery := filepath.Join(data, "gallery")
	whole := filepath.Join(gallery, st.ID)
	params, err := os.ReadFile(filepath.Join(whole, fileParams))
	if err != nil {
		t.Fatal(err)
	}

	// copyEntry copies the whole entry as id, with its params.json
	// changed by edit (nil: removed) and without the file lacking.
	copyEntry := func(id string, edit func(map[string]any), lacking string) {
		dir := filepath.Join(gallery, id)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{fileOriginal, fileResult, fileThumb} {
			if f == lacking {
				continue
			}
			b, err := os.ReadFile(filepath.Join(whole, f))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, f), b, 0o644)
		}
		if edit == nil {
			return
		}
		var p map[string]any
		json.Unmarshal(params, &p)
		p["id"] = id
		edit(p)
		b, _ := json.Marshal(p)
		os.WriteFile(filepath.Join(dir, fileParams), b, 0o644)
	}
	keep := func(map[string]any) {}
	copyEntry("1000000000000001", nil, "")         // half-written: removed
	copyEntry("1000000000000002", keep, fileThumb) // lacks its thumbnail
	copyEntry("1000000000000003", func(p map[string]any) { p["id"] = "1000000000000009" }, "")
	copyEntry("1000000000000004", func(p map[string]any) { p["original_format"] = "svg+xml" }, "")
	copyEntry("1000000000000005", func(p map[string]any) {
		p["params"].(map[string]any)["images"] = map[string]string{"mask.png": "../../etc/passwd"}
	}, "")
	copyEntry("1000000000000006", keep, "")
	os.WriteFile(filepath.Join(gallery, "1000000000000006", fileParams), []byte(`{"id": "1000000000000006", "params": {`), 0o644)
	copyEntry("not-an-id", keep, "")
	os.WriteFile(filepath.Join(gallery, "notes.txt"), []byte("mine"), 0o644)
	os.WriteFile(filepath.Join(gallery, ".DS_Store"), nil, 0o644)

	var mu sync.Mutex
	var log strings.Builder
	s2 := newStudio(t, Config{DataDir: data, Logf: func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&log, format+"\n", args...)
	}})
	var g struct {
		Entries []entryView
		Skipped []Skipped
	}
	s2.get(t, "/api/gallery", &g)
	if len(g.Entries) != 1 || g.Entries[0].ID != st.ID {
		t.Errorf("the gallery lists %+v, want the whole entry %s only", g.Entries, st.ID)
	}
	want := []Skipped{
		{"1000000000000002", "the entry lacks its thumb.jpg"},
		{"1000000000000003", `params.json: the entry's id "1000000000000009" is not its directory's name`},
		{"1000000000000004", `params.json: original_format "svg+xml" is not one of jpeg, png, gif, webp`},
		{"1000000000000005", `params.json: the image "mask.png" has no sha256 ("../../etc/passwd")`},
		{"1000000000000006", "params.json: unexpected end of JSON input"},
		{"not-an-id", "not an entry's directory: the name is not an entry's ID (16 hex digits)"},
		{"notes.txt", "not an entry's directory"},
	}
	if !slices.Equal(g.Skipped, want) {
		t.Errorf("skipped:\n%v\nwant\n%v", g.Skipped, want)
	}
	mu.Lock()
	logged := log.String()
	mu.Unlock()
	for _, sk := range want {
		if line := "gallery: skipping " + filepath.Join(gallery, sk.Name) + ": " + sk.Reason; !strings.Contains(logged, line) {
			t.Errorf("the log lacks %q:\n%s", line, logged)
		}
		if _, err := os.Stat(filepath.Join(gallery, sk.Name)); err != nil {
			t.Errorf("skipped %s was touched: %v", sk.Name, err)
		}
		if res := s2.do(t, "GET", "/api/gallery/"+sk.Name+"/"+fileResult); res.StatusCode != http.StatusNotFound {
			t.Errorf("the result of skipped %s: %s, want 404", sk.Name, res.Status)
		}
	}
	if _, err := os.Stat(filepath.Join(gallery, "1000000000000001")); !os.IsNotExist(err) {
		t.Errorf("the half-written entry is still there (%v)", err)
	}
}

// FuzzParseEntry reads params.json files: never a panic; one accepted
// names a format the studio can serve, a size, and images whose files'
// names are of the form the studio makes, and reads back the same.
func FuzzParseEntry(f *testing.F) {
	f.Add([]byte(`{"id":"0123456789abcdef","created":"2026-12-07T04:00:00Z","params":{"version":"test","model":"tiny","layers":["relu"],"octaves":1,"mask":"mask.png","images":{"mask.png":"` + strings.Repeat("ab", 32) + `"}},"original_format":"png","width":16,"height":16,"seconds":0.5}`))
	f.Add([]byte(`{"id":"0123456789abcdef","params":{"layers":[],"classes":null},"original_format":"jpeg","width":1,"height":1}`))
	f.Add([]byte(`{"params":{"images":{"a":"zz"}},"original_format":"gif","width":3,"height":-1}`))
	f.Add([]byte(`{"params":7}`))
	f.Add([]byte(`{"id":"0123456789abcdef","params":{"layers":["relu"]},"original_format":"png","width":16,"height":12,"kind":"zoom","motion":{"frames":48,"zoom":1.05,"pan":[0,0],"fps":"24"},"frames":48}`))
	f.Add([]byte(`{"id":"0123456789abcdef","params":{"layers":["relu"]},"original_format":"mp4","width":16,"height":12,"kind":"video","motion":{"blend":0.6,"flow":true},"frames":5}`))
	f.Add([]byte(`{"original_format":"mp4","width":1,"height":1,"kind":"dream"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := parseEntry(data)
		if err != nil {
			return
		}
		formats := []string{"jpeg", "png", "gif", "webp"}
		if e.Kind == "video" {
			formats = []string{"mp4", "webm", "avi"}
		}
		if !slices.Contains(formats, e.Format) || e.Width < 1 || e.Height < 1 || !slices.Contains([]string{"", "zoom", "video"}, e.Kind) {
			t.Fatalf("accepted %+v", e)
		}
		for _, im := range e.Params.Request.Images {
			if f := imageFile(im.SHA256); !validImage.MatchString(f) || filepath.Base(f) != f {
				t.Fatalf("accepted the image file %q", f)
			}
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseEntry(b)
		if err != nil {
			t.Fatalf("%s, written back as %s, is refused: %v", data, b, err)
		}
		if again.Format != e.Format || again.Width != e.Width || again.Params.String() != e.Params.String() {
			t.Fatalf("%s read back as %+v, not %+v", b, again, e)
		}
	})
}
