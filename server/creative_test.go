package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/tinynet"
	"github.com/deepdream-go/deepdream/models"
)

// The request's images (the mask, the guide) and classes in the studio.

// halfBlack returns a w x h PNG mask, black on its left half, white on
// its right.
func halfBlack(t testing.TB, w, h int) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := w / 2; x < w; x++ {
			img.SetGray(x, y, color.Gray{255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// fetch returns the body and content type of a GET.
func (s *studio) fetch(t *testing.T, path string) ([]byte, string) {
	t.Helper()
	res, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", path, res.Status, body)
	}
	return body, res.Header.Get("Content-Type")
}

// TestDreamWithAMaskAndAGuide sends a mask and a guide as files: the
// dream uses both (the mask's black half is left as it was; the guide
// changes the dream), records them by the names the studio gives them and
// their sha256, and the gallery keeps them with the entry, from which
// they dream the same dream again.
func TestDreamWithAMaskAndAGuide(t *testing.T) {
	s := newStudio(t, Config{})
	photo, mask, guide := pngPhoto(t, 24, 18), halfBlack(t, 24, 18), pngPhoto(t, 9, 13)
	fields := append(small, "layers=relu")
	st := s.mustSubmitFiles(t, []part{{"photo", photo}, {"mask", mask}, {"guide", guide}}, fields...)
	if end := s.wait(t, st.ID); end.State != stateDone {
		t.Fatalf("the dream ended %s: %s", end.State, end.Error)
	}
	e := s.entries(t)[0]
	req := e.Params.Request
	want := map[string]dream.Image{"mask.png": {SHA256: sha(mask)}, "guide.png": {SHA256: sha(guide)}}
	if req.Mask != "mask.png" || req.Guide != "guide.png" || len(req.Images) != 2 ||
		req.Images["mask.png"] != want["mask.png"] || req.Images["guide.png"] != want["guide.png"] {
		t.Errorf("recorded mask %q, guide %q, images %v; want mask.png and guide.png with %v", req.Mask, req.Guide, req.Images, want)
	}
	result, _ := s.fetch(t, e.Result)
	meta, err := imageio.ReadMetadata(bytes.NewReader(result))
	if err != nil {
		t.Fatal(err)
	}
	var rec dream.Record
	if err := json.Unmarshal([]byte(meta), &rec); err != nil || rec.Request.Images["guide.png"] != want["guide.png"] || rec.Request.Mask != "mask.png" {
		t.Errorf("embedded record %s, want the mask and the guide with their sha256", meta)
	}
	for name, data := range map[string][]byte{"mask.png": mask, "guide.png": guide} {
		got, ctype := s.fetch(t, e.Images[name])
		if !bytes.Equal(got, data) || ctype != "image/png" {
			t.Errorf("the entry's %s (%s): %d bytes as %s, want the %d uploaded as image/png", name, e.Images[name], len(got), ctype, len(data))
		}
	}
	if res := s.do(t, "GET", "/api/gallery/"+e.ID+"/image-"+strings.Repeat("0", 64)); res.StatusCode != http.StatusNotFound {
		t.Errorf("an image the entry does not have: %s, want 404", res.Status)
	}

	// The mask: its black half is the photo's, the white half dreamed.
	dreamed, orig := pixels(t, result), pixels(t, photo)
	left, right := 0, 0
	for y := range 18 {
		for x := range 24 {
			if i := 4 * (y*24 + x); !bytes.Equal(dreamed[i:i+4], orig[i:i+4]) {
				if x < 12 {
					left++
				} else {
					right++
				}
			}
		}
	}
	if left != 0 || right == 0 {
		t.Errorf("%d pixels changed under the mask's black half, %d under its white one; want none and some", left, right)
	}
	// The guide: without it, another dream.
	plain := s.mustSubmitFiles(t, []part{{"photo", photo}, {"mask", mask}}, fields...)
	s.wait(t, plain.ID)
	if unguided, _ := s.fetch(t, "/api/gallery/"+plain.ID+"/result.png"); bytes.Equal(pixels(t, unguided), pixels(t, result)) {
		t.Error("the guided dream is the unguided one")
	}

	// Dream again: the entry's original and images, sent back as the page
	// does, dream the same.
	m, _ := s.fetch(t, e.Images["mask.png"])
	g, _ := s.fetch(t, e.Images["guide.png"])
	again := s.mustSubmitFiles(t, []part{{"mask", m}, {"guide", g}}, append(fields, "source="+e.ID)...)
	s.wait(t, again.ID)
	if got, _ := s.fetch(t, "/api/gallery/"+again.ID+"/result.png"); !bytes.Equal(got, result) {
		t.Error("the dream made again from its gallery entry differs")
	}
	files, _ := filepath.Glob(filepath.Join(s.data, "gallery", e.ID, "image-*"))
	if len(files) != 2 {
		t.Errorf("the entry holds the images %v, want 2", files)
	}
}

// pixels returns the pixels of a PNG (its record aside).
func pixels(t *testing.T, file []byte) []byte {
	img, err := png.Decode(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	return imageio.NRGBA(img).Pix
}

func (s *studio) mustSubmitFiles(t *testing.T, files []part, fields ...string) Status {
	t.Helper()
	res, v := s.submitFiles(t, files, fields...)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /api/jobs: %s %v", res.Status, v)
	}
	return Status{ID: v["id"].(string), State: v["state"].(string)}
}

// TestImageRejections: an image field takes a file checked as the photo
// is (its size, its type, its pixels, its data), and nothing else.
func TestImageRejections(t *testing.T) {
	s := newStudio(t, Config{MaxUpload: 4000, MaxPixels: 30 * 30})
	photo, mask := pngPhoto(t, 20, 20), halfBlack(t, 20, 20)
	noisy := make([]byte, 6000)
	copy(noisy, mask)
	for _, tc := range []struct {
		name   string
		files  []part
		fields []string
		code   int
		msg    string
		field  string
	}{
		{"a mask as text", []part{{"photo", photo}}, []string{"mask=left.png"}, http.StatusBadRequest, `the mask is an image: send it as a file`, "mask"},
		{"a guide as text", []part{{"photo", photo}}, []string{"guide=/etc/passwd"}, http.StatusBadRequest, `not as the text "/etc/passwd"`, "guide"},
		{"two masks", []part{{"photo", photo}, {"mask", mask}, {"mask", mask}}, nil, http.StatusBadRequest, "send one mask per dream", ""},
		{"a mask over the upload limit", []part{{"photo", photo}, {"mask", noisy}}, nil, http.StatusRequestEntityTooLarge, "the mask is larger than the limit of 3.9 KB", ""},
		{"a guide of too many pixels", []part{{"photo", photo}, {"guide", pngPhoto(t, 40, 40)}}, nil, http.StatusRequestEntityTooLarge, "the guide has too many pixels", ""},
		{"a mask that is no image", []part{{"photo", photo}, {"mask", []byte("just some text, not an image at all")}}, nil, http.StatusUnsupportedMediaType, "the mask is not a photo the studio can read", ""},
		{"an empty guide", []part{{"photo", photo}, {"guide", nil}}, nil, http.StatusBadRequest, "the guide is empty", ""},
		{"a guide cut in its header", []part{{"photo", photo}, {"guide", mask[:20]}}, nil, http.StatusUnsupportedMediaType, "the guide cannot be read", ""},
		{"a layer's mask", []part{{"photo", photo}}, []string{"layers=relu@left.png"}, http.StatusBadRequest, "per-layer masks are the command line's", "layers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, v := s.submitFiles(t, tc.files, tc.fields...)
			msg, _ := v["error"].(string)
			field, _ := v["field"].(string)
			if res.StatusCode != tc.code || !strings.Contains(msg, tc.msg) || field != tc.field {
				t.Errorf("%s %v, want %d, a message with %q and field %q", res.Status, v, tc.code, tc.msg, tc.field)
			}
		})
	}
	// Past its header, a broken mask fails its job, as a broken photo does.
	st := s.mustSubmitFiles(t, []part{{"photo", photo}, {"mask", mask[:len(mask)-30]}}, small...)
	if end := s.wait(t, st.ID); end.State != stateFailed || !strings.HasPrefix(end.Error, "the mask cannot be read: ") {
		t.Errorf("a mask cut after its header: %s %q, want failed: the mask cannot be read", end.State, end.Error)
	}
}

// TestUploadsReserveEachFile: each file of an upload reserves the upload
// limit before it is read, so an upload with a mask needs room for two.
func TestUploadsReserveEachFile(t *testing.T) {
	const maxUpload = 20 << 20
	s := newStudio(t, Config{MaxUpload: maxUpload})
	photo, mask := pngPhoto(t, 16, 16), halfBlack(t, 16, 16)
	setBudget(s, maxUpload+maxUpload/2) // a file being received, and a small dream
	res, v := s.submitFiles(t, []part{{"photo", photo}, {"mask", mask}}, small...)
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(v["error"].(string), "memory budget") {
		t.Errorf("a photo and a mask with room for one file: %s %v, want 429", res.Status, v)
	}
	h := holdJobs(s)
	setBudget(s, 3*maxUpload)
	st := s.mustSubmitFiles(t, []part{{"photo", photo}, {"mask", mask}}, small...)
	<-h.started
	s.q.mu.Lock()
	held := s.q.held
	s.q.mu.Unlock()
	if want := int64(len(photo) + len(mask)); held != want {
		t.Errorf("the queue holds %d bytes for the job, want its files' %d", held, want)
	}
	h.release <- struct{}{}
	s.wait(t, st.ID)
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	if s.q.held != 0 {
		t.Errorf("after the dream the queue holds %d bytes", s.q.held)
	}
}

// classModel is tinynet's network with a classifier of three named
// classes, "red fox", "Arctic fox" and "goldfish".
func classModel(t testing.TB) *Model {
	p := tinyEntry().Profile
	p.Classes = tinynet.Classes
	net, err := dream.NewNetwork(tinynet.Classifier(0), p)
	if err != nil {
		t.Fatal(err)
	}
	return NewModel("classy", &models.Entry{Name: "classy", Profile: p}, net)
}

// TestClasses dreams classes by name and index, with weights, and
// refuses one the model cannot dream, naming it in "field" and "value"
// for the page to point at, with the candidates in the message.
func TestClasses(t *testing.T) {
	s := newStudio(t, Config{Models: []*Model{classModel(t), NewModel("tiny", tinyEntry(), tinyModel())}})
	photo := pngPhoto(t, 20, 16)
	st := s.mustSubmit(t, photo, append(small, "classes=goldfish=0.5", "classes=0=-1")...)
	if end := s.wait(t, st.ID); end.State != stateDone {
		t.Fatalf("a dream of classes ended %s: %s", end.State, end.Error)
	}
	if got := s.entries(t)[0].Params.Request; len(got.Layers) != 0 || strings.Join(got.Classes, " ") != "goldfish=0.5 0=-1" {
		t.Errorf("recorded layers %q and classes %q, want the classes alone", got.Layers, got.Classes)
	}
	for _, tc := range []struct {
		fields []string
		value  string
		msg    string
	}{
		{[]string{"classes=fox"}, "fox", `class "fox": ambiguous: red fox (0), Arctic fox (1)`},
		{[]string{"classes=goldfsh=2"}, "goldfsh=2", `no such class among the model's 3; closest: goldfish (2)`},
		{[]string{"classes=7"}, "7", "no such class: the classifier has 3, 0 to 2"},
		{[]string{"classes=goldfish=0"}, "goldfish=0", "is 0"},
		{[]string{"classes=goldfish", "model=tiny"}, "goldfish", "no classifier to dream classes with"},
	} {
		res, v := s.submit(t, photo, append(small, tc.fields...)...)
		if msg, _ := v["error"].(string); res.StatusCode != http.StatusBadRequest || !strings.Contains(msg, tc.msg) ||
			v["field"] != "classes" || v["value"] != tc.value {
			t.Errorf("%v: %s %v, want 400 with %q, field classes and value %q", tc.fields, res.Status, v, tc.msg, tc.value)
		}
	}
}

// TestFilesOfAnEntryAreOnlyItsOwn: the image files an entry serves are
// those its record names, by sha256, whatever is in its directory.
func TestFilesOfAnEntryAreOnlyItsOwn(t *testing.T) {
	s := newStudio(t, Config{})
	st := s.mustSubmit(t, pngPhoto(t, 16, 16), small...)
	s.wait(t, st.ID)
	stray := "image-" + strings.Repeat("ab", 32)
	if err := os.WriteFile(filepath.Join(s.data, "gallery", st.ID, stray), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{stray, "params.json", "image-..%2Fparams.json"} {
		if res := s.do(t, "GET", "/api/gallery/"+st.ID+"/"+file); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s of an entry: %s, want 404", file, res.Status)
		}
	}
}

// TestConfigListsPresetsAndClasses: /api/config lists the presets, each
// with its thumbnail, and /api/models/{name}/classes a model's class
// names, or why it has none to dream.
func TestConfigListsPresetsAndClasses(t *testing.T) {
	s := newStudio(t, Config{Models: []*Model{classModel(t), NewModel("tiny", tinyEntry(), tinyModel())}})
	var cfg struct{ Presets []presetInfo }
	s.get(t, "/api/config", &cfg)
	var listed []dream.Preset
	for _, p := range cfg.Presets {
		listed = append(listed, p.Preset)
		if p.Thumb == "" {
			if p.Name == "notebook" {
				t.Errorf("the preset %s has no thumbnail (web/static/presets/%[1]s.jpg)", p.Name)
			}
			continue // a preset added without one: the page shows its name alone
		}
		if res := s.do(t, "GET", p.Thumb); res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("the thumbnail of %s: %s %s, want a JPEG", p.Name, res.Status, res.Header.Get("Content-Type"))
		}
	}
	if want := dream.Presets(); !reflect.DeepEqual(listed, want) {
		t.Errorf("/api/config lists the presets %+v, want %+v", listed, want)
	}
	type classes struct {
		Model       string
		Classes     []string
		Unavailable string
	}
	var got classes
	s.get(t, "/api/models/classy/classes", &got)
	if want := (classes{Model: "classy", Classes: tinynet.Classes}); !reflect.DeepEqual(got, want) {
		t.Errorf("the classes of a classifier: %+v, want %+v", got, want)
	}
	got = classes{}
	s.get(t, "/api/models/tiny/classes", &got)
	if got.Model != "tiny" || got.Classes == nil || len(got.Classes) != 0 || !strings.HasPrefix(got.Unavailable, "no classifier to dream classes with: ") {
		t.Errorf("the classes of a model without a classifier: %+v, want none, and why", got)
	}
	if res := s.do(t, "GET", "/api/models/nope/classes"); res.StatusCode != http.StatusNotFound {
		t.Errorf("the classes of an unknown model: %s, want 404", res.Status)
	}
}
