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

// TestOutputCheckedBeforeWork dreams into outputs that cannot be written:
// each fails before the model is loaded (it does not exist) or the photo
// read (it is no image), naming the output, never a temporary file.
func TestOutputCheckedBeforeWork(t *testing.T) {
	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.png")
	if err := os.WriteFile(photo, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(dir, "out.png")
	readOnly := filepath.Join(dir, "ro")
	for _, d := range []string{outDir, readOnly} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(readOnly, 0o555)
	cases := map[string]string{
		outDir:                                 "is a directory",
		filepath.Join(dir, "missing", "o.png"): "no such file or directory",
		filepath.Join(photo, "o.png"):          "not a directory",
	}
	if os.Geteuid() != 0 { // root writes anywhere
		cases[filepath.Join(readOnly, "o.png")] = "permission denied"
	}
	for out, want := range cases {
		for _, args := range [][]string{
			{"dream", photo, "-o", out},
			{"probe", "--input", photo, "--layer", "r", "--out", out},
		} {
			code, _, errOut := cli(t, context.Background(), append(args, "--model", filepath.Join(dir, "missing.onnx"))...)
			if code != exitError || !strings.Contains(errOut, out) || !strings.Contains(errOut, want) || strings.Contains(errOut, ".tmp-") {
				t.Errorf("%s: exit %d, %q; want exit 1 naming the output, saying %q", strings.Join(args, " "), code, errOut, want)
			}
		}
	}
}

// TestTransparentPhotoToJPEG dreams a photo whose left half is transparent
// into JPEG: the transparency shows white, or the --background colour
// (it came out black), and a PNG keeps it.
func TestTransparentPhotoToJPEG(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	img := image.NewNRGBA(image.Rect(0, 0, 32, 16))
	for y := range 16 {
		for x := 16; x < 32; x++ {
			img.SetNRGBA(x, y, color.NRGBA{90, 120, 150, 255})
		}
	}
	photo := filepath.Join(dir, "photo.png")
	if err := imageio.WriteFile(photo, img, imageio.EncodeOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		out, bg string
		want    color.NRGBA
	}{
		{"white.jpg", "", color.NRGBA{255, 255, 255, 255}},
		{"red.jpg", "#ff0000", color.NRGBA{255, 0, 0, 255}},
		{"kept.png", "#ff0000", color.NRGBA{}},
	} {
		args := []string{"dream", photo, "-o", filepath.Join(dir, c.out), "--model", model, "--octaves", "1", "--iterations", "1", "-q"}
		if c.bg != "" {
			args = append(args, "--background", c.bg)
		}
		if code, _, errOut := cli(t, context.Background(), args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", c.out, code, errOut)
		}
		got, _ := decodeFile(t, filepath.Join(dir, c.out))
		p := got.NRGBAAt(3, 8)
		if c.want.A == 0 && p.A != 0 || c.want.A != 0 && colourDistance(p, c.want) > 6 {
			t.Errorf("%s: a transparent pixel came out %v, want %v", c.out, p, c.want)
		}
	}
	code, _, errOut := cli(t, context.Background(), "dream", photo, "-o", filepath.Join(dir, "x.jpg"), "--model", "missing.onnx", "--background", "pink")
	if code != exitUsage || !strings.Contains(errOut, `--background: imageio: colour "pink"`) {
		t.Errorf("--background pink: exit %d, %q", code, errOut)
	}
}

// colourDistance is the largest difference of the colour channels of a and b.
func colourDistance(a, b color.NRGBA) int {
	d := 0
	for _, v := range [][2]uint8{{a.R, b.R}, {a.G, b.G}, {a.B, b.B}} {
		d = max(d, int(v[0])-int(v[1]), int(v[1])-int(v[0]))
	}
	return d
}

// TestShortestDreamInterrupted interrupts the shortest dream there is
// (one octave of one step) as its only step ends: nothing is written and
// the exit is 130, where the dream used to be written anyway.
func TestShortestDreamInterrupted(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 24, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOnWrite{cancel: cancel}
	out := filepath.Join(dir, "o.png")
	code := run(ctx, []string{"dream", photo, "-o", out, "--model", model, "--octaves", "1", "--iterations", "1"}, &bytes.Buffer{}, w)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitInterrupted, w.buf.String())
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an interrupted dream wrote its output")
	}
}
