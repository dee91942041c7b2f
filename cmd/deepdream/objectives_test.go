package main

import (
	"context"
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
