package server

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
)

// Files of a gallery entry directory. Paths are only ever made from these
// names and an ID this package generated.
const (
	fileOriginal = "original" // the uploaded bytes, as sent
	fileResult   = "result.png"
	fileThumb    = "thumb.jpg"
	fileParams   = "params.json" // written last: its presence marks a whole entry
	// fileImage prefixes the sha256 of each image of the request (a mask,
	// the guide), stored as uploaded: "image-" and 64 hex digits.
	fileImage = "image-"
)

var validImage = regexp.MustCompile(`^` + fileImage + `[0-9a-f]{64}$`)

// imageFile returns the file of an entry's image of this sha256.
func imageFile(sha256 string) string { return fileImage + sha256 }

// hasImage reports whether file is the file of one of e's images.
func (e *Entry) hasImage(file string) bool {
	if !validImage.MatchString(file) {
		return false
	}
	for _, im := range e.Params.Request.Images {
		if imageFile(im.SHA256) == file {
			return true
		}
	}
	return false
}

// thumbSize is the longer side of gallery thumbnails.
const thumbSize = 320

// Entry is a finished dream in the gallery, as params.json stores it.
type Entry struct {
	ID      string       `json:"id"`
	Created time.Time    `json:"created"`
	Params  dream.Record `json:"params"`
	// Format is the sniffed format of the original ("jpeg", "png", "gif", "webp").
	Format  string  `json:"original_format"`
	Width   int     `json:"width"` // of the result
	Height  int     `json:"height"`
	Seconds float64 `json:"seconds"` // time spent dreaming
}

var validID = regexp.MustCompile(`^[0-9a-f]{16}$`)

// newID returns 16 random hex digits.
func newID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b[:])
}

// gallery is the directory of finished dreams, one subdirectory per entry
// named by its ID. An entry is built in a temporary directory and renamed
// into place whole; deleting renames it out first. So the gallery directory
// only ever holds whole entries, whatever happens to the process.
type gallery struct {
	dir, tmp string

	mu      sync.Mutex
	entries map[string]*Entry
}

// openGallery loads the gallery under dataDir, creating it if needed, and
// removes what an interrupted write or delete left in the temporary area.
func openGallery(dataDir string) (*gallery, error) {
	g := &gallery{dir: filepath.Join(dataDir, "gallery"), tmp: filepath.Join(dataDir, "tmp"), entries: map[string]*Entry{}}
	if err := os.RemoveAll(g.tmp); err != nil {
		return nil, fmt.Errorf("server: clearing %s: %w", g.tmp, err)
	}
	for _, d := range []string{g.dir, g.tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	des, err := os.ReadDir(g.dir)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	for _, de := range des {
		if !de.IsDir() || !validID.MatchString(de.Name()) {
			continue
		}
		e, err := readEntry(filepath.Join(g.dir, de.Name(), fileParams))
		if err != nil || e.ID != de.Name() {
			continue // not an entry of ours
		}
		g.entries[e.ID] = e
	}
	return g, nil
}

func readEntry(path string) (*Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// add writes an entry: the original bytes, the request's images as
// uploaded (by sha256, as e.Params names them), the result PNG (with the
// parameters embedded), a thumbnail of the result image, and params.json.
func (g *gallery) add(e *Entry, original []byte, images map[string][]byte, resultPNG []byte, result image.Image) error {
	var thumb bytes.Buffer
	if err := imageio.Encode(&thumb, fit(result, thumbSize), "jpeg", imageio.EncodeOptions{Quality: 80}); err != nil {
		return err
	}
	params, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(g.tmp, e.ID+"-")
	if err != nil {
		return fmt.Errorf("server: gallery: %w", err)
	}
	type file struct {
		name string
		data []byte
	}
	files := []file{{fileOriginal, original}}
	for sum, data := range images {
		files = append(files, file{imageFile(sum), data})
	}
	files = append(files, file{fileResult, resultPNG}, file{fileThumb, thumb.Bytes()}, file{fileParams, params})
	for _, f := range files {
		err := atomicfile.Write(filepath.Join(dir, f.name), func(w io.Writer) error { _, err := w.Write(f.data); return err })
		if err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("server: gallery: %w", err)
		}
	}
	if err := os.Rename(dir, filepath.Join(g.dir, e.ID)); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("server: gallery: %w", err)
	}
	syncDir(g.dir)
	g.mu.Lock()
	g.entries[e.ID] = e
	g.mu.Unlock()
	return nil
}

// syncDir makes a rename in dir durable; failure only weakens that.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// list returns the entries, newest first.
func (g *gallery) list() []*Entry {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*Entry, 0, len(g.entries))
	for _, e := range g.entries {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *Entry) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

func (g *gallery) get(id string) *Entry {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.entries[id]
}

// path returns the path of one of an entry's files (a file* constant).
func (g *gallery) path(e *Entry, file string) string {
	return filepath.Join(g.dir, e.ID, file)
}

// remove deletes an entry: out of the gallery directory in one rename,
// then from the disk.
func (g *gallery) remove(id string) (bool, error) {
	g.mu.Lock()
	e := g.entries[id]
	delete(g.entries, id)
	g.mu.Unlock()
	if e == nil {
		return false, nil
	}
	trash := filepath.Join(g.tmp, "deleted-"+e.ID)
	if err := os.Rename(filepath.Join(g.dir, e.ID), trash); err != nil {
		return true, fmt.Errorf("server: gallery: deleting %s: %w", e.ID, err)
	}
	syncDir(g.dir)
	return true, os.RemoveAll(trash)
}

// fit returns img scaled down so that its longer side is at most size.
func fit(img image.Image, size int) image.Image {
	b := img.Bounds()
	w, h := dreamSize(b.Dx(), b.Dy(), size)
	if w == b.Dx() && h == b.Dy() {
		return img
	}
	return imageio.Resize(img, w, h)
}
