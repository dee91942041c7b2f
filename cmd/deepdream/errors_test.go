package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/models"
)

// TestErrorsSayWhatIsWrong checks the messages of common mistakes, each
// of which used to say something else: a float64 .npy (a shape
// complaint), empty files (a parser's complaint), a photo over
// --max-pixels (no flag named), unknown subcommands (exit 1, or the help
// and exit 0).
func TestErrorsSayWhatIsWrong(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 40, 30)
	f64 := filepath.Join(dir, "x64.npy")
	header := "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3, 2, 2), }"
	header += strings.Repeat(" ", 128-10-len(header)-1) + "\n"
	data := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), 0)
	data = append(append(data, header...), make([]byte, 8*12)...)
	if err := os.WriteFile(f64, data, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	emptyModel := empty("empty.onnx")
	out := filepath.Join(dir, "o.png")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"probe", "--model", model, "--input", f64, "--layer", "r"}, 1, "x64.npy: dtype float64, want float32"},
		{[]string{"probe", "--model", model, "--input", empty("e.npy"), "--layer", "r"}, 1, "e.npy: npy: the file is empty"},
		{[]string{"dream", empty("e.png"), "-o", out, "--model", model}, 1, "e.png: imageio: the file is empty"},
		{[]string{"dream", photo, "-o", out, "--model", model, "--from", empty("r.png")}, 1, "r.png: imageio: the file is empty"},
		{[]string{"dream", photo, "-o", out, "--model", emptyModel}, 1, "the model file " + emptyModel + " is empty"},
		{[]string{"classify", "--model", model, "--max-pixels", "100", photo}, 1, "over the limit of 100 pixels: image is too large (--max-pixels raises the limit; --max-size does not lower it"},
		{[]string{"dream", photo, "-o", out, "--model", model, "--max-pixels", "100", "--max-size", "16"}, 1, "(--max-pixels raises the limit"},
		{[]string{"foo"}, 2, `unknown command "foo" for "deepdream"`},
		{[]string{"models", "foo"}, 2, `unknown command "foo" for "deepdream models"`},
		{[]string{"models", "lst"}, 2, "did you mean list?"},
	} {
		code, _, errOut := cli(t, context.Background(), c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, %q; want exit %d saying %q", strings.Join(c.args, " "), code, errOut, c.code, c.want)
		}
	}
	if err := os.WriteFile(model+".json", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cli(t, context.Background(), "layers", "--model", model)
	if code != 1 || !strings.Contains(errOut, "sidecar "+model+".json is empty") {
		t.Errorf("an empty sidecar: exit %d, %q", code, errOut)
	}
	_, help, _ := cli(t, context.Background(), "dream", "-h")
	if !strings.Contains(help, "--model NAME|FILE ") {
		t.Errorf("dream -h does not show --model NAME|FILE:\n%s", help)
	}
}

// TestDamagedCachedModel puts a file of GoogLeNet's size but not its
// bytes in the cache: using it points to models verify and models pull,
// where the engine's parse error was all.
func TestDamagedCachedModel(t *testing.T) {
	cache := t.TempDir()
	t.Setenv(models.EnvDir, cache)
	e, err := models.Lookup("googlenet")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.Path(cache), []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(e.Path(cache), e.Size); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	code, _, errOut := cli(t, context.Background(), "classify", "--offline", writePNG(t, t.TempDir(), 8, 8))
	if code != 1 || !strings.Contains(errOut, "'deepdream models verify googlenet' checks it, 'deepdream models pull googlenet' downloads it again") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

// TestModelsImportWrongFileAndPullRepairs imports a file longer than the
// model's (its size is said exactly, with the way to dream with it as it
// is, where "more than N bytes" was), then damages the cached copy: pull
// downloads it again (it kept the damaged file, whose size was right).
func TestModelsImportWrongFileAndPullRepairs(t *testing.T) {
	e, data := fakeEntry(t)
	opts := models.Options{Entries: []models.Entry{e}}
	cache := t.TempDir()
	long := filepath.Join(t.TempDir(), "other.onnx")
	if err := os.WriteFile(long, append(data, "more"...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := runModels(t, opts, cache, "import", "fake", long)
	if want := long + " is " + strconv.Itoa(len(data)+4) + " bytes, not the file of fake"; err == nil || !strings.Contains(err.Error(), want) ||
		!strings.Contains(err.Error(), "pass --model "+long) {
		t.Errorf("import of a longer file: %v; want %q", err, want)
	}
	if _, _, err := runModels(t, opts, cache, "import", "fake", filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("import of a missing file worked")
	}
	empty := filepath.Join(t.TempDir(), "empty.onnx")
	os.WriteFile(empty, nil, 0o644)
	if _, _, err := runModels(t, opts, cache, "import", "fake", empty); err == nil || !strings.Contains(err.Error(), empty+" is empty") {
		t.Errorf("import of an empty file: %v", err)
	}

	damaged := append([]byte(nil), data...)
	damaged[10] ^= 1
	if err := os.WriteFile(e.Path(cache), damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runModels(t, opts, cache, "pull", "fake"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, e.Path(cache)); string(got) != string(data) {
		t.Error("pull left the damaged file")
	}
}
