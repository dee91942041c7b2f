package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/shared"
)

// TestSweepSheetHasTheGridAndLabels sweeps two GoogLeNet layers by two
// iteration counts: the sheet has the grid's size, each kept dream in its
// cell, and drawn text in its label bands, different for each label; the
// progress counts the whole grid's steps; each kept dream records its
// settings and is made again, byte for byte, by dream --from; the sheet
// records the sweep, which sweep --from makes again, and dream --from the
// sheet makes one of its dreams when given the varied flags.
func TestSweepSheetHasTheGridAndLabels(t *testing.T) {
	model := shared.GoogLeNet(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 120, 90)
	sheet, keep := filepath.Join(dir, "sheet.png"), filepath.Join(dir, "kept")
	layers, iterations := []string{"inception_3b/output", "inception_4c/output:1,2"}, []string{"1", "2"}
	args := []string{"sweep", photo, "-o", sheet, "--model", model, "--octaves", "1", "--seed", "3",
		"--vary", "layer=" + strings.Join(layers, ","), "--vary", "iterations=" + strings.Join(iterations, ","), "--keep", keep}
	code, _, errOut := cli(t, context.Background(), args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "dream 1/4 layer=inception_3b/output iterations=1 octave 1/1 step 1/1 ") ||
		!strings.Contains(errOut, "dream 4/4 layer=inception_4c/output:1,2 iterations=2 octave 1/1 step 2/2 ") ||
		!strings.HasSuffix(strings.TrimSpace(errOut), "eta 0s") || strings.Count(errOut, "; sweep step ") != 6 ||
		!strings.Contains(errOut, "; sweep step 6/6 ") {
		t.Errorf("progress:\n%s\nwant a line per step, counting the grid's 6 steps", errOut)
	}

	// The kept dreams, in reading order, with their records.
	kept, _ := filepath.Glob(filepath.Join(keep, "*"))
	want := []string{"1-layer=inception_3b_output,iterations=1.png", "2-layer=inception_4c_output_1,2,iterations=1.png",
		"3-layer=inception_3b_output,iterations=2.png", "4-layer=inception_4c_output_1,2,iterations=2.png"}
	if len(kept) != len(want) {
		t.Fatalf("kept %q, want %q", kept, want)
	}
	var cells [][]image.Image
	for i, path := range kept {
		if filepath.Base(path) != want[i] {
			t.Errorf("kept dream %d is %s, want %s", i+1, filepath.Base(path), want[i])
		}
		req := dream.Defaults()
		req.Octaves, req.Seed, req.Layers = 1, 3, []string{layers[i%2]}
		fmt.Sscan(iterations[i/2], &req.Iterations)
		if rec := embedded(t, path); !reflect.DeepEqual(rec.Request, req) || rec.ModelSHA256 == "" {
			t.Errorf("%s records %+v, want %+v and the model's sha256", want[i], rec, req)
		}
		img, _ := decodeFile(t, path)
		if i%2 == 0 {
			cells = append(cells, nil)
		}
		cells[i/2] = append(cells[i/2], img)
	}

	// The sheet: the grid of the kept dreams, with their labels.
	s := imageio.Sheet{Cells: cells, ColLabels: []string{"layer=" + layers[0], "layer=" + layers[1]}, RowLabels: []string{"iterations=1", "iterations=2"}}
	layout, err := s.Layout()
	if err != nil {
		t.Fatal(err)
	}
	img, _ := decodeFile(t, sheet)
	if img.Bounds() != layout.Bounds || layout.Cell != image.Pt(120, 90) {
		t.Fatalf("the sheet is %v, want %v: 2x2 cells of 120x90 with their labels", img.Bounds(), layout.Bounds)
	}
	for r, row := range cells {
		for c, cell := range row {
			if !samePixels(img, layout.Cells[r][c], cell) {
				t.Errorf("the sheet's cell (%d, %d) is not the kept dream %s", r, c, want[2*r+c])
			}
		}
	}
	var bands [][]byte
	for _, band := range append(layout.ColLabels, layout.RowLabels...) {
		dark := darkPixels(img, band)
		if bytes.Count(dark, []byte{1}) < 30 {
			t.Errorf("the label band %v has %d dark pixels: no text", band, bytes.Count(dark, []byte{1}))
		}
		for i, other := range bands {
			if len(other) == len(dark) && bytes.Equal(other, dark) {
				t.Errorf("the label band %v holds the text of band %d", band, i)
			}
		}
		bands = append(bands, dark)
	}
	text, err := imageio.ReadMetadataFile(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, `"sweep":[{"key":"layers","values":["inception_3b/output","inception_4c/output:1,2"]},{"key":"iterations","values":["1","2"]}]`) {
		t.Errorf("the sheet records %s", text)
	}

	ctx := context.Background()
	again := filepath.Join(dir, "again.png")
	if code, _, errOut := cli(t, ctx, "dream", photo, "-o", again, "--from", kept[3], "--model", model, "-q"); code != 0 {
		t.Fatalf("dream --from a kept dream: exit %d: %s", code, errOut)
	}
	if !bytes.Equal(readFile(t, again), readFile(t, kept[3])) {
		t.Error("dream --from a kept dream dreamed another file")
	}
	code, _, errOut = cli(t, ctx, "dream", photo, "-o", again, "--from", sheet, "--model", model, "--iterations", "2", "-q")
	if code != exitUsage || !strings.Contains(errOut, "sheet of a sweep; give --layer (inception_3b/output or inception_4c/output:1,2) to choose") {
		t.Errorf("dream --from the sheet without --layer: exit %d, %s", code, errOut)
	}
	code, _, errOut = cli(t, ctx, "zoom", photo, "-o", filepath.Join(dir, "zoom.gif"), "--frames", "2", "--from", sheet, "--model", model, "--iterations", "2", "-q")
	if code != exitUsage || !strings.Contains(errOut, "zoom: --from "+sheet+": it is the sheet of a sweep; give --layer") {
		t.Errorf("zoom --from the sheet without --layer: exit %d, %s", code, errOut)
	}
	code, _, errOut = cli(t, ctx, "dream", photo, "-o", again, "--from", sheet, "--model", model, "--iterations", "2", "--layer", "inception_3b/output", "-q")
	if code != 0 || !bytes.Equal(readFile(t, again), readFile(t, kept[2])) {
		t.Errorf("dream --from the sheet with its flags: exit %d, %s; want dream 3 again", code, errOut)
	}
	sheet2 := filepath.Join(dir, "sheet2.png")
	if code, _, errOut := cli(t, ctx, "sweep", photo, "-o", sheet2, "--from", sheet, "--model", model, "-q"); code != 0 {
		t.Fatalf("sweep --from the sheet: exit %d: %s", code, errOut)
	}
	if !bytes.Equal(readFile(t, sheet), readFile(t, sheet2)) {
		t.Error("sweep --from the sheet made another sheet")
	}
}

