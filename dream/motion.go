package dream

import (
	"context"
	"fmt"
	"image"
	"math"
	"time"

	"github.com/deepdream-go/deepdream/imageio"
)

// The dreams that move: an infinite zoom, each frame the last one's dream
// moved by the camera and dreamed again (Zoom); and a video dreamed frame
// by frame, each frame starting from the last one's dream detail carried
// along the optical flow (Video, video.go).

// Camera is how a zoom's view moves from one frame to the next, about
// the frame's centre: the picture grows by Zoom, turns by Rotate degrees
// counterclockwise, and moves by (-PanX, -PanY) pixels (the view moves
// right and down by PanX, PanY).
type Camera struct {
	Zoom       float64 // scale a frame: above 1 zooms in, 1 not at all
	Rotate     float64 // degrees a frame, counterclockwise
	PanX, PanY float64 // pixels a frame
}

// Frame is a finished frame of a Zoom or a Video, for its callback.
type Frame struct {
	Index int          // 0-based
	Image *image.NRGBA // the dream; the callback may keep it
	// Input is what the frame was dreamed from, before any detail was
	// carried into it: the video's frame at the dream's size, or the last
	// frame moved by the camera.
	Input *image.NRGBA
	// Flicker, when Video measures it (VideoOptions.Measure) and the
	// frame has a predecessor, is the mean absolute difference in levels
	// of 0..255 between the dream and the last frame's dream warped along
	// the flow, over the pixels the flow follows (Followed, their
	// fraction); NaN otherwise.
	Flicker, Followed float64
	// MovingFlicker is Flicker over the pixels the flow follows that
	// move by a pixel or more (Moving, their fraction): where carrying
	// the detail along the flow differs from leaving it where it was.
	MovingFlicker, Moving float64
}

// MotionProgress is reported after every gradient step of a Zoom or a
// Video.
type MotionProgress struct {
	Frame, Frames int // 1-based: the frame being dreamed, of the whole job (Frames 0: not known)
	Dream         Progress
	// Step and Steps count the steps of the frames this call dreams (not
	// those done before it resumed), Steps from the frames' count and the
	// steps the frames so far took (0 when the count is not known).
	Step, Steps  int
	Elapsed, ETA time.Duration // ETA 0 when not known
}

// motionProgress counts the steps of a whole job for MotionProgress.
type motionProgress struct {
	report      func(MotionProgress)
	frames      int // of the job, 0 if not known
	first       int // the frame this call started at
	start       time.Time
	done        int // steps of the frames finished
	perFrame    int // steps a frame, as the last frame took
	frame, step int
}

func newMotionProgress(report func(MotionProgress), frames, first int) *motionProgress {
	return &motionProgress{report: report, frames: frames, first: first, start: time.Now()}
}

// dream returns the progress callback of frame i's dream.
func (m *motionProgress) dream(i int) func(Progress) {
	if m.report == nil {
		return nil
	}
	return func(p Progress) {
		m.frame, m.perFrame, m.step = i, p.Steps, m.done+p.Step
		mp := MotionProgress{Frame: i + 1, Frames: m.frames, Dream: p, Step: m.step, Elapsed: time.Since(m.start)}
		if m.frames > 0 {
			mp.Steps = m.done + (m.frames-i)*p.Steps
			mp.ETA = time.Duration(float64(mp.Elapsed) * float64(mp.Steps-mp.Step) / float64(mp.Step))
		}
		m.report(mp)
	}
}

// next counts frame i's steps as done.
func (m *motionProgress) next() { m.done = m.step }

// DreamSize is the size an image of w x h is dreamed at: at most maxSize
// on its longer side (0: any), its proportions kept, as Dream scales it.
func DreamSize(w, h, maxSize int) (int, int) {
	if maxSize <= 0 || max(w, h) <= maxSize {
		return w, h
	}
	f := float64(maxSize) / float64(max(w, h))
	return max(1, int(float64(w)*f+0.5)), max(1, int(float64(h)*f+0.5))
}

// atDreamSize returns img at the size req dreams it at, 8 bits a sample.
func atDreamSize(img image.Image, req Request) *image.NRGBA {
	b := img.Bounds()
	w, h := DreamSize(b.Dx(), b.Dy(), req.MaxSize)
	if w == b.Dx() && h == b.Dy() {
		return imageio.NRGBA(img)
	}
	return imageio.Resize(img, w, h)
}

// ZoomOptions says how Zoom moves and how much of it is done.
type ZoomOptions struct {
	Frames int // of the animation, the first included
	Camera
	// Done frames were dreamed before (a job resumed), Last being the
	// last of them: Zoom dreams frames Done to Frames-1 from it. Frames
	// before Done are not given to the callback again.
	Done int
	Last image.Image
}

// ZoomDefaults returns the request a zoom's frames are dreamed with
// unless told otherwise: Defaults with fewer octaves and steps, as each
// frame starts from the last one's dream (docs/motion.md says how these
// were chosen).
func ZoomDefaults() Request {
	r := Defaults()
	r.Octaves = 2
	r.Iterations = 5
	return r
}

