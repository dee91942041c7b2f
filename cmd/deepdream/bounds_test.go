package main

import (
	"bytes"
	"context"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/onnx"
)

// writeRecord writes a 4x4 PNG carrying text as its dream record, as a
// crafted file given to --from would.
func writeRecord(t testing.TB, dir, text string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := imageio.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 4, 4)), "png", imageio.EncodeOptions{Metadata: text}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "record.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBoundsBeforeWork gives every numeric flag a value out of its bounds,
// directly and through a record read by --from: each is a usage error
// (exit 2) naming the flag or the record's key, found before the model is
// loaded (it does not exist: loading it would exit 1) or the photo decoded
// (it is no image: decoding it would exit 1).
func TestBoundsBeforeWork(t *testing.T) {
	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.png")
	if err := os.WriteFile(photo, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "missing.onnx")
	out := filepath.Join(dir, "out.png")
	dreamArgs := func(args ...string) []string {
		return append([]string{"dream", photo, "-o", out, "--model", model}, args...)
	}
	record := func(key, value string) string {
		text := dream.Record{Version: "test", Model: "net.onnx", Request: dream.Defaults()}.String()
		text = strings.TrimSuffix(text, "}") + `,"` + key + `":` + value + "}" // the last of a repeated key wins
		return writeRecord(t, t.TempDir(), text)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{dreamArgs("--jitter", "4611686018427387904"), "--jitter 4611686018427387904: want a whole number from 0 to 512"},
		{dreamArgs("--jitter", "-1"), "--jitter -1"},
		{dreamArgs("--octaves", "0"), "--octaves 0: want a whole number from 1 to 12"},
		{dreamArgs("--octaves", "13"), "--octaves 13"},
		{dreamArgs("--iterations", "0"), "--iterations 0: want a whole number from 1 to 500"},
		{dreamArgs("--iterations", "501"), "--iterations 501"},
		{dreamArgs("--octave-scale", "0.5"), "--octave-scale 0.5: want a number from 1 to 4"},
		{dreamArgs("--octave-scale", "NaN"), `"NaN" for "--octave-scale" flag: octave scale is "NaN": want a number from 1 to 4`},
		{dreamArgs("--step", "0"), "--step 0: want a number from 0.01 to 100"},
		{dreamArgs("--step", "Inf"), `step is "Inf": want a number from 0.01 to 100`},
		{dreamArgs("--max-size", "1"), "--max-size 1: want 0 (full size) or a whole number from 16 to 16384"},
		{dreamArgs("--max-size", "16385"), "--max-size 16385"},
		{dreamArgs("--laplacian", "9"), "--laplacian 9: want a whole number from 0 to 8"},
		{dreamArgs("--smooth", "-1"), "--smooth -1: want a number from 0 to 10"},
		{dreamArgs("--keep-colors=maybe"), `keep colors is "maybe": want true or false`},
		{dreamArgs("--from", record("smooth", "11")), "the record's smooth is 11: want a number from 0 to 10"},
		{dreamArgs("--quality", "0"), "--quality 0: want a whole number from 1 to 100"},
		{dreamArgs("--quality", "101"), "--quality 101"},
		{dreamArgs("--max-pixels", "0"), "--max-pixels 0: want at least 1"},
		{dreamArgs("--layer", "a=1", "--layer", "b=0"), "weight \"0\" is 0"},
		{dreamArgs("--scale", "Inf"), "scale +Inf is not a positive finite number"},
		{dreamArgs("--std", "1,0,1"), "std 1/0/1 has a zero"},
		{dreamArgs("--mean", "1,NaN,1"), `"NaN" is not a number`},
		{dreamArgs("--from", record("jitter", "4611686018427387904")), "the record's jitter is 4611686018427387904: want a whole number from 0 to 512"},
		{dreamArgs("--from", record("octave_scale", "1e300")), "the record's octave_scale is 1e+300"},
		{dreamArgs("--from", record("layers", `["a=0"]`)), "the record's layers is a=0"},
		{[]string{"classify", "--model", model, "--top", "-1", photo}, "--top -1: want at least 1"},
		{[]string{"classify", "--model", model, "--top", "0", photo}, "--top 0"},
		{[]string{"bench", "--model", model, "--size", "100000x10"}, `--size "100000x10": want WxH, each from 1 to 16384`},
		{[]string{"bench", "--model", model, "--layer", "r=0"}, `weight "0" is 0`},
		{[]string{"layers", "--model", model, "--size", "0x10"}, `--size "0x10"`},
		{[]string{"classify", "--model", model, "--max-pixels", "-5", photo}, "--max-pixels -5"},
		{[]string{"probe", "--model", model, "--input", photo, "--layer", "r", "--max-pixels", "0"}, "--max-pixels 0"},
	} {
		code, _, errOut := cli(t, context.Background(), c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, %q; want exit 2 saying %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}
	// A flag given wins over the record's value, and only the record's
	// values in force are checked.
	code, _, errOut := cli(t, context.Background(), dreamArgs("--from", record("jitter", "4611686018427387904"), "--jitter", "3")...)
	if code != exitError || !strings.Contains(errOut, "missing.onnx") {
		t.Errorf("--from with --jitter overriding the record's: exit %d, %q; want the model's error", code, errOut)
	}
}

// TestTooSmallToDream dreams photos too small for the layer (two 4x4
// pools of stride 4 after tinynet), one of them a panorama that --max-size
// makes 4 pixels high: each is refused with the size the layer needs,
// where the engine's "window larger than the padded input" came out.
func TestTooSmallToDream(t *testing.T) {
	pool := func(in, out string) *onnx.Node {
		return &onnx.Node{OpType: "MaxPool", Inputs: []string{in}, Outputs: []string{out}, Attrs: []*onnx.Attribute{
			{Name: "kernel_shape", Type: onnx.AttrInts, Ints: []int64{4, 4}},
			{Name: "strides", Type: onnx.AttrInts, Ints: []int64{4, 4}},
		}}
	}
	model := writeONNX(t, pool("r", "p1"), pool("p1", "p2"))
	dir := t.TempDir()
	for _, c := range []struct {
		w, h int
		args []string
		want string
	}{
		{1, 1, nil, "the image is 1x1, too small to dream: at least 16 pixels on the shorter side (layer p2, model net.onnx)"},
		{10, 10, nil, "the image is 10x10, too small"},
		{2000, 30, []string{"--max-size", "256"}, "the image is 256x4, too small to dream: at least 16 pixels"},
	} {
		photo := writePNG(t, t.TempDir(), c.w, c.h)
		args := append([]string{"dream", photo, "-o", filepath.Join(dir, "o.png"), "--model", model, "--layer", "p2", "-q"}, c.args...)
		code, _, errOut := cli(t, context.Background(), args...)
		if code != exitError || !strings.Contains(errOut, c.want) {
			t.Errorf("%dx%d %v: exit %d, %q; want %q", c.w, c.h, c.args, code, errOut, c.want)
		}
	}
}
