package video

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deepdream-go/deepdream/imageio"
)

// ReadOptions says which frames Open reads.
type ReadOptions struct {
	// Start and Duration choose a part of the video: the frames from
	// Start, for Duration (0: to the end).
	Start, Duration time.Duration
	// MaxPixels refuses frames of more pixels (0: imageio.DefaultMaxPixels).
	MaxPixels int
	// Rate is a directory's frame rate (0: 24 frames a second); a video
	// file has its own.
	Rate Rate
}

// DefaultRate is the frame rate of a directory of frames that does not
// say, and of animations unless told.
var DefaultRate = Rate{24, 1}

// Reader reads a video's frames in order.
type Reader interface {
	// Info describes the frames read: their size and rate, and how many
	// there will be (Frames, 0 when not known).
	Info() Info
	// Read returns the next frame, an opaque *image.NRGBA at the origin,
	// which the caller owns; io.EOF after the last.
	Read() (*image.NRGBA, error)
	// Close stops reading (ending ffmpeg if it runs).
	Close() error
}

// Open starts reading the frames of the video file or directory of
// frames at path, as o says. A video file needs ffmpeg (ErrNoFFmpeg); a
// directory holds image files (.png, .jpg, .jpeg, .gif, .webp; others
// are ignored), all of one size, in the order of their names, numbers by
// value. Cancelling ctx stops ffmpeg.
func Open(ctx context.Context, path string, o ReadOptions) (Reader, error) {
	if o.Start < 0 || o.Duration < 0 {
		return nil, fmt.Errorf("video: %s: a negative start or duration", path)
	}
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if st.IsDir() {
		return openDir(path, o)
	}
	return openFile(ctx, path, o)
}

// fileReader reads raw RGB frames from ffmpeg's standard output.
type fileReader struct {
	info   Info
	path   string
	cmd    *exec.Cmd
	out    *bufio.Reader
	stderr *limitedBuffer
	buf    []byte
	done   bool
}

