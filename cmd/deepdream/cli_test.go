package main

import (
	"bytes"
	"cmp"
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/gemm"
	"github.com/deepdream-go/deepdream/internal/npy"
	"github.com/deepdream-go/deepdream/internal/shared"
)

// cli runs the command line in-process and returns the exit code and output.
func cli(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestProbeMatchesFixtures(t *testing.T) {
	model := shared.GoogLeNet(t)
	input := shared.Path(t, "fixtures/dog_224_input.npy")
	dir := t.TempDir()
	act, grad := filepath.Join(dir, "a.npy"), filepath.Join(dir, "g.npy")
	code, out, errOut := cli(t, context.Background(), "probe", "--model", model, "--input", input,
		"--layer", "inception_4c/output_1", "--out", act, "--grad", grad)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[0] != "shape 1x512x14x14" || !strings.HasPrefix(lines[1], "objective ") {
		t.Fatalf("output %q, want two lines: shape 1x512x14x14, objective ...", out)
	}
	obj, err := strconv.ParseFloat(strings.TrimPrefix(lines[1], "objective "), 64)
	if err != nil {
		t.Fatal(err)
	}
	if want := 21901623.41866; math.Abs(obj-want)/want >= 1e-5 {
		t.Errorf("objective %v, fixture %v", obj, want)
	}
	a, err := npy.ReadFile(act)
	if err != nil || len(a.F32) != 512*14*14 {
		t.Fatalf("--out: %v, %d values", err, len(a.F32))
	}
	g, err := npy.ReadFile(grad)
	if err != nil || len(g.F32) != 3*224*224 || len(g.Shape) != 4 {
		t.Fatalf("--grad: %v, shape %v", err, g.Shape)
	}
	ref, err := npy.ReadFile(shared.Path(t, "fixtures/dog_224_grad_4c.npy"))
	if err != nil {
		t.Fatal(err)
	}
	shared.CheckGradient(t, "--grad", g.F32, ref.F32)
}

func TestProbeImageAtItsOwnSize(t *testing.T) {
	model := shared.GoogLeNet(t)
	img := writePNG(t, t.TempDir(), 333, 251)
	code, out, errOut := cli(t, context.Background(), "probe", "--model", model, "--input", img, "--layer", "inception_4c/output_1")
	if code != 0 || !strings.HasPrefix(out, "shape 1x512x15x20\n") {
		t.Fatalf("exit %d, output %q, stderr %s", code, out, errOut)
	}
	// The Caffe name, as dream's --layer takes it, names the same tensor.
	code, alias, errOut := cli(t, context.Background(), "probe", "--model", model, "--input", img, "--layer", "inception_4c/output")
	if code != 0 || alias != out {
		t.Fatalf("alias: exit %d, output %q (tensor name gave %q), stderr %s", code, alias, out, errOut)
	}
}

func TestProbeErrors(t *testing.T) {
	model := shared.GoogLeNet(t)
	input := shared.Path(t, "fixtures/dog_224_input.npy")
	code, _, errOut := cli(t, context.Background(), "probe", "--model", model, "--input", input, "--layer", "inception_4c/outptu")
	if code != 1 || !strings.Contains(errOut, "inception_4c/output_1") {
		t.Errorf("unknown layer: exit %d, %q; want exit 1 listing the closest names", code, errOut)
	}
	code, _, errOut = cli(t, context.Background(), "probe", "--model", model, "--layer", "x")
	if code != 2 || !strings.Contains(errOut, "--input is required") {
		t.Errorf("missing --input: exit %d, %q", code, errOut)
	}
	code, _, errOut = cli(t, context.Background(), "probe", "--model", model, "--input", input, "--layer", "prob_1", "--out", input)
	if code != 2 || !strings.Contains(errOut, "refusing to write") {
		t.Errorf("--out over the input: exit %d, %q", code, errOut)
	}
}

func TestClassifyDog(t *testing.T) {
	model := shared.GoogLeNet(t)
	code, out, errOut := cli(t, context.Background(), "classify", "--model", model, shared.Path(t, "images/dog.jpg"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "Siberian husky 0.") {
		t.Fatalf("top 5 = %q, want Siberian husky first", out)
	}
	re := regexp.MustCompile(`^.+ [01]\.\d{4}$`)
	for _, l := range lines {
		if !re.MatchString(l) {
			t.Errorf("line %q is not 'label probability'", l)
		}
	}
}

// TestClassifyLogitsModel classifies with a PyTorch export that ends in
// logits (random weights, so any labels): what it prints are
// probabilities all the same, from a softmax.
func TestClassifyLogitsModel(t *testing.T) {
	model := shared.Path(t, "models/zoo/resnet18_op17.onnx")
	code, out, errOut := cli(t, context.Background(), "classify", "--model", model, "--top", "1000", shared.Path(t, "images/dog.jpg"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	sum := 0.0
	for _, l := range lines {
		p, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
		if err != nil || p < 0 || p > 1 {
			t.Fatalf("line %q: not a probability", l)
		}
		sum += p
	}
	if len(lines) != 1000 || math.Abs(sum-1) > 0.01 {
		t.Errorf("%d lines summing to %v, want 1000 probabilities summing to 1", len(lines), sum)
	}
}

func writePNG(t testing.TB, dir string, w, h int) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 7), uint8(y * 5), uint8((x * y) % 251), 255})
		}
	}
	path := filepath.Join(dir, "in.png")
	savePNG(t, path, img)
	return path
}

