package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/internal/recorded"
	"github.com/deepdream-go/deepdream/queue"
)

// TestFilesBySHAFindsAModelCopiedLater asks a worker's model finder for
// a model its --models directory lacks, then copies the file there, as
// the refusal says to: the next job finds it without a restart.
func TestFilesBySHAFindsAModelCopiedLater(t *testing.T) {
	model := writeONNX(t)
	_, sum, err := recorded.HashFile(model)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	find := filesBySHA(dir, t.Logf)
	rec := dream.Record{Model: "net.onnx", ModelSHA256: sum}
	var me *queue.ModelError
	if _, err := find(context.Background(), rec); !errors.As(err, &me) {
		t.Fatalf("before the copy: %v, want a *queue.ModelError", err)
	}
	data, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "copied.onnx"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if net, err := find(context.Background(), rec); err != nil || net == nil {
		t.Fatalf("after the copy: %v", err)
	}
}
