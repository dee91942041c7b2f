package imageio

import (
	"bytes"
	"compress/zlib"
	"errors"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testParams = "deepdream dream in.jpg -o out.png --model googlenet --layer inception_4c/output=1 --seed 7 # version v0.1, file «été.jpg»"

func TestMetadataRoundTrip(t *testing.T) {
	dir := t.TempDir()
	img := gridImage("AB", "CD")
	for _, name := range []string{"dream.png", "dream.jpg", "DREAM.JPEG"} {
		path := filepath.Join(dir, name)
		if err := WriteFile(path, img, EncodeOptions{Quality: 80, Metadata: testParams}); err != nil {
			t.Fatal(err)
		}
		got, err := ReadMetadataFile(path)
		if err != nil || got != testParams {
			t.Errorf("%s: metadata %q, %v; want %q", name, got, err, testParams)
		}
		// The image still decodes (for PNG this checks the chunk's CRC).
		back, info, err := ReadFileInfo(path, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkGrid(t, back, "AB", "CD")
		if want := map[string]string{".png": "png", ".jpg": "jpeg", ".JPEG": "jpeg"}[filepath.Ext(name)]; info.Format != want {
			t.Errorf("%s written as %s", name, info.Format)
		}
	}
	// Where the text goes: right after IHDR, right after SOI.
	p, _ := os.ReadFile(filepath.Join(dir, "dream.png"))
	if string(p[37:41]) != "iTXt" {
		t.Errorf("PNG chunk after IHDR is %q, want iTXt", p[37:41])
	}
	j, _ := os.ReadFile(filepath.Join(dir, "dream.jpg"))
	if !bytes.HasPrefix(j[2:], []byte{0xFF, 0xFE}) || !bytes.HasPrefix(j[6:], []byte("deepdream: ")) {
		t.Errorf("JPEG does not start with SOI, COM: % x", j[:16])
	}
}

func TestReadMetadataVariants(t *testing.T) {
	plain := encodePNG(t, gridImage("AB"))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(testParams))
	zw.Close()
	cases := []struct {
		name, want string
		file       []byte
	}{
		{"tEXt Latin-1", "caf\u00e9", afterIHDR(plain, pngChunk("tEXt", []byte("deepdream\x00caf\xe9")))},
		{"compressed iTXt", testParams, afterIHDR(plain, pngChunk("iTXt", append([]byte("deepdream\x00\x01\x00en\x00\x00"), z.Bytes()...)))},
		{"other keywords first", "x", afterIHDR(plain, append(pngChunk("tEXt", []byte("Software\x00gimp")), pngChunk("tEXt", []byte("deepdream\x00x"))...))},
	}
	for _, c := range cases {
		got, err := ReadMetadata(bytes.NewReader(c.file))
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	var buf bytes.Buffer
	if err := Encode(&buf, gridImage("AB"), "jpeg", EncodeOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string][]byte{"PNG": plain, "JPEG": buf.Bytes()} {
		if _, err := ReadMetadata(bytes.NewReader(file)); !errors.Is(err, ErrNoMetadata) {
			t.Errorf("%s without metadata: %v, want ErrNoMetadata", name, err)
		}
	}
	if _, err := ReadMetadata(strings.NewReader("GIF89a")); err == nil || !strings.Contains(err.Error(), "PNG and JPEG") {
		t.Errorf("GIF: %v", err)
	}
	if _, err := ReadMetadata(bytes.NewReader(plain[:40])); err == nil || errors.Is(err, ErrNoMetadata) {
		t.Errorf("truncated PNG: %v, want a read error", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	img := gridImage("A")
	var buf bytes.Buffer
	for _, c := range []struct {
		format string
		opts   EncodeOptions
		want   string
	}{
		{"jpeg", EncodeOptions{Quality: 101}, "quality 101"},
		{"jpeg", EncodeOptions{Metadata: strings.Repeat("x", 70000)}, "JPEG comment holds"},
		{"png", EncodeOptions{Metadata: "\xff"}, "UTF-8"},
		{"webp", EncodeOptions{}, "supported: png, jpeg"},
	} {
		if err := Encode(&buf, img, c.format, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Encode %s %+v: %v, want %q", c.format, c.opts, err, c.want)
		}
	}
	if err := Encode(&buf, img, "png", EncodeOptions{Metadata: strings.Repeat("x", 70000)}); err != nil {
		t.Errorf("PNG holds long metadata: %v", err)
	}
}

func TestWriteFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.png")
	if err := os.WriteFile(path, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	// png.Encode refuses an empty image, after WriteFile has created its temp file.
	err := WriteFile(path, image.NewNRGBA(image.Rect(0, 0, 0, 0)), EncodeOptions{})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want an encode error naming %s", err, path)
	}
	if got, _ := os.ReadFile(path); string(got) != "previous" {
		t.Errorf("file = %q after a failed write, want the previous contents", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries in the directory after a failed write, want 1 (no temp file)", len(entries))
	}
	err = WriteFile(filepath.Join(dir, "out.webp"), gridImage("A"), EncodeOptions{})
	if err == nil || !strings.Contains(err.Error(), ".webp is not a supported output format (supported: .png, .jpg, .jpeg)") {
		t.Errorf("unsupported extension: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries after refusing an extension, want 1", len(entries))
	}
}

func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "photo.png")
	if err := os.WriteFile(in, encodePNG(t, gridImage("A")), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.png")
	if err := os.Symlink(in, link); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{in, filepath.Join(dir, ".", "photo.png"), link} {
		if err := CheckOutput(in, out); err == nil || !strings.Contains(err.Error(), "refusing to write over it") {
			t.Errorf("CheckOutput(%s, %s) = %v, want a refusal", in, out, err)
		}
	}
	if err := CheckOutput(in, filepath.Join(dir, "dream.png")); err != nil {
		t.Errorf("a new file: %v", err)
	}
	if err := CheckOutput(in, filepath.Join(dir, "dream")); err == nil || !strings.Contains(err.Error(), "no extension") {
		t.Errorf("no extension: %v", err)
	}
}

// TestJPEGCompositesTransparency writes an image whose left half is
// transparent and right half half-transparent red as JPEG: the left half
// comes out as the background (white unless told, where it was black),
// the right half as red over it.
func TestJPEGCompositesTransparency(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 32, 16))
	for y := range 16 {
		for x := 16; x < 32; x++ {
			img.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 128})
		}
	}
	for _, c := range []struct {
		bg          color.Color
		left, right color.RGBA
	}{
		{nil, color.RGBA{255, 255, 255, 255}, color.RGBA{255, 127, 127, 255}},
		{color.RGBA{0, 0, 255, 255}, color.RGBA{0, 0, 255, 255}, color.RGBA{128, 0, 127, 255}},
	} {
		var buf bytes.Buffer
		if err := Encode(&buf, img, "jpeg", EncodeOptions{Quality: 100, Background: c.bg}); err != nil {
			t.Fatal(err)
		}
		back, _, err := DecodeInfo(&buf, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct {
			x    int
			want color.RGBA
		}{{4, c.left}, {28, c.right}} {
			got := back.NRGBAAt(p.x, 8)
			for i, d := range []int{int(got.R) - int(p.want.R), int(got.G) - int(p.want.G), int(got.B) - int(p.want.B)} {
				if d < -3 || d > 3 {
					t.Errorf("background %v: pixel (%d, 8) is %v, want %v (channel %d)", c.bg, p.x, got, p.want, i)
					break
				}
			}
		}
	}
}

func TestParseColor(t *testing.T) {
	for s, want := range map[string]color.Color{
		"white": color.White, "Black": color.Black, "#ff8000": color.RGBA{255, 128, 0, 255}, "0000FF": color.RGBA{0, 0, 255, 255},
	} {
		if got, err := ParseColor(s); err != nil || got != want {
			t.Errorf("ParseColor(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "#fff", "#gg0000", "red", "#ff00001"} {
		if _, err := ParseColor(s); err == nil {
			t.Errorf("ParseColor(%q) took it", s)
		}
	}
}