// samePixels reports whether the part r of img holds want's pixels.
func samePixels(img *image.NRGBA, r image.Rectangle, want image.Image) bool {
	for y := range r.Dy() {
		for x := range r.Dx() {
			if img.NRGBAAt(r.Min.X+x, r.Min.Y+y) != color.NRGBAModel.Convert(want.At(x, y)) {
				return false
			}
		}
	}
	return true
}

// darkPixels marks with 1 the pixels of the part r of img darker than
// mid-grey, row by row.
func darkPixels(img *image.NRGBA, r image.Rectangle) []byte {
	var dark []byte
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := img.NRGBAAt(x, y)
			if int(c.R)+int(c.G)+int(c.B) < 3*128 {
				dark = append(dark, 1)
			} else {
				dark = append(dark, 0)
			}
		}
	}
	return dark
}

// TestSweepVariesEveryField sweeps each field of the request table in
// turn, its default against another value: whatever field is added to
// the table can be varied, and each kept dream records its value. An
// image field (--mask, --guide) is varied between two files; the model
// has a classifier, for --class.
func TestSweepVariesEveryField(t *testing.T) {
	model := classNet(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 40, 30)
	d := dream.Defaults()
	for _, f := range dream.Fields() {
		var values, recorded []string
		if f.Kind == "image" { // two files, recorded by their base names
			a, _ := writeMask(t, filepath.Join(t.TempDir(), "a.png"), 40, 30)
			b, _ := writeMask(t, filepath.Join(t.TempDir(), "b.png"), 20, 10)
			values, recorded = []string{a, b}, []string{"a.png", "b.png"}
		} else {
			values = []string{f.Get(&d), unusualValue(f)}
			recorded = values
		}
		if values[0] == "" { // no value, e.g. the layers: only the other
			values, recorded = values[1:], recorded[1:]
		}
		keep := filepath.Join(dir, f.Key)
		args := []string{"sweep", photo, "-o", filepath.Join(dir, f.Key+".png"), "--model", model, "--keep", keep, "-q",
			"--vary", f.Flag + "=" + strings.Join(values, ",")}
		if f.Key != "octaves" {
			args = append(args, "--octaves", "1")
		}
		if f.Key != "iterations" {
			args = append(args, "--iterations", "1")
		}
		if code, _, errOut := cli(t, context.Background(), args...); code != 0 {
			t.Errorf("--vary %s: exit %d: %s", f.Flag, code, errOut)
			continue
		}
		kept, _ := filepath.Glob(filepath.Join(keep, "*.png"))
		if len(kept) != len(values) {
			t.Fatalf("--vary %s kept %q", f.Flag, kept)
		}
		for i, v := range recorded {
			rec := embedded(t, kept[i])
			if got := f.Get(&rec.Request); got != v {
				t.Errorf("--vary %s: dream %d records %s, want %s", f.Flag, i+1, got, v)
			}
		}
	}
}