// Zoom dreams an infinite zoom from photo: frame 0 is the photo's dream
// as req asks (at req.MaxSize, 8 bits a sample), frame k+1 is frame k
// moved by the camera (Camera: resampled bicubically about the centre,
// the edges extended where the view leaves the picture) and dreamed
// again. Every frame is dreamed with the same request, seed included.
// frame is called with each frame as it is finished, in order; an error
// from it stops the zoom. progress, which may be nil, counts the steps
// of the whole job.
func (n *Network) Zoom(ctx context.Context, photo image.Image, req Request, z ZoomOptions, frame func(Frame) error, progress func(MotionProgress)) error {
	if err := z.check(); err != nil {
		return err
	}
	prog := newMotionProgress(progress, z.Frames, z.Done)
	var last *image.NRGBA
	if z.Done > 0 {
		last = imageio.NRGBA(z.Last)
	}
	for i := z.Done; i < z.Frames; i++ {
		var in *image.NRGBA
		if i == 0 {
			in = atDreamSize(photo, req)
		} else {
			in = z.Camera.move(last)
		}
		out, err := n.Dream(ctx, in, req, prog.dream(i))
		if err != nil {
			return fmt.Errorf("frame %d: %w", i+1, err)
		}
		last = imageio.NRGBA(out)
		prog.next()
		if err := frame(Frame{Index: i, Image: last, Input: in, Flicker: math.NaN(), Followed: math.NaN(), MovingFlicker: math.NaN(), Moving: math.NaN()}); err != nil {
			return err
		}
	}
	return nil
}

// check refuses options Zoom cannot follow.
func (z ZoomOptions) check() error {
	c := z.Camera
	switch {
	case z.Frames < 1:
		return fmt.Errorf("dream: a zoom of %d frames", z.Frames)
	case !(c.Zoom >= 0.5 && c.Zoom <= 2):
		return fmt.Errorf("dream: a zoom of %v a frame; want 0.5 to 2", c.Zoom)
	case math.IsNaN(c.Rotate) || math.IsInf(c.Rotate, 0) || math.IsNaN(c.PanX) || math.IsInf(c.PanX, 0) || math.IsNaN(c.PanY) || math.IsInf(c.PanY, 0):
		return fmt.Errorf("dream: a camera that is not finite: %+v", c)
	case z.Done < 0 || z.Done > z.Frames:
		return fmt.Errorf("dream: %d frames done of %d", z.Done, z.Frames)
	case z.Done > 0 && z.Last == nil:
		return fmt.Errorf("dream: %d frames done, and not the last of them", z.Done)
	}
	return nil
}

// move returns img as the camera sees it one frame later: each pixel q
// of the result samples img at c + R(θ)ᵀ(q - c + pan)/zoom, c the
// centre, bicubically (Catmull-Rom: sharp, no ringing to speak of),
// coordinates clamped to the picture.
func (c Camera) move(img *image.NRGBA) *image.NRGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	sin, cos := math.Sincos(c.Rotate * math.Pi / 180)
	cx, cy := float64(w-1)/2, float64(h-1)/2
	for y := range h {
		row := out.Pix[y*out.Stride : y*out.Stride+4*w]
		for x := range w {
			// In y-down pixels, the picture turning counterclockwise moves
			// (1, 0) towards (cos, -sin): the sample is the inverse of that.
			dx, dy := (float64(x)-cx+c.PanX)/c.Zoom, (float64(y)-cy+c.PanY)/c.Zoom
			sx := cx + cos*dx - sin*dy
			sy := cy + sin*dx + cos*dy
			bicubic(row[4*x:4*x+4], img, sx, sy)
		}
	}
	return out
}

// bicubic writes the Catmull-Rom interpolation of img at (x, y) into px
// (RGBA, opaque), the coordinates clamped to the picture.
func bicubic(px []byte, img *image.NRGBA, x, y float64) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	x = min(max(x, 0), float64(w-1))
	y = min(max(y, 0), float64(h-1))
	x0, y0 := int(x), int(y)
	wx, wy := catmullRom(x-float64(x0)), catmullRom(y-float64(y0))
	var sum [3]float64
	for j := range 4 {
		sy := min(max(y0+j-1, 0), h-1)
		row := img.Pix[sy*img.Stride:]
		for i := range 4 {
			sx := min(max(x0+i-1, 0), w-1)
			k := wy[j] * wx[i]
			sum[0] += k * float64(row[4*sx])
			sum[1] += k * float64(row[4*sx+1])
			sum[2] += k * float64(row[4*sx+2])
		}
	}
	px[0], px[1], px[2], px[3] = toLevel(sum[0]), toLevel(sum[1]), toLevel(sum[2]), 255
}

// catmullRom returns the weights of the four samples at -1, 0, 1, 2 for
// a point t (0 to 1) past the second.
func catmullRom(t float64) [4]float64 {
	t2, t3 := t*t, t*t*t
	return [4]float64{
		(-t3 + 2*t2 - t) / 2,
		(3*t3 - 5*t2 + 2) / 2,
		(-3*t3 + 4*t2 + t) / 2,
		(t3 - t2) / 2,
	}
}

// toLevel rounds v to a level of 0..255.
func toLevel(v float64) uint8 { return uint8(min(max(v+0.5, 0), 255)) }
