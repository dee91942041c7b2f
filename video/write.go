package video

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
)

// Format is what Create writes, chosen by the output's name.
type Format string

const (
	MP4  Format = "mp4"  // H.264 through ffmpeg
	WebM Format = "webm" // VP9 through ffmpeg
	GIF  Format = "gif"  // pure Go
	Dir  Format = "dir"  // a directory of PNG frames
)

// FormatOf returns the format of the output path: by its extension
// (.mp4, .webm, .gif, in any case), or a directory of frames when it has
// no extension, ends in a separator, or is a directory already.
func FormatOf(path string) (Format, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() || strings.HasSuffix(path, string(filepath.Separator)) || strings.HasSuffix(path, "/") {
		return Dir, nil
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".mp4", ".m4v":
		return MP4, nil
	case ".webm":
		return WebM, nil
	case ".gif":
		return GIF, nil
	case "":
		return Dir, nil
	default:
		return "", fmt.Errorf("video: cannot write %s: %s is not a supported output (supported: .mp4, .webm, .gif, or a directory of PNG frames)", path, ext)
	}
}

// FrameName is the name of the i-th frame (0-based) in a directory of
// frames that Create writes: frame-00001.png for the first.
func FrameName(i int) string { return fmt.Sprintf("frame-%05d.png", i+1) }