// TestSweepRefusesBeforeDreaming gives sweep values out of bounds and
// malformed --vary flags with a model file that does not exist: each is
// refused as a usage error (exit 2) before the model is looked for, and
// nothing is written. A layer the model lacks is refused before any dream.
func TestSweepRefusesBeforeDreaming(t *testing.T) {
	dir := t.TempDir()
	photo := writePNG(t, dir, 40, 30)
	out := filepath.Join(dir, "sheet.jpg")
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--vary", "iterations=10,1000"}, 2, "sweep: --vary iterations=1000: want a whole number from 1 to 500"},
		{[]string{"--vary", "iterations=10", "--vary", "octave-scale=1.2,9"}, 2, "--vary octave-scale=9: want a number from 1 to 4"},
		{[]string{"--vary", "step=1,fast"}, 2, "--vary step=fast: want a number from 0.01 to 100"},
		{[]string{"--vary", "layer=r:x"}, 2, `--vary layer=r:x: channel "x" is not a channel number`},
		{[]string{"--vary", "layer=r=0"}, 2, `--vary layer=r=0: weight "0" is 0`},
		{[]string{}, 2, "give --vary FLAG=V1,V2,..."},
		{[]string{"--vary", "iterations"}, 2, "want FLAG=V1,V2,..."},
		{[]string{"--vary", "iteration=1,2"}, 2, "iteration is not a dream flag (those are: layer, octaves,"},
		{[]string{"--vary", "iterations=1,,2"}, 2, "an empty value"},
		{[]string{"--vary", "seed=1", "--vary", "step=1", "--vary", "jitter=1"}, 2, "3 --vary given"},
		{[]string{"--vary", "seed=1", "--vary", "seed=2"}, 2, "--vary seed given twice"},
		{[]string{"--vary", "seed=1,2", "--seed", "4"}, 2, "--seed is given and varied"},
		{[]string{"--vary", "seed=1,2", "--octaves", "0"}, 2, "sweep: --octaves 0: want a whole number from 1 to 12"},
		{[]string{"--vary", "seed=1,2", "--preset", "dogslug"}, 2, `sweep: --preset: no preset "dogslug" (presets: notebook,`},
		{[]string{"--vary", "seed=1,2", "--keep", file}, 2, "--keep " + file + " is not a directory"},
		{[]string{"--vary", "seed=1,2", "--keep", filepath.Join(dir, "no", "such")}, 1, "cannot create a file in"},
		{[]string{"--vary", "seed=1,2", "--quality", "0"}, 2, "sweep: --quality 0"},
		{[]string{"--vary", "seed=1,2", "--from", photo}, 1, "no deepdream metadata"},
	} {
		args := append([]string{"sweep", photo, "-o", out, "--model", filepath.Join(dir, "missing.onnx")}, c.args...)
		code, _, errOut := cli(t, context.Background(), args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, %q; want exit %d saying %q", c.args, code, errOut, c.code, c.want)
		}
	}
	model := writeONNX(t)
	code, _, errOut := cli(t, context.Background(), "sweep", photo, "-o", out, "--model", model, "--vary", "layer=r,nosuch")
	if code != exitError || !strings.Contains(errOut, `"nosuch"`) || strings.Contains(errOut, "dream 1/2") {
		t.Errorf("an unknown layer: exit %d, %q; want exit 1 before the first dream", code, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("refused sweeps left %d entries, want the photo and the file", len(entries))
	}
}