func openFile(ctx context.Context, path string, o ReadOptions) (*fileReader, error) {
	info, _, err := probe(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := checkPixels(path, info.Width, info.Height, o.MaxPixels); err != nil {
		return nil, err
	}
	ffmpeg, err := program("ffmpeg")
	if err != nil {
		return nil, err
	}
	args := []string{"-nostdin", "-v", "error"}
	if o.Start > 0 {
		args = append(args, "-ss", secondsArg(o.Start)) // before -i: a fast seek, exact since frames are decoded
	}
	args = append(args, "-i", path)
	if o.Duration > 0 {
		args = append(args, "-t", secondsArg(o.Duration))
	}
	// Every frame decoded, neither doubled nor dropped: the output has
	// the input's frames at the input's rate.
	args = append(args, "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	r := &fileReader{info: info, path: path, cmd: cmd, out: bufio.NewReaderSize(stdout, 1<<20), stderr: &limitedBuffer{}}
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("video: ffmpeg: %w", err)
	}
	r.info.Frames = framesIn(info, o)
	r.buf = make([]byte, 3*info.Width*info.Height)
	return r, nil
}

// framesIn estimates the frames of info's video that o reads.
func framesIn(info Info, o ReadOptions) int {
	n := info.Frames
	if n == 0 {
		return 0
	}
	n = max(0, n-info.Rate.Frames(o.Start))
	if o.Duration > 0 {
		n = min(n, info.Rate.Frames(o.Duration))
	}
	return n
}

// secondsArg writes d in seconds for ffmpeg's -ss and -t.
func secondsArg(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

func (r *fileReader) Info() Info { return r.info }

func (r *fileReader) Read() (*image.NRGBA, error) {
	if r.done {
		return nil, io.EOF
	}
	_, err := io.ReadFull(r.out, r.buf)
	if err == io.EOF {
		r.done = true
		if err := r.cmd.Wait(); err != nil {
			return nil, programError("ffmpeg", r.path, err, r.stderr)
		}
		return nil, io.EOF
	}
	if err != nil {
		r.done = true
		werr := r.cmd.Wait()
		if werr != nil {
			return nil, programError("ffmpeg", r.path, werr, r.stderr)
		}
		return nil, fmt.Errorf("video: %s: a frame cut short (%w)", r.path, err)
	}
	w, h := r.info.Width, r.info.Height
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i, j := 0, 0; i < len(r.buf); i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = r.buf[i], r.buf[i+1], r.buf[i+2], 255
	}
	return img, nil
}

func (r *fileReader) Close() error {
	if r.done {
		return nil
	}
	r.done = true
	r.cmd.Process.Kill()
	r.cmd.Wait()
	return nil
}

// checkPixels refuses frames over the pixel limit.
func checkPixels(path string, w, h, maxPixels int) error {
	if maxPixels <= 0 {
		maxPixels = imageio.DefaultMaxPixels
	}
	if int64(w)*int64(h) > int64(maxPixels) {
		return fmt.Errorf("video: %s: frames of %dx%d are over the limit of %d pixels: %w", path, w, h, maxPixels, imageio.ErrTooLarge)
	}
	return nil
}

// FrameExts are the files a directory of frames is read from.
var FrameExts = []string{".png", ".jpg", ".jpeg", ".gif", ".webp"}

// dirReader reads a directory's image files in order.
type dirReader struct {
	info      Info
	dir       string
	files     []string
	next      int
	maxPixels int
	first     *image.NRGBA // read by openDir for the size, until Read returns it
}

func openDir(dir string, o ReadOptions) (*dirReader, error) {
	files, err := Frames(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("video: %s holds no frames (image files: %s)", dir, strings.Join(FrameExts, ", "))
	}
	rate := o.Rate
	if rate.Num == 0 {
		rate = DefaultRate
	}
	skip := min(rate.Frames(o.Start), len(files))
	files = files[skip:]
	if o.Duration > 0 {
		files = files[:min(len(files), rate.Frames(o.Duration))]
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("video: %s: no frame from %s (it holds %d frames at %s a second)", dir, o.Start, skip, rate)
	}
	d := &dirReader{dir: dir, files: files, maxPixels: o.MaxPixels}
	first, err := d.read(0)
	if err != nil {
		return nil, err
	}
	b := first.Bounds()
	d.first = first
	d.info = Info{Width: b.Dx(), Height: b.Dy(), Rate: rate, Frames: len(files),
		Duration: time.Duration(float64(len(files)) / rate.FPS() * float64(time.Second))}
	return d, nil
}

func (d *dirReader) Info() Info { return d.info }

func (d *dirReader) Read() (*image.NRGBA, error) {
	if d.next >= len(d.files) {
		return nil, io.EOF
	}
	i := d.next
	d.next++
	if i == 0 && d.first != nil {
		img := d.first
		d.first = nil
		return img, nil
	}
	img, err := d.read(i)
	if err != nil {
		return nil, err
	}
	if b := img.Bounds(); b.Dx() != d.info.Width || b.Dy() != d.info.Height {
		return nil, fmt.Errorf("video: %s is %dx%d, the frames before it %dx%d: the frames of a video have one size",
			filepath.Join(d.dir, d.files[i]), b.Dx(), b.Dy(), d.info.Width, d.info.Height)
	}
	return img, nil
}

// read decodes the i-th frame, upright and opaque: a video has no
// transparency, so a translucent pixel is shown over black, as ffmpeg
// shows it.
func (d *dirReader) read(i int) (*image.NRGBA, error) {
	img, _, err := imageio.ReadFileInfo(filepath.Join(d.dir, d.files[i]), d.maxPixels)
	if err != nil {
		return nil, err
	}
	if !img.Opaque() {
		for p := 0; p < len(img.Pix); p += 4 {
			a := uint32(img.Pix[p+3])
			for c := range 3 {
				img.Pix[p+c] = uint8((uint32(img.Pix[p+c])*a + 127) / 255)
			}
			img.Pix[p+3] = 255
		}
	}
	return img, nil
}

func (d *dirReader) Close() error { return nil }

// Frames returns the names of the image files in dir (FrameExts, in any
// case), in the order of a video: by name, a run of digits by its value,
// so that frame-2.png comes before frame-10.png.
func Frames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.Type().IsRegular() && e.Type()&os.ModeSymlink == 0 || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if slices.Contains(FrameExts, strings.ToLower(filepath.Ext(e.Name()))) {
			names = append(names, e.Name())
		}
	}
	slices.SortFunc(names, compareNatural)
	return names, nil
}

// compareNatural orders names with their runs of digits by value.
func compareNatural(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := len(na) - len(nb); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

// digits is the length of the run of ASCII digits s starts with.
func digits(s string) int {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}