// CheckOutput refuses, before the long work, an output that Create could
// not write: an unsupported extension, a video without ffmpeg (it wraps
// ErrNoFFmpeg), a place where nothing can be written, and a directory
// that holds anything but frames (Create replaces it whole).
func CheckOutput(path string) (Format, error) {
	f, err := FormatOf(path)
	if err != nil {
		return "", err
	}
	switch f {
	case MP4, WebM:
		if err := Available(); err != nil {
			return "", err
		}
	case Dir:
		entries, err := os.ReadDir(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		for _, e := range entries {
			if !isFrameName(e.Name()) {
				return "", fmt.Errorf("video: the output %s is a directory that holds %s, not only frames: give a new or empty directory, or a directory of frames to replace", path, e.Name())
			}
		}
		path = strings.TrimRight(path, `/\`)
		if path == "" {
			return "", errors.New("video: / cannot be a directory of frames")
		}
		p, err := atomicfile.CreateDir(path) // it can be made
		if err != nil {
			return "", err
		}
		p.Abort()
		return f, nil
	}
	return f, atomicfile.Check(path)
}

// isFrameName reports whether name is one FrameName gives.
func isFrameName(name string) bool {
	num, ok := strings.CutPrefix(name, "frame-")
	num, ok2 := strings.CutSuffix(num, ".png")
	return ok && ok2 && len(num) >= 5 && digits(num) == len(num)
}

// WriteOptions says what Create writes.
type WriteOptions struct {
	Width, Height int
	Rate          Rate // 0: DefaultRate
	// Comment is the record of the video (the container's comment tag, a
	// GIF comment extension); FrameComment(i), if not nil, the record of
	// its i-th frame in a directory of PNG frames (else Comment).
	Comment      string
	FrameComment func(i int) string
	// Audio, if not "", is a video file whose first audio stream is
	// copied into an MP4 or WebM output, from AudioStart for
	// AudioDuration (0: to its end): the part of the input the frames
	// come from. It is re-encoded (AAC, Opus) only when the container
	// cannot hold its codec. A GIF or a directory has no sound.
	Audio                     string
	AudioStart, AudioDuration time.Duration
	// Quality is the H.264 or VP9 constant rate factor (0: 18 and 32,
	// which look like their source).
	Quality int
}

// Writer writes the frames of an animation or a video, in order.
type Writer interface {
	// Write adds the next frame, of WriteOptions' size.
	Write(img image.Image) error
	// Close finishes the output and puts it in place.
	Close() error
	// Abort stops writing and leaves nothing.
	Abort()
}

// Create starts writing an output of the format its path names
// (FormatOf). Nothing is at path before Close; cancelling ctx stops
// ffmpeg, after which Close fails and Abort cleans up.
func Create(ctx context.Context, path string, o WriteOptions) (Writer, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	if o.Width <= 0 || o.Height <= 0 {
		return nil, fmt.Errorf("video: %s: frames of %dx%d", path, o.Width, o.Height)
	}
	if o.Rate.Num == 0 {
		o.Rate = DefaultRate
	}
	switch format {
	case Dir:
		return createDir(path, o)
	case GIF:
		return createGIF(path, o)
	}
	return createFFmpeg(ctx, path, format, o)
}

// frameRGB copies img, of the writer's size, into buf as rgb24.
func frameRGB(buf []byte, img image.Image, w, h int) error {
	b := img.Bounds()
	if b.Dx() != w || b.Dy() != h {
		return fmt.Errorf("video: a frame of %dx%d in a video of %dx%d", b.Dx(), b.Dy(), w, h)
	}
	n := imageio.NRGBA(img)
	for y := range h {
		row := n.Pix[y*n.Stride : y*n.Stride+4*w]
		out := buf[3*w*y : 3*w*(y+1)]
		for x := range w {
			out[3*x], out[3*x+1], out[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
	return nil
}

// ffmpegWriter pipes rgb24 frames into ffmpeg, which writes the
// temporary file of the output.
type ffmpegWriter struct {
	path    string
	o       WriteOptions
	pending *atomicfile.Pending
	cmd     *exec.Cmd
	in      io.WriteCloser
	bw      *bufio.Writer
	stderr  *limitedBuffer
	buf     []byte
	err     error
}

// containerAudio are the audio codecs each container holds as they are.
var containerAudio = map[Format][]string{
	MP4:  {"aac", "mp3", "opus", "alac", "ac3", "eac3"},
	WebM: {"opus", "vorbis"},
}

func createFFmpeg(ctx context.Context, path string, format Format, o WriteOptions) (*ffmpegWriter, error) {
	ffmpeg, err := program("ffmpeg")
	if err != nil {
		return nil, err
	}
	audio := ""
	if o.Audio != "" {
		info, err := Probe(ctx, o.Audio)
		if err != nil {
			return nil, err
		}
		audio = info.Audio
	}
	pending, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	args := []string{"-nostdin", "-v", "error", "-y",
		"-f", "rawvideo", "-pix_fmt", "rgb24", "-s", fmt.Sprintf("%dx%d", o.Width, o.Height), "-framerate", o.Rate.String(), "-i", "pipe:0"}
	if audio != "" {
		if o.AudioStart > 0 {
			args = append(args, "-ss", secondsArg(o.AudioStart))
		}
		if o.AudioDuration > 0 {
			args = append(args, "-t", secondsArg(o.AudioDuration))
		}
		args = append(args, "-i", o.Audio, "-map", "0:v:0", "-map", "1:a:0")
		switch {
		case slices.Contains(containerAudio[format], audio):
			args = append(args, "-c:a", "copy")
		case format == WebM:
			args = append(args, "-c:a", "libopus", "-b:a", "128k")
		default:
			args = append(args, "-c:a", "aac", "-b:a", "192k")
		}
	}
	// 4:2:0 needs even sides: an odd one gets a last row or column of black.
	if o.Width%2 != 0 || o.Height%2 != 0 {
		args = append(args, "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2")
	}
	quality := o.Quality
	switch format {
	case MP4:
		if quality == 0 {
			quality = 18
		}
		args = append(args, "-c:v", "libx264", "-preset", "medium", "-crf", fmt.Sprint(quality), "-pix_fmt", "yuv420p",
			"-movflags", "+faststart", "-f", "mp4")
	case WebM:
		if quality == 0 {
			quality = 32
		}
		args = append(args, "-c:v", "libvpx-vp9", "-crf", fmt.Sprint(quality), "-b:v", "0", "-row-mt", "1", "-deadline", "good", "-cpu-used", "4",
			"-pix_fmt", "yuv420p", "-f", "webm")
	}
	if o.Comment != "" {
		args = append(args, "-metadata", "comment="+o.Comment)
	}
	args = append(args, pending.Name())
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	cmd.WaitDelay = 5 * time.Second
	in, err := cmd.StdinPipe()
	if err != nil {
		pending.Abort()
		return nil, err
	}
	w := &ffmpegWriter{path: path, o: o, pending: pending, cmd: cmd, in: in, bw: bufio.NewWriterSize(in, 1<<20),
		stderr: &limitedBuffer{}, buf: make([]byte, 3*o.Width*o.Height)}
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		pending.Abort()
		return nil, fmt.Errorf("video: ffmpeg: %w", err)
	}
	return w, nil
}

func (w *ffmpegWriter) Write(img image.Image) error {
	if w.err != nil {
		return w.err
	}
	if err := frameRGB(w.buf, img, w.o.Width, w.o.Height); err != nil {
		return err
	}
	if _, err := w.bw.Write(w.buf); err != nil {
		w.in.Close()
		w.err = w.failed(err)
		return w.err
	}
	return nil
}

// failed returns the error of ffmpeg's exit, or err if it exited well.
func (w *ffmpegWriter) failed(err error) error {
	if werr := w.cmd.Wait(); werr != nil {
		return programError("ffmpeg", w.path, werr, w.stderr)
	}
	return fmt.Errorf("video: writing %s: %w", w.path, err)
}

func (w *ffmpegWriter) Close() error {
	if w.err != nil {
		w.pending.Abort()
		return w.err
	}
	err := w.bw.Flush()
	if cerr := w.in.Close(); err == nil {
		err = cerr
	}
	werr := w.cmd.Wait()
	w.err = errors.New("video: closed")
	switch {
	case werr != nil:
		w.pending.Abort()
		return programError("ffmpeg", w.path, werr, w.stderr)
	case err != nil:
		w.pending.Abort()
		return fmt.Errorf("video: writing %s: %w", w.path, err)
	}
	return w.pending.Commit()
}

func (w *ffmpegWriter) Abort() {
	if w.err == nil {
		w.err = errors.New("video: aborted")
		w.cmd.Process.Kill()
		w.in.Close()
		w.cmd.Wait()
	}
	w.pending.Abort()
}

// dirWriter writes PNG frames into a temporary directory that replaces
// the output's on Close.
type dirWriter struct {
	o       WriteOptions
	pending *atomicfile.Pending
	n       int
}

func createDir(path string, o WriteOptions) (*dirWriter, error) {
	if _, err := CheckOutput(path); err != nil {
		return nil, err // a directory of other files is not replaced
	}
	pending, err := atomicfile.CreateDir(strings.TrimRight(path, `/\`))
	if err != nil {
		return nil, err
	}
	return &dirWriter{o: o, pending: pending}, nil
}

func (d *dirWriter) Write(img image.Image) error {
	if b := img.Bounds(); b.Dx() != d.o.Width || b.Dy() != d.o.Height {
		return fmt.Errorf("video: a frame of %dx%d in a video of %dx%d", b.Dx(), b.Dy(), d.o.Width, d.o.Height)
	}
	comment := d.o.Comment
	if d.o.FrameComment != nil {
		comment = d.o.FrameComment(d.n)
	}
	err := WritePNG(filepath.Join(d.pending.Name(), FrameName(d.n)), img, comment)
	d.n++
	return err
}

// WritePNG writes a frame as an 8-bit PNG with its record, atomically.
func WritePNG(path string, img image.Image, comment string) error {
	var buf bytes.Buffer
	if err := imageio.Encode(&buf, opaque(img), "png", imageio.EncodeOptions{Metadata: comment}); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.WriteBytes(path, buf.Bytes())
}

// opaque returns img as an opaque 8-bit image: a frame has no
// transparency.
func opaque(img image.Image) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() && imageio.Depth(img) == 8 {
		return img
	}
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Rect, image.Black, image.Point{}, draw.Src)
	draw.Draw(dst, dst.Rect, img, b.Min, draw.Over)
	return dst
}

func (d *dirWriter) Close() error { return d.pending.Commit() }

func (d *dirWriter) Abort() { d.pending.Abort() }