// TestSweepInterruptedLeavesNothing interrupts a sweep at its first step:
// exit 130, and neither the sheet, the --keep directory nor a temporary
// file is left.
func TestSweepInterruptedLeavesNothing(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 64, 48)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOnWrite{cancel: cancel}
	code := run(ctx, []string{"sweep", photo, "-o", filepath.Join(dir, "sheet.png"), "--model", model, "--keep", filepath.Join(dir, "kept"),
		"--octaves", "1", "--vary", "iterations=3,4"}, &bytes.Buffer{}, w)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitInterrupted, w.buf.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %v after an interrupted sweep, want only the photo", entries)
	}
}

func TestSplitValuesKeepsChannelLists(t *testing.T) {
	layers, iterations := dream.Fields()[0], dream.Fields()[3]
	for _, c := range []struct {
		f    dream.Field
		list string
		want []string
	}{
		{layers, "a,b", []string{"a", "b"}},
		{layers, "a:1,2,b", []string{"a:1,2", "b"}},
		{layers, "a:1,2=0.5,3", []string{"a:1,2=0.5", "3"}},
		{layers, "a:1, 2 =2,b+c:4,5,d", []string{"a:1, 2 =2", "b+c:4,5", "d"}},
		{layers, "a+b,c", []string{"a+b", "c"}},
		{iterations, "1,2", []string{"1", "2"}},
	} {
		if got := splitValues(c.f, c.list); !slices.Equal(got, c.want) {
			t.Errorf("%s=%s: %q, want %q", c.f.Flag, c.list, got, c.want)
		}
	}
	for s, want := range map[string]string{"layer=inception_4c/output:1,2=-0.5": "layer=inception_4c_output_1,2=-0.5", "a b\\c\x00": "a_b_c_"} {
		if got := fileSafe(s); got != want {
			t.Errorf("fileSafe(%q) = %q, want %q", s, got, want)
		}
	}
}

// sheetRecordOf is the text of a sheet's record, for the fuzz seeds.
func sheetRecordOf(rec dream.Record, key string, values ...string) string {
	i := slices.IndexFunc(dream.Fields(), func(f dream.Field) bool { return f.Key == key })
	return sheetRecord(rec, []axis{{field: dream.Fields()[i], values: values}})
}

func TestSheetRecordReadsBack(t *testing.T) {
	rec := dream.Record{Version: version, Model: "net.onnx", Request: dream.Defaults()}
	rec.Request.Layers = []string{"x"}
	text := sheetRecordOf(rec, "layers", "a:1,2", "b+c")
	var back dream.Record
	if err := json.Unmarshal([]byte(text), &back); err != nil || !reflect.DeepEqual(back.Request, rec.Request) {
		t.Errorf("%s read back as %+v, %v", text, back, err)
	}
}
