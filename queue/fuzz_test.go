package queue

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/motion"
)

// FuzzDecodeTask feeds DecodeTask what a message on the work queue may
// hold: it never panics, and a task it takes encodes and decodes to
// itself.
func FuzzDecodeTask(f *testing.F) {
	good, _ := json.Marshal(task("job-1", 2))
	f.Add(good)
	withImages := task("job-2", 1)
	withImages.Images = []string{"mask.png", "guide.jpg"}
	withImages.Timeout = time.Minute
	data, _ := json.Marshal(withImages)
	f.Add(data)
	zoom := task("job-3", 1)
	o := motion.Defaults()
	o.Frames = 4
	zoom.Kind, zoom.Motion = motion.Zoom, &o
	data, _ = json.Marshal(zoom)
	f.Add(data)
	f.Add([]byte(`{"id":"a","kind":"video","motion":{"Blend":2}}`))
	f.Add([]byte(`{"id":"a","kind":"zoom"}`))
	f.Add([]byte(`{"id":"../x","record":{}}`))
	f.Add([]byte(`{"id":"a","images":["../../etc/passwd"]}`))
	f.Add([]byte(`{"id":"a","peak":-1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeTask(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("a task taken does not encode: %v", err)
		}
		if _, err := DecodeTask(again); err != nil {
			t.Fatalf("a task taken is refused once encoded again: %v\n%s", err, again)
		}
	})
}
