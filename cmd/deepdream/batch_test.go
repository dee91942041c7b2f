package main

import (
	"bytes"
	"context"
	"errors"
	"image/gif"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/shared"
)

// batchArgs are the flags of the tests' batches: the tiny network of
// writeONNX, one step.
func batchArgs(model string) []string {
	return []string{"--model", model, "--layer", "r", "--octaves", "1", "--iterations", "1", "--seed", "3", "-q"}
}

// smallPhotos caches writePhoto's files by name and extension: decoding
// the full-size photos is most of the batch tests' time.
var smallPhotos sync.Map

// writePhoto writes the photo of ../shared/images/name scaled down to
// 40 pixels wide at path, in the format of path's extension (.gif too).
func writePhoto(t *testing.T, name, path string) {
	t.Helper()
	key := name + filepath.Ext(path)
	data, ok := smallPhotos.Load(key)
	if !ok {
		img, err := imageio.ReadFile(shared.Path(t, filepath.Join("images", name)), 0)
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		small := imageio.Resize(img, 40, max(1, 40*b.Dy()/b.Dx()))
		var buf bytes.Buffer
		if filepath.Ext(path) == ".gif" {
			err = gif.Encode(&buf, small, nil)
		} else {
			format, _ := imageio.FormatFromPath(path)
			err = imageio.Encode(&buf, small, format, imageio.EncodeOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ = smallPhotos.LoadOrStore(key, buf.Bytes())
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data.([]byte), 0o644); err != nil {
		t.Fatal(err)
	}
}

// photoFolder makes a folder of tiny photos from ../shared/images, in
// subfolders, with a file that is not a photo and a hidden one, and
// returns it with the dreams a batch of it makes, by their paths under
// OUT_DIR.
func photoFolder(t *testing.T) (string, []string) {
	dir := filepath.Join(t.TempDir(), "photos")
	writePhoto(t, "dog.jpg", filepath.Join(dir, "dog.jpg"))
	writePhoto(t, "eagle.jpg", filepath.Join(dir, "birds", "eagle.png"))
	writePhoto(t, "person.jpg", filepath.Join(dir, "birds", "deeper", "person.jpeg"))
	writePhoto(t, "scream.jpg", filepath.Join(dir, "scream.gif"))
	writePhoto(t, "dog.jpg", filepath.Join(dir, ".hidden", "dog.jpg"))
	if err := os.WriteFile(filepath.Join(dir, "birds", "notes.txt"), []byte("not a photo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, []string{"birds/deeper/person.jpeg", "birds/eagle.png", "dog.jpg", "scream.png"}
}

// files returns the paths of the files under dir, relative to it, and
// their stats; none when there is no dir.
func files(t *testing.T, dir string) ([]string, map[string]os.FileInfo) {
	t.Helper()
	var names []string
	stats := map[string]os.FileInfo{}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, stats
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		names = append(names, rel)
		if stats[rel], err = os.Stat(path); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names, stats
}

// TestBatchDreamsEveryPhotoOnce dreams a folder: every photo once, in
// the same tree, each dream the one 'deepdream dream' makes of its photo;
// run again, it dreams nothing; with another parameter, everything again.
func TestBatchDreamsEveryPhotoOnce(t *testing.T) {
	model := writeONNX(t)
	in, want := photoFolder(t)
	out := filepath.Join(t.TempDir(), "dreams")
	ctx := context.Background()
	args := append([]string{"batch", in, "-o", out}, batchArgs(model)...)
	if code, _, errOut := cli(t, ctx, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got, first := files(t, out)
	if !slices.Equal(got, want) {
		t.Fatalf("the batch wrote %v, want %v", got, want)
	}
	// Each dream is dream's of its photo.
	for photo, dreamed := range map[string]string{"dog.jpg": "dog.jpg", "birds/eagle.png": "birds/eagle.png", "scream.gif": "scream.png"} {
		single := filepath.Join(t.TempDir(), filepath.Base(dreamed))
		if code, _, errOut := cli(t, ctx, append([]string{"dream", filepath.Join(in, photo), "-o", single}, batchArgs(model)...)...); code != 0 {
			t.Fatalf("dream %s: exit %d: %s", photo, code, errOut)
		}
		a, _ := os.ReadFile(single)
		b, _ := os.ReadFile(filepath.Join(out, dreamed))
		if !bytes.Equal(a, b) {
			t.Errorf("the batch's dream of %s is not dream's", photo)
		}
	}

	// Again: nothing is dreamed (no file written again), and it says so.
	time.Sleep(10 * time.Millisecond) // so that a file written again has another time
	code, _, errOut := cli(t, ctx, append(args[:len(args)-1], "--quiet=false")...)
	if code != 0 || !strings.Contains(errOut, "4 photos: 0 dreamed, 4 already dreamed; 1 other files left alone") {
		t.Fatalf("again: exit %d, stderr:\n%s", code, errOut)
	}
	_, again := files(t, out)
	for _, name := range want {
		if !os.SameFile(first[name], again[name]) || !first[name].ModTime().Equal(again[name].ModTime()) {
			t.Errorf("%s was written again", name)
		}
	}

	// A photo changed since its dream (its dream older than it): that
	// one again.
	earlier := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(out, "birds", "eagle.png"), earlier, earlier); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = cli(t, ctx, append(args[:len(args)-1], "--quiet=false")...)
	if code != 0 || !strings.Contains(errOut, "4 photos: 1 dreamed, 3 already dreamed") || !strings.Contains(errOut, "birds/eagle.png dreamed in") {
		t.Fatalf("after changing eagle.png: exit %d, stderr:\n%s", code, errOut)
	}

	// --from a dream of the batch: its parameters, so nothing again here,
	// and the same dreams elsewhere.
	from := filepath.Join(out, "dog.jpg")
	code, _, errOut = cli(t, ctx, "batch", in, "-o", out, "--from", from, "--model", model)
	if code != 0 || !strings.Contains(errOut, "4 photos: 0 dreamed, 4 already dreamed") {
		t.Fatalf("--from %s: exit %d, stderr:\n%s", from, code, errOut)
	}
	other := filepath.Join(t.TempDir(), "other")
	if code, _, errOut := cli(t, ctx, "batch", in, "-o", other, "--from", from, "--model", model, "-q"); code != 0 {
		t.Fatalf("--from %s -o %s: exit %d, stderr:\n%s", from, other, code, errOut)
	}
	for _, name := range want {
		a, _ := os.ReadFile(filepath.Join(out, name))
		b, _ := os.ReadFile(filepath.Join(other, name))
		if !bytes.Equal(a, b) {
			t.Errorf("the batch --from the dream of dog.jpg made another %s", name)
		}
	}

	// Another parameter: every photo is dreamed again.
	code, _, errOut = cli(t, ctx, append(args, "--step", "2", "--quiet=false")...)
	if code != 0 || !strings.Contains(errOut, "4 photos: 4 dreamed, 0 already dreamed") {
		t.Fatalf("--step 2: exit %d, stderr:\n%s", code, errOut)
	}
	meta, err := imageio.ReadMetadataFile(filepath.Join(out, "dog.jpg"))
	if err != nil || !strings.Contains(meta, `"step":2`) {
		t.Errorf("after --step 2 the dream of dog.jpg records %s (%v)", meta, err)
	}
}

// TestBatchGoesOnAfterAFailure: a damaged photo, and a photo whose dream
// would be another's, are named with the reason; the others are dreamed,
// and the batch exits 1 with a summary.
func TestBatchGoesOnAfterAFailure(t *testing.T) {
	model := writeONNX(t)
	in, _ := photoFolder(t)
	if err := os.WriteFile(filepath.Join(in, "birds", "broken.png"), []byte("not a PNG"), 0o644); err != nil {
		t.Fatal(err)
	}
	writePhoto(t, "eagle.jpg", filepath.Join(in, "scream.png")) // scream.gif's dream is scream.png too
	out := filepath.Join(t.TempDir(), "dreams")
	code, _, errOut := cli(t, context.Background(), append([]string{"batch", in, "-o", out}, batchArgs(model)...)...)
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	for _, want := range []string{
		"deepdream: batch: " + filepath.Join(in, "birds", "broken.png") + ": imageio: image: unknown format",
		"deepdream: batch: " + filepath.Join(in, "scream.png") + ": its dream " + filepath.Join(out, "scream.png") + " would be the dream of scream.gif too",
		"deepdream: batch: 6 photos: 4 dreamed, 0 already dreamed, 2 failed (birds/broken.png, scream.png); 1 other files left alone",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	got, _ := files(t, out)
	if want := []string{"birds/deeper/person.jpeg", "birds/eagle.png", "dog.jpg", "scream.png"}; !slices.Equal(got, want) {
		t.Errorf("the batch wrote %v, want %v", got, want)
	}
}

// TestBatchFormatAndRefusals: --format jpg writes every dream as .jpg; a
// file in the way that is no dream is left alone; the folders and flags
// batch cannot work with are refused before anything is dreamed.
func TestBatchFormatAndRefusals(t *testing.T) {
	model := writeONNX(t)
	in, _ := photoFolder(t)
	out := filepath.Join(t.TempDir(), "dreams")
	if err := os.MkdirAll(filepath.Join(out, "birds"), 0o755); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(out, "birds", "eagle.jpg")
	if err := os.WriteFile(notes, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	code, _, errOut := cli(t, ctx, append([]string{"batch", in, "-o", out, "--format", "jpg"}, batchArgs(model)...)...)
	if code != exitError || !strings.Contains(errOut, notes+" is in the way of its dream, and is not a dream of deepdream") {
		t.Errorf("a file in the way: exit %d, stderr:\n%s", code, errOut)
	}
	if b, _ := os.ReadFile(notes); string(b) != "mine" {
		t.Error("batch wrote over a file that is not a dream")
	}
	got, _ := files(t, out)
	if want := []string{"birds/deeper/person.jpg", "birds/eagle.jpg", "dog.jpg", "scream.jpg"}; !slices.Equal(got, want) {
		t.Errorf("--format jpg wrote %v, want %v", got, want)
	}

	photo := filepath.Join(in, "dog.jpg")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"batch", in}, 2, "-o OUT_DIR is required"},
		{[]string{"batch", in, "-o", in}, 2, "is the folder of the photos"},
		{[]string{"batch", photo, "-o", out}, 2, "is not a folder (dream a photo with 'deepdream dream')"},
		{[]string{"batch", in, "-o", photo}, 2, "-o " + photo + " is not a folder"},
		{[]string{"batch", in, "-o", out, "--format", "bmp"}, 2, "--format bmp: want png or jpg"},
		{[]string{"batch", in, "-o", out, "--depth", "16"}, 2, "add --format png"},
		{[]string{"batch", in, "-o", out, "--octaves", "0"}, 2, "--octaves"},
		{[]string{"batch", filepath.Join(in, "birds", "deeper"), "-o", out, "--layer", "nope"}, 1, "nope"},
		{[]string{"batch", filepath.Join(in, ".hidden", "none"), "-o", out}, 1, "no such file"},
	} {
		code, _, errOut := cli(t, ctx, append(c.args, "--model", model, "-q")...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want exit %d mentioning %q", c.args[1:], code, errOut, c.code, c.want)
		}
	}
	empty := t.TempDir()
	if code, _, errOut := cli(t, ctx, "batch", empty, "-o", filepath.Join(empty, "out"), "--model", model); code != exitError || !strings.Contains(errOut, "holds no photos") {
		t.Errorf("an empty folder: exit %d, %q", code, errOut)
	}
}

// TestBatchInterruptedLeavesNoPartialFile cancels the batch during its
// first photo, as Ctrl-C would: exit 130, no dream written.
func TestBatchInterruptedLeavesNoPartialFile(t *testing.T) {
	model := writeONNX(t)
	in, _ := photoFolder(t)
	out := filepath.Join(t.TempDir(), "dreams")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOnWrite{cancel: cancel}
	args := append([]string{"batch", in, "-o", out}, batchArgs(model)...)
	code := run(ctx, append(args[:len(args)-1], "--octaves", "2"), &bytes.Buffer{}, w)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitInterrupted, w.buf.String())
	}
	if got, _ := files(t, out); len(got) != 0 {
		t.Errorf("an interrupted batch left %v", got)
	}
}
