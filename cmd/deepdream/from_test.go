package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/onnx"
)

// TestFromFindsModelFileBySHA256 dreams with a model file and its sidecar,
// then makes the dream again with --from from another directory, where
// the model is under another name, without its sidecar, in a --models
// directory, and a different file has its old name in the working
// directory: the record's sha256 finds the right file and its
// preprocessing stands in for the sidecar, so the dream comes out the
// same. Without a matching file --from refuses; --model naming another
// file, a record of another version and one without sha256 are warned
// about.
func TestFromFindsModelFileBySHA256(t *testing.T) {
	model := writeONNX(t)
	sidecar := `{"channel_order": "RGB", "scale": 0.5, "mean": [1, 2, 3], "std": [2, 2, 2]}`
	if err := os.WriteFile(model+".json", []byte(sidecar), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	dir := t.TempDir()
	photo := writePNG(t, dir, 24, 16)
	first := filepath.Join(dir, "first.png")
	small := []string{"--octaves", "1", "--iterations", "2", "-q"}
	if code, _, errOut := cli(t, context.Background(), append([]string{"dream", photo, "-o", first, "--model", model}, small...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rec := embedded(t, first)
	want := dream.Preprocess{Scale: 0.5, Mean: [3]float32{1, 2, 3}, Std: [3]float32{2, 2, 2}}
	if rec.Model != "net.onnx" || rec.ModelSHA256 != hex.EncodeToString(sum[:]) || rec.Preprocess == nil || *rec.Preprocess != want {
		t.Fatalf("record %+v, want net.onnx with its sha256 and the sidecar's preprocessing", rec)
	}

	moved := t.TempDir()
	if err := os.WriteFile(filepath.Join(moved, "renamed.onnx"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	t.Chdir(elsewhere)
	impostor := writeONNX(t, &onnx.Node{OpType: "Relu", Inputs: []string{"r"}, Outputs: []string{"r2"}}) // another file of the same name
	if err := os.WriteFile("net.onnx", readFile(t, impostor), 0o644); err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(dir, "again.png")
	code, _, errOut := cli(t, context.Background(), "dream", photo, "-o", again, "--from", first, "--models", moved, "-q")
	if code != 0 || errOut != "" {
		t.Fatalf("--from elsewhere: exit %d: %s", code, errOut)
	}
	a, _ := decodeFile(t, first)
	b, _ := decodeFile(t, again)
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Error("--from with the model moved and renamed dreamed something else")
	}

	code, _, errOut = cli(t, context.Background(), "dream", photo, "-o", again, "--from", first, "-q")
	if code != exitError || !strings.Contains(errOut, "the dream's model net.onnx (sha256 "+rec.ModelSHA256+") is not in") ||
		!strings.Contains(errOut, "--model FILE") {
		t.Errorf("--from without the model: exit %d, %q; want a refusal naming the sha256", code, errOut)
	}

	code, _, errOut = cli(t, context.Background(), "dream", photo, "-o", again, "--from", first, "--model", "net.onnx", "-q")
	if code != 0 || !strings.Contains(errOut, "warning: net.onnx is not the model "+first+" was dreamed with") {
		t.Errorf("--from with --model of another file: exit %d, %q; want a warning", code, errOut)
	}

	old := writeRecord(t, t.TempDir(), `{"version":"v0.1","model":"net.onnx","layers":["r"],"octaves":1,"iterations":1}`)
	code, _, errOut = cli(t, context.Background(), "dream", photo, "-o", again, "--from", old, "-q")
	if code != 0 || !strings.Contains(errOut, "was dreamed by deepdream v0.1, this is "+version) ||
		!strings.Contains(errOut, "records no sha256 of its model: using the file net.onnx by its name") {
		t.Errorf("--from an old record: exit %d, %q; want two warnings", code, errOut)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzDreamFrom gives dream --from a PNG carrying random record text,
// seeded from real dreams' records (../../dream/testdata/records) and from
// a record of this network: the command never panics, exits 0, 1 or 2,
// and exits 0 only for a record whose values are all within the flags'
// bounds. --model and --offline keep the record's model name from
// reaching the registry or the network; --iterations 1 keeps runs short.
func FuzzDreamFrom(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "dream", "testdata", "records", "*.json"))
	for _, file := range files {
		f.Add(string(readFile(f, file)))
	}
	if len(files) == 0 {
		f.Fatal("no records in dream/testdata/records")
	}
	model := writeONNX(f)
	dir := f.TempDir()
	photo := writePNG(f, dir, 40, 30)
	rec := dream.Record{Version: version, Model: "net.onnx", Preprocess: &dream.Caffe, Request: dream.Defaults()}
	rec.Request.Layers = []string{"r:1,3=-2"}
	f.Add(rec.String())
	f.Add(sheetRecordOf(rec, "iterations", "1", "2"))
	f.Add(sheetRecordOf(rec, "layers", "r", "r:1,3=-2+c"))
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) || len(text) > 1<<16 {
			return // not embeddable: Encode refuses it
		}
		dir := t.TempDir()
		from := writeRecord(t, dir, text)
		code, _, errOut := cli(t, context.Background(), "dream", photo, "-o", filepath.Join(dir, "o.png"),
			"--from", from, "--model", model, "--offline", "--iterations", "1", "-q")
		var r dream.Record
		valid := json.Unmarshal([]byte(text), &r) == nil
		if valid {
			r.Request.Iterations = 1
			valid = r.Request.Validate() == nil
		}
		if axes, err := sheetAxes(from); err != nil || slices.ContainsFunc(axes, func(a axis) bool { return a.field.Key != "iterations" }) {
			valid = false // the sheet of a sweep, whose dreams the flags given do not choose between
		}
		switch {
		case code != exitOK && code != exitError && code != exitUsage:
			t.Fatalf("exit %d: %s", code, errOut)
		case code == exitOK && !valid:
			t.Fatalf("a record out of bounds dreamed: %s", text)
		case code == exitUsage && valid:
			t.Fatalf("a valid record is a usage error: %s", errOut)
		}
	})
}