// savePNG writes img to a new PNG file at path.
func savePNG(t testing.TB, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDreamWritesReproducibleFileWithParameters(t *testing.T) {
	model := shared.GoogLeNet(t)
	dir := t.TempDir()
	in := writePNG(t, dir, 120, 90)
	out1, out2, out3 := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png"), filepath.Join(dir, "c.png")
	args := []string{"dream", in, "--model", model, "--octaves", "2", "--iterations", "2", "--seed", "5",
		"--layer", "inception_3b/output=1", "--layer", "inception_4c/output:1,2=0.5", "-q"}
	ctx := context.Background()
	for _, out := range []string{out1, out2} {
		if code, _, errOut := cli(t, ctx, append(args, "-o", out)...); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	}
	b1, _ := os.ReadFile(out1)
	b2, _ := os.ReadFile(out2)
	if !bytes.Equal(b1, b2) {
		t.Error("the same seed and flags gave different files")
	}
	meta, err := imageio.ReadMetadataFile(out1)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"seed":5`, `"iterations":2`, `inception_4c/output:1,2=0.5`, `"octave_scale":1.4`} {
		if !strings.Contains(meta, want) {
			t.Errorf("embedded parameters %s lack %s", meta, want)
		}
	}
	// --from takes everything from the first dream: the same picture again.
	if code, _, errOut := cli(t, ctx, "dream", in, "-o", out3, "--model", model, "--from", out1, "-q"); code != 0 {
		t.Fatalf("--from: exit %d: %s", code, errOut)
	}
	img1, _ := decodeFile(t, out1)
	img3, _ := decodeFile(t, out3)
	if !bytes.Equal(img1.Pix, img3.Pix) {
		t.Error("--from did not reproduce the dream")
	}
}

func decodeFile(t *testing.T, path string) (*image.NRGBA, imageio.Info) {
	t.Helper()
	img, info, err := imageio.ReadFileInfo(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	return img, info
}

func TestDreamRefusals(t *testing.T) {
	model := shared.GoogLeNet(t)
	dir := t.TempDir()
	in := writePNG(t, dir, 40, 30)
	ctx := context.Background()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dream", in}, 2, "-o OUT is required"},
		{[]string{"dream", in, "-o", in}, 2, "refusing to write over it"},
		{[]string{"dream", in, "-o", filepath.Join(dir, "x.bmp")}, 2, "not a supported output format"},
		{[]string{"dream", in, "-o", filepath.Join(dir, "x.png"), "--layer", "inception_4c/output:x"}, 2, "not a channel number"},
		{[]string{"dream", in, "-o", filepath.Join(dir, "x.png"), "--layer", "inception_9z/output"}, 1, "closest tensor names"},
		{[]string{"dream", in, "-o", filepath.Join(dir, "x.png"), "--layer", "inception_4c/output:600"}, 1, "channel 600 does not exist"},
		{[]string{"dream", in, "-o", filepath.Join(dir, "x.png"), "--max-pixels", "100"}, 1, "over the limit"},
		{[]string{"dream", in, "-o", filepath.Join(dir, "x.png"), "--octaves", "x"}, 2, "invalid argument"},
	} {
		code, _, errOut := cli(t, ctx, append(c.args, "--model", model, "-q")...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want exit %d mentioning %q", c.args[2:], code, errOut, c.code, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.png")); err == nil {
		t.Error("a refused dream left an output file")
	}
}

// cancelOnWrite cancels a context at the first progress line (or the
// first line that holds at), as Ctrl-C would.
type cancelOnWrite struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	at     string
	buf    bytes.Buffer
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.Contains(p, []byte(cmp.Or(c.at, "octave"))) {
		c.cancel()
	}
	return c.buf.Write(p)
}

func TestDreamInterruptedLeavesNothing(t *testing.T) {
	model := shared.GoogLeNet(t)
	dir := t.TempDir()
	in := writePNG(t, dir, 64, 48)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOnWrite{cancel: cancel}
	code := run(ctx, []string{"dream", in, "-o", filepath.Join(dir, "out.png"), "--model", model, "--octaves", "1"}, &bytes.Buffer{}, w)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitInterrupted, w.buf.String())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries after an interrupted dream, want only the input", len(entries))
	}
}

func TestLayersListsInceptionOutputs(t *testing.T) {
	model := shared.GoogLeNet(t)
	code, out, errOut := cli(t, context.Background(), "layers", "--model", model, "--size", "333x251")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`(?m)^inception_4c/output\s+inception_4c/output_1\s+1x512x15x20\s+512$`).MatchString(out) {
		t.Errorf("layers output lacks the inception_4c/output row:\n%s", out)
	}
}

func TestBenchSummaryLine(t *testing.T) {
	model := shared.GoogLeNet(t)
	code, out, errOut := cli(t, context.Background(), "bench", "--model", model, "--size", "96x64", "--steps", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	re := regexp.MustCompile(`^summary: 96x64 median \d+\.\d{3} s/step min \d+\.\d{3} s/step \d+\.\d GFLOP/s peak-rss \d+ MB$`)
	if !re.MatchString(lines[len(lines)-1]) {
		t.Errorf("last line %q does not match the summary format", lines[len(lines)-1])
	}
}

// TestBenchOps checks that --ops lists the operators of the step with
// their times, fused Conv+Relu forward and backward among them, and still
// ends with the summary line. GoogLeNet's 33 convolutions up to
// inception_4c run as 23 steps: each inception module's three 1x1
// convolutions of its input run stacked as one.
func TestBenchOps(t *testing.T) {
	model := shared.GoogLeNet(t)
	code, out, errOut := cli(t, context.Background(), "bench", "--model", model, "--size", "96x64", "--steps", "2", "--ops")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, re := range []string{
		`(?m)^  Conv\+Relu forward +\d+\.\d +\d+\.\d% +23$`,
		`(?m)^  Conv\+Relu backward +\d+\.\d +\d+\.\d% +23$`,
		`(?m)^  MaxPool backward +\d+\.\d +\d+\.\d% +8$`,
		`(?m)^  LRN forward +\d+\.\d +\d+\.\d% +2$`,
		`(?m)^  outside the graph +-?\d+\.\d +-?\d+\.\d%$`,
		`(?m)^summary: 96x64 `,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output lacks a line matching %s:\n%s", re, out)
		}
	}

	code, out, errOut = cli(t, context.Background(), "bench", "--model", model, "--size", "96x64", "--steps", "2", "--nodes")
	if code != 0 {
		t.Fatalf("--nodes: exit %d: %s", code, errOut)
	}
	for _, re := range []string{
		`(?m)^  node +ms/step +share +nodes$`,
		`(?m)^  conv1/7x7_s2_1 Conv\+Relu forward +\d+\.\d +\d+\.\d% +1$`,
		`(?m)^  inception_4c/5x5_1 Conv\+Relu backward +\d+\.\d +\d+\.\d% +1$`,
		`(?m)^  inception_3a/1x1_1\+inception_3a/3x3_reduce_1\+inception_3a/5x5_reduce_1 Conv\+Relu forward +\d+\.\d +\d+\.\d% +1$`,
		`(?m)^  pool1/norm1_1 LRN forward +\d+\.\d +\d+\.\d% +1$`,
		`(?m)^  outside the graph +-?\d+\.\d +-?\d+\.\d%$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("--nodes: output lacks a line matching %s:\n%s", re, out)
		}
	}
}

