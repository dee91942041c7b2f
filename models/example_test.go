package models_test

import (
	"context"
	"fmt"
	"os"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/models"
)

// Opening a --model value as the command line does: a registry name is
// downloaded into the cache if needed, a file takes its profile from
// flags and its sidecar; Open then says what it assumed about the layers.
func ExampleEntry_Open() {
	path, entry, err := models.Resolve(context.Background(), "my-model.onnx", models.Options{NoDownload: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	if entry == nil { // a file, not a registry name
		var note string
		if entry, note, err = models.FileEntry(path, models.Override{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
		if note != "" {
			fmt.Fprintln(os.Stderr, note) // the preprocessing assumed
		}
	}
	net, note, err := entry.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	if note != "" {
		fmt.Fprintln(os.Stderr, note) // the default layer chosen
	}
	req := dream.Defaults() // no layers: net.DefaultLayer
	if _, err := net.Resolve(&req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println("dreaming", req.Layers)
}
