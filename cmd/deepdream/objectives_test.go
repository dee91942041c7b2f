package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/internal/shared"
)

// classify returns `deepdream classify --top 1000` of an image: each
// label's probability and rank (0 the first).
func classify(t *testing.T, model, image string) (prob map[string]float64, rank map[string]int) {
	t.Helper()
	code, out, errOut := cli(t, context.Background(), "classify", "--model", model, "--top", "1000", image)
	if code != 0 {
		t.Fatalf("classify %s: exit %d: %s", image, code, errOut)
	}
	prob, rank = map[string]float64{}, map[string]int{}
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		j := strings.LastIndexByte(line, ' ')
		p, err := strconv.ParseFloat(line[j+1:], 64)
		if err != nil {
			t.Fatalf("classify: line %q", line)
		}
		prob[line[:j]], rank[line[:j]] = p, i
	}
	return prob, rank
}

// TestDreamClassRaisesItsProbability is the acceptance test of --class:
// dog.jpg dreamed towards goldfish at 320x240 (not the classifier's
// 224x224) has goldfish at least 10 times as probable in `classify` as the
// photo had it, and among its top 5; with a layer too, at least 10 times
// as probable; and a negative weight makes the photo's own class, Siberian
// husky, at least 10 times less probable.
func TestDreamClassRaisesItsProbability(t *testing.T) {
	model := shared.GoogLeNet(t)
	photo := shared.Path(t, "images/dog.jpg")
	dir := t.TempDir()
	before, beforeRank := classify(t, model, photo)
	for _, tc := range []struct {
		name, class string
		args        []string
		gain        float64 // at least; below 1: a fall
		top5        bool
	}{
		{"class", "goldfish", []string{"--class", "goldfish"}, 10, true},
		{"with a layer", "goldfish", []string{"--layer", "inception_4c/output", "--class", "goldfish"}, 10, false},
		{"negative", "Siberian husky", []string{"--class", "siberian husky=-1"}, 0.1, false},
	} {
		out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".png")
		args := append([]string{"dream", photo, "-o", out, "--model", model, "--max-size", "320", "--octaves", "2", "--iterations", "10", "-q"}, tc.args...)
		if code, _, errOut := cli(t, context.Background(), args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.name, code, errOut)
		}
		after, afterRank := classify(t, model, out)
		gain := after[tc.class] / before[tc.class]
		t.Logf("%s: %s %.3g (rank %d) -> %.3g (rank %d): x%.3g", tc.name, tc.class, before[tc.class], beforeRank[tc.class]+1, after[tc.class], afterRank[tc.class]+1, gain)
		if tc.gain >= 1 && gain < tc.gain || tc.gain < 1 && gain > tc.gain {
			t.Errorf("%s: %s's probability changed x%.3g, want x%g", tc.name, tc.class, gain, tc.gain)
		}
		if tc.top5 && afterRank[tc.class] >= 5 {
			t.Errorf("%s: %s ranks %d, want the top 5", tc.name, tc.class, afterRank[tc.class]+1)
		}
	}
}

// TestDreamGuideFoundBySHA256 dreams with --guide, then again with --from
// elsewhere, the guide renamed beside the dream: its sha256 finds it, as
// it finds a mask, and the dream comes out the same. Without the file
// --from refuses, naming the guide; with --guide naming another file it
// warns; --guide "" drops it; the guide changes the dream.
func TestDreamGuideFoundBySHA256(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 36, 28)
	guide := filepath.Join(t.TempDir(), "flowers.png")
	if err := os.Rename(writePNG(t, t.TempDir(), 20, 30), guide); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(readFile(t, guide))
	small := []string{"--model", model, "--layer", "r", "--octaves", "2", "--iterations", "3", "-q"}
	first, plain := filepath.Join(dir, "first.png"), filepath.Join(dir, "plain.png")
	if code, _, errOut := cli(t, context.Background(), append([]string{"dream", photo, "-o", first, "--guide", guide}, small...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, _, errOut := cli(t, context.Background(), append([]string{"dream", photo, "-o", plain}, small...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rec := embedded(t, first)
	if r := rec.Request; r.Guide != "flowers.png" || r.Images["flowers.png"].SHA256 != hex.EncodeToString(sum[:]) || len(r.Images) != 1 {
		t.Fatalf("record %+v, want the guide flowers.png and its sha256", r)
	}
	a, _ := decodeFile(t, first)
	b, _ := decodeFile(t, plain)
	if bytes.Equal(a.Pix, b.Pix) {
		t.Error("the guided dream is the unguided one")
	}

	if err := os.WriteFile(filepath.Join(dir, "renamed.PNG"), readFile(t, guide), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	again := filepath.Join(dir, "again.png")
	code, _, errOut := cli(t, context.Background(), "dream", photo, "-o", again, "--from", first, "--model", model, "-q")
	if code != 0 || errOut != "" {
		t.Fatalf("--from with the guide renamed beside it: exit %d: %s", code, errOut)
	}
	c, _ := decodeFile(t, again)
	if !bytes.Equal(a.Pix, c.Pix) {
		t.Error("--from with the guide renamed dreamed something else")
	}

	if err := os.Remove(filepath.Join(dir, "renamed.PNG")); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = cli(t, context.Background(), "dream", photo, "-o", again, "--from", first, "--model", model, "-q")
	if code != exitError || !strings.Contains(errOut, "the dream's guide flowers.png (sha256 "+hex.EncodeToString(sum[:])+") is not in") ||
		!strings.Contains(errOut, "pass it with --guide FILE") {
		t.Errorf("--from without the guide: exit %d, %q; want a refusal naming it", code, errOut)
	}
	code, _, errOut = cli(t, context.Background(), "dream", photo, "-o", again, "--from", first, "--model", model, "--guide", photo, "-q")
	if code != 0 || !strings.Contains(errOut, "warning: "+photo+" is not the guide "+first+" was dreamed with (flowers.png, sha256 ") {
		t.Errorf("--from with another --guide: exit %d, %q; want a warning", code, errOut)
	}
	code, _, errOut = cli(t, context.Background(), "dream", photo, "-o", again, "--from", first, "--model", model, "--guide", "", "-q")
	if r := embedded(t, again).Request; code != 0 || errOut != "" || r.Guide != "" || r.Images != nil {
		t.Errorf("--from with --guide \"\": exit %d, %q; want no guide", code, errOut)
	}
	code, _, errOut = cli(t, context.Background(), "dream", photo, "-o", again, "--guide", "missing.jpg", "-q", "--model", model)
	if code != exitError || !strings.Contains(errOut, "missing.jpg") {
		t.Errorf("a missing guide: exit %d, %q", code, errOut)
	}
}