func TestOfflineRegistryModelSaysHowToGetIt(t *testing.T) {
	t.Setenv("DEEPDREAM_MODELS", t.TempDir())
	dir := t.TempDir()
	in := writePNG(t, dir, 40, 30)
	code, _, errOut := cli(t, context.Background(), "dream", in, "-o", filepath.Join(dir, "o.png"), "--offline")
	if code != 1 || !strings.Contains(errOut, "deepdream models import googlenet") {
		t.Errorf("exit %d, %q; want the import instructions", code, errOut)
	}
}

func TestVersionNamesRuntimeAndKernel(t *testing.T) {
	code, out, errOut := cli(t, context.Background(), "version")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[0] != "deepdream "+version {
		t.Fatalf("output %q, want the version then the runtime", out)
	}
	for _, want := range []string{runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH, "gemm kernel " + gemm.KernelName() + " ", "generic)"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("second line %q lacks %q", lines[1], want)
		}
	}
}

// TestBenchTiles checks that bench --tile steps in tiles as dream does,
// and says so, with the time per pixel.
func TestBenchTiles(t *testing.T) {
	model := writeONNX(t)
	code, out, errOut := cli(t, context.Background(), "bench", "--model", model, "--layer", "r", "--size", "300x200", "--size", "100x80", "--tile", "128", "--steps", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`(?m)^300x200 in \d+ tiles of \d+x\d+ \(tile 128, halo \d+\): median .* ns/pixel/step`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^100x80: median .* ns/pixel/step`).MatchString(out) {
		t.Errorf("bench --tile 128 at 300x200 and 100x80 printed:\n%s\nwant the first in tiles, the second whole", out)
	}
}

// TestDreamDryRun checks that dream --dry-run prints the tiling and the
// estimate from the photo's header, needs no -o and writes nothing, and
// that a --max-memory the dream does not fit in is refused with a hint.
func TestDreamDryRun(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 300, 200)
	code, out, errOut := cli(t, context.Background(), "dream", photo, "--model", model, "--layer", "r", "--tile", "128", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`300x200, dreamed at 300x200\n`).MatchString(out) ||
		!regexp.MustCompile(`tiles of 128 pixels \(halo \d+\): \d+ windows of \d+x\d+ a step at the largest octave`).MatchString(out) ||
		!regexp.MustCompile(`memory: \d+ MB at the peak`).MatchString(out) {
		t.Errorf("--dry-run printed:\n%s", out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("--dry-run left %d files in the photo's directory, want the photo alone", len(entries))
	}
	code, _, errOut = cli(t, context.Background(), "dream", photo, "--model", model, "--layer", "r", "--tile", "-1", "--max-memory", "1K", "-o", filepath.Join(dir, "d.png"))
	if code == 0 || !strings.Contains(errOut, "raise --max-memory") {
		t.Errorf("a dream in 1K: exit %d: %s, want a refusal saying what to change", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "d.png")); err == nil {
		t.Error("a refused dream wrote its output")
	}
}
