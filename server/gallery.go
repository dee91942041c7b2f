package server

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
	"github.com/deepdream-go/deepdream/motion"
)

// Files of a gallery entry directory. Paths are only ever made from these
// names and an ID this package generated.
const (
	fileOriginal = "original" // the uploaded bytes, as sent
	fileResult   = "result.png"
	fileVideo    = "result.mp4" // the result of a zoom or a video job
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
	// Kind is the job's: "" for a dream (result.png), "zoom" or "video"
	// for an animation (result.mp4, its record in its comment tag);
	// Motion its options by their keys (motion.Options.Values) and Frames
	// its frame count. Format is then a video's original's ("mp4",
	// "webm", "avi").
	Kind   string         `json:"kind,omitempty"`
	Motion map[string]any `json:"motion,omitempty"`
	Frames int            `json:"frames,omitempty"`
}

// resultFile is the name of the entry's result: an animation's MP4 or a
// dream's PNG.
func (e *Entry) resultFile() string {
	if e.Kind != "" {
		return fileVideo
	}
	return fileResult
}

// originalType is the content type of the entry's original.
func (e *Entry) originalType() string {
	if e.Kind == motion.Video {
		return "video/" + e.Format
	}
	return "image/" + e.Format
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
	// skipped are what openGallery found in the gallery directory and
	// did not load; set once.
	skipped []Skipped
}

// Skipped is something in the gallery directory that is not a whole
// entry (a directory of an entry whose params.json is malformed or names
// a file it lacks, a file of someone else's), by its name there, and why.
// The gallery leaves it where it is, for its owner to mend or remove.
type Skipped struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// openGallery loads the gallery under dataDir, creating it if needed. It
// removes what an interrupted write or delete left in the temporary area,
// and the directories of entries that lack their params.json (written
// last: an entry half-written by a version that wrote entries in place).
// What else is not a whole entry it skips, and lists in skipped.
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
		name := de.Name()
		if strings.HasPrefix(name, ".") {
			continue // a desktop's or an editor's, not ours to report
		}
		dir := filepath.Join(g.dir, name)
		e, err := loadEntry(dir, name)
		var half halfWritten
		switch {
		case errors.As(err, &half):
			if err := os.RemoveAll(dir); err != nil {
				g.skipped = append(g.skipped, Skipped{name, fmt.Sprintf("half-written (no %s), and cannot be removed: %s", fileParams, withoutPath(err))})
			}
		case err != nil:
			g.skipped = append(g.skipped, Skipped{name, err.Error()})
		default:
			g.entries[e.ID] = e
		}
	}
	return g, nil
}

// halfWritten is loadEntry's error for an entry's directory without its
// params.json.
type halfWritten struct{ error }

// loadEntry reads the entry in dir, named name in the gallery directory,
// and checks that it is whole: an ID that is its name, the parameters of
// a dream, and every file they name. Errors say what is wrong, without
// the path (the studio shows them).
func loadEntry(dir, name string) (*Entry, error) {
	st, err := os.Lstat(dir)
	switch {
	case err != nil:
		return nil, errors.New(withoutPath(err))
	case !st.IsDir():
		return nil, errors.New("not an entry's directory")
	case !validID.MatchString(name):
		return nil, errors.New("not an entry's directory: the name is not an entry's ID (16 hex digits)")
	}
	data, err := os.ReadFile(filepath.Join(dir, fileParams))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, halfWritten{fmt.Errorf("no %s", fileParams)}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s", fileParams, withoutPath(err))
	}
	e, err := parseEntry(data)
	if err != nil {
		return nil, err
	}
	if e.ID != name {
		return nil, fmt.Errorf("%s: the entry's id %q is not its directory's name", fileParams, e.ID)
	}
	need := []string{fileOriginal, e.resultFile(), fileThumb}
	for _, im := range e.Params.Request.Images {
		need = append(need, imageFile(im.SHA256))
	}
	for _, f := range need {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || !st.Mode().IsRegular() {
			return nil, fmt.Errorf("the entry lacks its %s", f)
		}
	}
	return e, nil
}

// parseEntry reads an entry's params.json and checks what the studio
// takes from it: a format it can name as a type, a size, the images'
// sha256 (their files' names).
func parseEntry(data []byte) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("%s: %v", fileParams, err)
	}
	formats := []string{"jpeg", "png", "gif", "webp"}
	switch e.Kind {
	case "", motion.Zoom:
	case motion.Video:
		formats = slices.Collect(maps.Values(sniffedVideo))
		slices.Sort(formats)
	default:
		return nil, fmt.Errorf("%s: kind %q is not one of zoom, video (or none: a dream)", fileParams, e.Kind)
	}
	if !slices.Contains(formats, e.Format) {
		return nil, fmt.Errorf("%s: original_format %q is not one of %s", fileParams, e.Format, strings.Join(formats, ", "))
	}
	if e.Width < 1 || e.Height < 1 {
		return nil, fmt.Errorf("%s: the result's size %dx%d", fileParams, e.Width, e.Height)
	}
	for name, im := range e.Params.Request.Images {
		if !validImage.MatchString(imageFile(im.SHA256)) {
			return nil, fmt.Errorf("%s: the image %q has no sha256 (%q)", fileParams, name, im.SHA256)
		}
	}
	return &e, nil
}

// add writes an entry: the original bytes, the request's images as
// uploaded (by sha256, as e.Params names them), the result file (a PNG
// or an animation's MP4, with the parameters embedded), a thumbnail of
// the result image (an animation's last frame), and params.json.
func (g *gallery) add(e *Entry, original []byte, images map[string][]byte, resultFile []byte, result image.Image) error {
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
	files = append(files, file{e.resultFile(), resultFile}, file{fileThumb, thumb.Bytes()}, file{fileParams, params})
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
	w, h := dream.DreamSize(b.Dx(), b.Dy(), size)
	if w == b.Dx() && h == b.Dy() {
		return img
	}
	return imageio.Resize(img, w, h)
}
