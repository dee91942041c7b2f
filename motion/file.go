package motion

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
	"github.com/deepdream-go/deepdream/video"
)

// Files of a FileJob's directory.
const (
	fileClip   = "clip"       // a video job's input, as uploaded
	fileFrames = "frames"     // the work directory of its frames
	fileOut    = "result.mp4" // its output, there once whole
)

// FileJob is a zoom or a video job of the studio, in the studio or on a
// worker of its queue: its input a file's bytes, its output an MP4, its
// frames kept in a directory of its own, so that the job run again
// there (a redelivery) resumes where it stopped.
type FileJob struct {
	Kind    string
	Net     *dream.Network
	Record  dream.Record // the request (resolved), its images loaded
	Options Options
	// Input is the photo of a zoom or the clip of a video, as uploaded;
	// MaxPixels bounds its pixels (a video's frames').
	Input     []byte
	MaxPixels int
	// Dir holds the job's work: made if missing, left for the caller to
	// remove once the job has ended (not when it is to be run again).
	Dir      string
	Progress func(dream.MotionProgress)
}

// FileResult is what a FileJob made: the MP4 with the animation's
// record in its comment, the record, the frame count and the last frame
// (for a thumbnail).
type FileResult struct {
	MP4    []byte
	Record string
	Frames int
	Last   *image.NRGBA
}

// RunFile runs a FileJob: the animation of its input, dreamed into
// Dir's frames and an MP4 (H.264, 4:2:0, its index first: a browser
// plays it as it loads), with the sound of a video's clip.
func RunFile(ctx context.Context, fj FileJob) (FileResult, error) {
	if err := os.MkdirAll(filepath.Join(fj.Dir, fileFrames), 0o777); err != nil {
		return FileResult{}, err
	}
	sum := sha256.Sum256(fj.Input)
	in := Input{Name: "original", SHA256: hex.EncodeToString(sum[:])}
	j := &Job{Kind: fj.Kind, Net: fj.Net, Request: fj.Record.Request, Options: fj.Options, Out: filepath.Join(fj.Dir, fileOut),
		WorkDir: filepath.Join(fj.Dir, fileFrames), Progress: fj.Progress}
	switch fj.Kind {
	case Zoom:
		photo, _, err := imageio.DecodeInfo(bytes.NewReader(fj.Input), fj.MaxPixels)
		if err != nil {
			return FileResult{}, err
		}
		j.Photo = photo
	case Video:
		clip := filepath.Join(fj.Dir, fileClip)
		if err := atomicfile.Write(clip, func(w io.Writer) error { _, err := w.Write(fj.Input); return err }); err != nil {
			return FileResult{}, err
		}
		frames, err := video.Open(ctx, clip, video.ReadOptions{Start: fj.Options.Start, Duration: fj.Options.Duration, MaxPixels: fj.MaxPixels})
		if err != nil {
			return FileResult{}, err
		}
		defer frames.Close()
		info := frames.Info()
		j.Frames, j.Options.FPS = frames, info.Rate // the record's rate: the clip's
		if info.Audio != "" {
			j.Write.Audio, j.Write.AudioStart, j.Write.AudioDuration = clip, fj.Options.Start, fj.Options.Duration
		}
	default:
		return FileResult{}, fmt.Errorf("motion: a job of kind %q; want %s or %s", fj.Kind, Zoom, Video)
	}
	j.Record = Record(fj.Record.String(), fj.Kind, in, &j.Options)
	n, last, err := Run(ctx, j)
	if err != nil {
		return FileResult{}, err
	}
	if last == nil {
		return FileResult{}, fmt.Errorf("motion: the %s has no frame", fj.Kind)
	}
	data, err := os.ReadFile(j.Out)
	if err != nil {
		return FileResult{}, err
	}
	return FileResult{MP4: data, Record: j.Record, Frames: n, Last: last}, nil
}
