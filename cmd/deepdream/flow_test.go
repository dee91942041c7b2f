package main

import (
	"context"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/flow"
	"github.com/deepdream-go/deepdream/imageio"
)

// writeFrame writes a w x h PNG of a smooth colour pattern moved by
// (dx, dy) whole pixels, and returns its path.
func writeFrame(t *testing.T, dir, name string, w, h, dx, dy int) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			fx, fy := float64(x-dx), float64(y-dy)
			v := func(a, b float64) uint8 {
				return uint8(128 + 60*math.Sin(fx/a+fy/b) + 50*math.Cos(fy/(a+1.3)-fx/(b+2)))
			}
			img.Set(x, y, color.NRGBA{v(3.1, 7), v(4.2, 5), v(2.7, 9), 255})
		}
	}
	path := filepath.Join(dir, name)
	savePNG(t, path, img)
	return path
}

func TestFlowWritesNpyAndPNG(t *testing.T) {
	dir := t.TempDir()
	a := writeFrame(t, dir, "a.png", 80, 60, 0, 0)
	b := writeFrame(t, dir, "b.png", 80, 60, 3, -2)
	out := filepath.Join(dir, "f.npy")
	if err := os.WriteFile(out, []byte("an older flow"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := cli(t, context.Background(), "flow", a, b, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "80x60, motion ") {
		t.Errorf("stdout %q, want the size and the motion", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	f, err := flow.DecodeField(data)
	if err != nil {
		t.Fatal(err)
	}
	if f.W != 80 || f.H != 60 {
		t.Fatalf("a %dx%d flow, want 80x60", f.W, f.H)
	}
	if dx, dy := f.At(40, 30); math.Abs(float64(dx)-3) > 0.05 || math.Abs(float64(dy)+2) > 0.05 {
		t.Errorf("the frame moved by (3, -2), the flow says (%v, %v)", dx, dy)
	}

	// The picture is the flow's, in the colour coding, at full colour
	// for 5 px: (3, -2) is 72% of the way from white.
	pic := filepath.Join(dir, "f.png")
	if code, _, stderr := cli(t, context.Background(), "flow", a, b, "-o", pic, "--max-motion", "5"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	img, err := imageio.ReadFile(pic, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := f.Color(5)
	if img.Bounds() != want.Bounds() {
		t.Fatalf("picture of %v, want %v", img.Bounds(), want.Bounds())
	}
	for _, p := range []image.Point{{40, 30}, {20, 15}, {60, 45}} {
		r, g, bl, _ := img.At(p.X, p.Y).RGBA()
		w := want.RGBAAt(p.X, p.Y)
		if uint8(r>>8) != w.R || uint8(g>>8) != w.G || uint8(bl>>8) != w.B {
			t.Errorf("pixel %v: %v, want %v", p, img.At(p.X, p.Y), w)
		}
		if w == (color.RGBA{255, 255, 255, 255}) {
			t.Errorf("pixel %v is white: no motion drawn", p)
		}
	}
	// The older f.npy was replaced, and no temporary file is left.
	if names := dirNames(t, dir); strings.Join(names, " ") != "a.png b.png f.npy f.png" {
		t.Errorf("the directory holds %v, want the frames and the two outputs", names)
	}
}

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestFlowErrors(t *testing.T) {
	dir := t.TempDir()
	a := writeFrame(t, dir, "a.png", 40, 30, 0, 0)
	b := writeFrame(t, dir, "b.png", 40, 30, 1, 0)
	small := writeFrame(t, dir, "small.png", 30, 20, 0, 0)
	missing := filepath.Join(dir, "missing.png")
	corrupt := filepath.Join(dir, "corrupt.png")
	if err := os.WriteFile(corrupt, []byte("not a picture"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The outputs exist already: no failure may touch them.
	out, pic := filepath.Join(dir, "f.npy"), filepath.Join(dir, "f.png")
	for _, p := range []string{out, pic} {
		if err := os.WriteFile(p, []byte("an older output"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no output", []string{"flow", a, b}, exitUsage, "-o F.npy or -o F.png is required"},
		{"one frame", []string{"flow", a, "-o", out}, exitUsage, "accepts 2 arg(s)"},
		{"extension", []string{"flow", a, b, "-o", filepath.Join(dir, "f.jpg")}, exitUsage, "f.jpg: want a .npy"},
		{"over an input", []string{"flow", a, b, "-o", b}, exitUsage, "refusing to write " + b},
		{"max motion npy", []string{"flow", a, b, "-o", out, "--max-motion", "3"}, exitUsage, "--max-motion is for a .png output"},
		{"max motion negative", []string{"flow", a, b, "-o", pic, "--max-motion", "-1"}, exitUsage, "--max-motion -1"},
		{"max motion NaN", []string{"flow", a, b, "-o", pic, "--max-motion", "NaN"}, exitUsage, "--max-motion NaN"},
		{"max pixels", []string{"flow", a, b, "-o", out, "--max-pixels", "0"}, exitUsage, "--max-pixels 0"},
		{"no directory", []string{"flow", a, b, "-o", filepath.Join(dir, "none", "f.npy")}, exitError, filepath.Join(dir, "none")},
		{"missing frame", []string{"flow", a, missing, "-o", out}, exitError, missing},
		{"corrupt frame", []string{"flow", corrupt, b, "-o", out}, exitError, corrupt},
		{"sizes", []string{"flow", a, small, "-o", out}, exitError, a + " is 40x30 but " + small + " is 30x20"},
		{"sizes png", []string{"flow", small, b, "-o", pic}, exitError, small + " is 30x20 but " + b + " is 40x30"},
		{"too large", []string{"flow", a, b, "-o", out, "--max-pixels", "100"}, exitError, a},
	}
	for _, c := range cases {
		code, _, stderr := cli(t, context.Background(), c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d saying %q", c.name, code, stderr, c.code, c.want)
		}
	}
	for _, p := range []string{out, pic} {
		if data, err := os.ReadFile(p); err != nil || string(data) != "an older output" {
			t.Errorf("a failed flow changed %s: %q (%v)", p, data, err)
		}
	}
	if names := dirNames(t, dir); strings.Join(names, " ") != "a.png b.png corrupt.png f.npy f.png small.png" {
		t.Errorf("after the failures the directory holds %v, want the frames and the older outputs only", names)
	}
}

func TestFlowInterrupted(t *testing.T) {
	dir := t.TempDir()
	a := writeFrame(t, dir, "a.png", 40, 30, 0, 0)
	out := filepath.Join(dir, "f.npy")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if code, _, stderr := cli(t, ctx, "flow", a, a, "-o", out); code != exitInterrupted {
		t.Fatalf("exit %d (%s), want %d", code, stderr, exitInterrupted)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("an interrupted flow left %s (%v)", out, err)
	}
}
