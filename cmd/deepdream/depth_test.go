package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/imageio"
)

// pngBitDepth returns the bit depth of the PNG file at path (IHDR).
func pngBitDepth(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 25 {
		t.Fatalf("%s: %v", path, err)
	}
	return int(b[24])
}

// TestDreamDepth: a 16-bit photo's dream is 16-bit unless --depth 8 says,
// an 8-bit photo's 8-bit unless --depth 16; a JPEG cannot have 16.
func TestDreamDepth(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	deep := image.NewNRGBA64(image.Rect(0, 0, 24, 16))
	for y := range 16 {
		for x := range 24 {
			deep.SetNRGBA64(x, y, color.NRGBA64{uint16(2000 * x), uint16(3000 * y), 33333, 0xFFFF})
		}
	}
	photo16 := filepath.Join(dir, "photo16.png")
	if err := imageio.WriteFile(photo16, deep, imageio.EncodeOptions{}); err != nil {
		t.Fatal(err)
	}
	photo8 := writePNG(t, dir, 24, 16)
	for _, c := range []struct {
		photo string
		depth string // "" for the default
		want  int
	}{
		{photo16, "", 16},
		{photo16, "8", 8},
		{photo16, "16", 16},
		{photo8, "", 8},
		{photo8, "16", 16},
	} {
		out := filepath.Join(dir, "dream.png")
		args := []string{"dream", c.photo, "-o", out, "--model", model, "--octaves", "1", "--iterations", "1", "-q"}
		if c.depth != "" {
			args = append(args, "--depth", c.depth)
		}
		if code, _, errOut := cli(t, context.Background(), args...); code != 0 {
			t.Fatalf("%s --depth %q: exit %d: %s", filepath.Base(c.photo), c.depth, code, errOut)
		}
		if got := pngBitDepth(t, out); got != c.want {
			t.Errorf("%s --depth %q: a %d-bit PNG, want %d", filepath.Base(c.photo), c.depth, got, c.want)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", filepath.Join(dir, "x.jpg"), "--depth", "16"}, "dream: --depth 16: a JPEG has 8 bits a sample; write a .png for 16"},
		{[]string{"-o", filepath.Join(dir, "x.png"), "--depth", "12"}, "dream: --depth 12: want 8 or 16 (or 0: the photo's)"},
	} {
		args := append([]string{"dream", photo16, "--model", "missing.onnx"}, c.args...)
		if code, _, errOut := cli(t, context.Background(), args...); code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, %q; want exit %d, %q", c.args, code, errOut, exitUsage, c.want)
		}
	}
}

// TestDreamWarnsOfDroppedMetadata: a photo whose profile cannot be read is
// dreamed all the same, with a warning naming it and saying why.
func TestDreamWarnsOfDroppedMetadata(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := imageio.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 24, 16)), "jpeg", imageio.EncodeOptions{}); err != nil {
		t.Fatal(err)
	}
	// An APP2 chunk numbered 1 of 2, alone.
	app2 := append([]byte{0xFF, 0xE2, 0, 20}, "ICC_PROFILE\x00\x01\x02abcd"...)
	photo := filepath.Join(dir, "photo.jpg")
	if err := os.WriteFile(photo, append(append(buf.Bytes()[:2:2], app2...), buf.Bytes()[2:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cli(t, context.Background(), "dream", photo, "-o", filepath.Join(dir, "dream.png"), "--model", model, "--octaves", "1", "--iterations", "1", "-q")
	if want := "deepdream: warning: " + photo + ": ICC profile dropped: JPEG APP2 chunk 2 of 2 is missing\n"; code != 0 || errOut != want {
		t.Errorf("exit %d, stderr %q; want 0, %q", code, errOut, want)
	}
}
