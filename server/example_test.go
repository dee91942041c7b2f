package server_test

import (
	"fmt"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/models"
	"github.com/deepdream-go/deepdream/server"
)

// A job of a queue names its model by the sha256 of the model file, as
// the record of a dream does: ModelOf finds it among a studio's models
// whatever name each was given there.
func ExampleModelOf() {
	catalog := []*server.Model{
		server.NewModel("googlenet", &models.Entry{SHA256: "aa11"}, nil),
		server.NewModel("mine", &models.Entry{SHA256: "bb22"}, nil),
	}
	for _, rec := range []dream.Record{
		{Model: "my-copy.onnx", ModelSHA256: "bb22"},
		{Model: "googlenet", ModelSHA256: "cc33"},
	} {
		if m := server.ModelOf(catalog, rec); m != nil {
			fmt.Printf("%s (sha256 %s): the studio's %s\n", rec.Model, rec.ModelSHA256, m.Name)
		} else {
			fmt.Printf("%s (sha256 %s): none of the studio's\n", rec.Model, rec.ModelSHA256)
		}
	}
	// Output:
	// my-copy.onnx (sha256 bb22): the studio's mine
	// googlenet (sha256 cc33): none of the studio's
}
