package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/dream"
)

// writeMask writes a grey PNG of w x h, black on its left half and white
// on the right, and returns its path and sha256.
func writeMask(t *testing.T, path string, w, h int) (string, string) {
	t.Helper()
	m := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := w / 2; x < w; x++ {
			m.Pix[y*m.Stride+x] = 255
		}
	}
	savePNG(t, path, m)
	sum := sha256.Sum256(readFile(t, path))
	return path, hex.EncodeToString(sum[:])
}

// TestMaskFlagAndFrom dreams with --mask and a layer's @MASK, given as
// paths: the mask's black half stays as it was, the record names the
// mask by its base name with its sha256, and --from finds it again by
// that sha256 from another directory, renamed in an --images directory,
// to dream the same bytes; without it --from refuses, naming it. Two
// different masks of one name, and masks given to probe and bench, are
// refused.
func TestMaskFlagAndFrom(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 40, 30)
	masks := filepath.Join(dir, "masks")
	os.Mkdir(masks, 0o755)
	mask, sum := writeMask(t, filepath.Join(masks, "half.png"), 20, 15) // resized to the photo
	first := filepath.Join(dir, "first.png")
	ctx := context.Background()
	args := []string{"dream", photo, "-o", first, "--model", model, "--octaves", "2", "--iterations", "3", "-q",
		"--mask", mask, "--layer", "r:1=2@" + mask, "--keep-colors", "--laplacian", "2", "--smooth", "0.5"}
	if code, _, errOut := cli(t, ctx, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	in, _ := decodeFile(t, photo)
	out, _ := decodeFile(t, first)
	changed := [2]int{} // pixel bytes changed in the left, right half
	for i := range out.Pix {
		if out.Pix[i] != in.Pix[i] {
			changed[i%out.Stride/4*2/40]++
		}
	}
	if changed[0] != 0 || changed[1] == 0 {
		t.Errorf("%d bytes changed in the black half, %d in the white half: want none, some", changed[0], changed[1])
	}
	rec := embedded(t, first)
	want := dream.Image{SHA256: sum}
	if rec.Request.Mask != "half.png" || !reflect.DeepEqual(rec.Request.Layers, []string{"r:1=2@half.png"}) ||
		!reflect.DeepEqual(rec.Request.Images, map[string]dream.Image{"half.png": want}) {
		t.Errorf("record %+v, want the mask half.png with its sha256 %s, and no directory", rec.Request, sum)
	}

	moved := t.TempDir()
	if err := os.WriteFile(filepath.Join(moved, "renamed.png"), readFile(t, mask), 0o644); err != nil {
		t.Fatal(err)
	}
	writeMask(t, filepath.Join(moved, "half.png"), 4, 4) // another mask of the name
	t.Chdir(t.TempDir())
	again := filepath.Join(dir, "again.png")
	if code, _, errOut := cli(t, ctx, "dream", photo, "-o", again, "--model", model, "--from", first, "--images", moved, "-q"); code != 0 {
		t.Fatalf("--from with the mask moved and renamed: exit %d: %s", code, errOut)
	}
	if b, _ := decodeFile(t, again); !reflect.DeepEqual(b.Pix, out.Pix) {
		t.Error("--from with the mask moved and renamed dreamed something else")
	}
	if r := embedded(t, again); !reflect.DeepEqual(r.Request, rec.Request) {
		t.Errorf("--from recorded %+v, want %+v", r.Request, rec.Request)
	}
	code, _, errOut := cli(t, ctx, "dream", photo, "-o", again, "--model", model, "--from", first, "-q")
	if code != exitError || !strings.Contains(errOut, "the dream's mask half.png (sha256 "+sum+") is not in") || !strings.Contains(errOut, "--images DIR") {
		t.Errorf("--from without the mask: exit %d, %q; want a refusal naming it and its sha256", code, errOut)
	}
	// Flags win: no mask, and a layer without one.
	if code, _, errOut := cli(t, ctx, "dream", photo, "-o", again, "--model", model, "--from", first, "--mask", "", "--layer", "r", "-q"); code != 0 {
		t.Fatalf("--from --mask '': exit %d: %s", code, errOut)
	}
	if r := embedded(t, again); r.Request.Mask != "" || r.Request.Images != nil || !r.Request.KeepColors {
		t.Errorf("--from --mask '' --layer r recorded %+v, want no mask and the rest of the record", r.Request)
	}

	other, _ := writeMask(t, filepath.Join(moved, "half.png"), 6, 6)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"dream", photo, "-o", again, "--model", model, "--mask", mask, "--layer", "r@" + other}, "two different files are named half.png, the mask "},
		{[]string{"dream", photo, "-o", again, "--model", model, "--layer", "r@"}, "no mask after @"},
		{[]string{"probe", "--model", model, "--input", photo, "--layer", "r@" + mask}, "a mask (@" + mask + ") is for dream"},
		{[]string{"bench", "--model", model, "--layer", "r@" + mask}, "a mask (@" + mask + ") is for dream"},
	} {
		if code, _, errOut := cli(t, ctx, c.args...); code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, %q; want a usage error %q", c.args, code, errOut, c.want)
		}
	}
	// A mask is read before the model is loaded (this one does not exist).
	if code, _, errOut := cli(t, ctx, "dream", photo, "-o", again, "--model", filepath.Join(dir, "none.onnx"), "--mask", filepath.Join(dir, "none.png")); code != exitError || !strings.Contains(errOut, "none.png") {
		t.Errorf("a missing mask: exit %d, %q; want an error naming it", code, errOut)
	}
}
