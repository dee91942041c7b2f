package video_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"path/filepath"

	"github.com/deepdream-go/deepdream/video"
)

// Frames go out through Create (here a directory of PNG frames; an .mp4,
// .webm or .gif path works the same) and come back through Open.
func Example() {
	dir, err := os.MkdirTemp("", "video-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "frames") // no extension: a directory of frames
	w, err := video.Create(context.Background(), out, video.WriteOptions{
		Width: 32, Height: 24, Rate: video.Rate{Num: 12, Den: 1}, Comment: `{"example":true}`,
	})
	if err != nil {
		panic(err)
	}
	for i := range 3 {
		img := image.NewNRGBA(image.Rect(0, 0, 32, 24))
		img.SetNRGBA(i, 0, color.NRGBA{255, 0, 0, 255})
		if err := w.Write(img); err != nil {
			w.Abort() // leaves nothing at out
			panic(err)
		}
	}
	if err := w.Close(); err != nil { // puts the directory in place
		panic(err)
	}

	r, err := video.Open(context.Background(), out, video.ReadOptions{Rate: video.Rate{Num: 12, Den: 1}})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	info := r.Info()
	fmt.Println(info.Width, info.Height, info.Rate, info.Frames, "frames")
	for {
		img, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Println(img.Bounds(), img.NRGBAAt(1, 0))
	}
	// Output:
	// 32 24 12 3 frames
	// (0,0)-(32,24) {0 0 0 255}
	// (0,0)-(32,24) {255 0 0 255}
	// (0,0)-(32,24) {0 0 0 255}
}

func ExampleParseRate() {
	for _, s := range []string{"24", "29.97", "30000/1001", "0"} {
		r, err := video.ParseRate(s)
		fmt.Printf("%s: %v %.3f %v\n", s, r, r.FPS(), err != nil)
	}
	// Output:
	// 24: 24 24.000 false
	// 29.97: 2997/100 29.970 false
	// 30000/1001: 30000/1001 29.970 false
	// 0: 0/0 NaN true
}
