package dream

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"

	"github.com/deepdream-go/deepdream/flow"
	"github.com/deepdream-go/deepdream/imageio"
)

// FrameReader gives a video's frames in order, io.EOF after the last
// (video.Reader is one).
type FrameReader interface {
	Read() (*image.NRGBA, error)
}

// VideoOptions says how Video carries each frame's dream into the next,
// and how much of the video is done.
type VideoOptions struct {
	// Blend is the weight, 0 to 1, of the last frame's dream detail (its
	// dream less its frame) added to a frame before it is dreamed: the
	// patterns then carry on from frame to frame instead of being dreamed
	// anew. 0 dreams each frame on its own.
	Blend float64
	// NoFlow adds the detail where it was in the last frame, as the first
	// DeepDream videos did, instead of moving it along the optical flow:
	// the patterns then stay put while the picture moves under them.
	NoFlow bool
	// Flow tunes the optical flow (its zero value is flow's video default).
	Flow flow.Options
	// Measure sets each Frame's Flicker (computing the flow when NoFlow
	// or a zero Blend would not).
	Measure bool
	// Frames is the number of frames expected, for the progress (0: not
	// known).
	Frames int
	// Done frames were dreamed before (a job resumed), Last being the
	// dream of the last of them: Video reads the frames before Done
	// again, dreams none of them, and gives the callback the rest.
	Done int
	Last image.Image
}

// VideoDefaults returns the request a video's frames are dreamed with
// unless told otherwise (docs/motion.md says how it was chosen).
func VideoDefaults() Request {
	r := Defaults()
	r.Octaves = 3
	r.Iterations = 5
	return r
}

// DefaultBlend is the weight of the last frame's detail that a video
// carries unless told otherwise (docs/motion.md).
const DefaultBlend = 0.6

// Video dreams a video frame by frame, each frame scaled to the size req
// dreams it at (MaxSize) and dreamed as req asks, seed included, after
// the last frame's dream detail has been added to it, times Blend: moved
// along the dense optical flow from this frame to the last one
// (flow.Estimate, both ways), and only where the flow can be followed
// (the flows both ways agree: not where something came into view, left
// it, or was uncovered: flow.Consistent; and the last frame moved along
// the flow has this frame's colours, within unexplained levels); with
// NoFlow, where it was.
// frame is called with each frame as it is finished, in order; an error
// from it stops the video. progress, which may be nil, counts the steps
// of the whole job.
func (n *Network) Video(ctx context.Context, frames FrameReader, req Request, v VideoOptions, frame func(Frame) error, progress func(MotionProgress)) error {
	switch {
	case !(v.Blend >= 0 && v.Blend <= 1):
		return fmt.Errorf("dream: a blend of %v; want 0 to 1", v.Blend)
	case v.Done < 0 || v.Done > 0 && v.Last == nil:
		return fmt.Errorf("dream: %d frames done, and not the last of them", v.Done)
	}
	var prev *motionFrame // the last frame: its input, its dream, its grey
	for i := 0; i < v.Done; i++ {
		img, err := frames.Read()
		if err != nil {
			return resumeError(err, i, v.Done)
		}
		if i == v.Done-1 {
			prev = newMotionFrame(atDreamSize(img, req))
			prev.out = imageio.NRGBA(v.Last)
			if prev.out.Rect != prev.in.Rect {
				return fmt.Errorf("dream: the last frame dreamed is %dx%d, the video's frames %dx%d at this max size",
					prev.out.Rect.Dx(), prev.out.Rect.Dy(), prev.in.Rect.Dx(), prev.in.Rect.Dy())
			}
		}
	}
	prog := newMotionProgress(progress, v.Frames, v.Done)
	var fl flowState
	for i := v.Done; ; i++ {
		img, err := frames.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("frame %d: %w", i+1, err)
		}
		cur := newMotionFrame(atDreamSize(img, req))
		start := cur.in
		measured := prev != nil && (v.Measure || v.Blend > 0 && !v.NoFlow)
		if measured {
			if err := fl.estimate(ctx, cur, prev, v.Flow); err != nil {
				return fmt.Errorf("frame %d: %w", i+1, err)
			}
		}
		frameReq := req
		if prev != nil && v.Blend > 0 {
			start = cur.carry(prev, &fl, v)
			if frameReq, err = carriedRequest(req, fl.carried(v), v.Blend, start.Rect.Dx(), start.Rect.Dy()); err != nil {
				return fmt.Errorf("frame %d: %w", i+1, err)
			}
		}
		out, err := n.Dream(ctx, start, frameReq, prog.dream(i))
		if err != nil {
			return fmt.Errorf("frame %d: %w", i+1, err)
		}
		cur.out = imageio.NRGBA(out)
		prog.next()
		f := Frame{Index: i, Image: cur.out, Input: cur.in, Flicker: math.NaN(), Followed: math.NaN(), MovingFlicker: math.NaN(), Moving: math.NaN()}
		if measured && v.Measure {
			fl.flicker(&f, cur, prev)
		}
		if err := frame(f); err != nil {
			return err
		}
		prev = cur
	}
}

// resumeError says that the video has fewer frames than a resumed job
// had done.
func resumeError(err error, i, done int) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("dream: the video has %d frames, fewer than the %d done", i, done)
	}
	return fmt.Errorf("frame %d: %w", i+1, err)
}

// motionFrame is a frame of a video: its input at the dream's size, its
// grey for the flow, and its dream once dreamed.
type motionFrame struct {
	in, out *image.NRGBA
	grey    *flow.Image
}

func newMotionFrame(in *image.NRGBA) *motionFrame {
	return &motionFrame{in: in, grey: flow.Gray(in)}
}

// flowState is the flow from a frame to the last one, both ways, and
// where it can be followed; its buffers are reused frame after frame.
type flowState struct {
	back, forth flow.Field // cur->prev, prev->cur
	// followed: the flows both ways agree (what the flicker is measured
	// over); explained: besides, the last frame moved along the flow has
	// this frame's colours (where detail is carried). Per pixel of cur.
	followed, explained []bool
	inside              []bool
	detail, moved, now  []float32 // planes of 3 x H x W
}

// unexplained is the difference, in levels of 0..255 (the mean of R, G
// and B), between a frame and the last one moved along the flow above
// which a pixel takes no carried detail although the flows agree: the
// flow lost something there (a small, fast figure, whose flow the
// smoothness spread out), and the detail dreamed on it would stay
// behind as a trail.
const unexplained = 24

func (s *flowState) estimate(ctx context.Context, cur, prev *motionFrame, o flow.Options) error {
	if err := flow.EstimateTo(ctx, &s.back, cur.grey, prev.grey, o); err != nil {
		return err
	}
	if err := flow.EstimateTo(ctx, &s.forth, prev.grey, cur.grey, o); err != nil {
		return err
	}
	n := s.back.W * s.back.H
	s.followed = grow(s.followed, n)
	s.explained = grow(s.explained, n)
	s.inside = grow(s.inside, n)
	flow.Consistent(&s.back, &s.forth, s.followed)
	s.detail = planes(grow(s.detail, 3*n), prev.in)
	s.moved = grow(s.moved, 3*n)
	s.back.Warp(s.moved, s.detail, 3, s.inside)
	s.now = planes(grow(s.now, 3*n), cur.in)
	for i := range n {
		d := abs32(s.now[i]-s.moved[i]) + abs32(s.now[n+i]-s.moved[n+i]) + abs32(s.now[2*n+i]-s.moved[2*n+i])
		s.explained[i] = s.followed[i] && d <= 3*unexplained
	}
	return nil
}

func abs32(v float32) float32 { return max(v, -v) }

// carry returns cur's input with prev's dream detail added, times
// v.Blend: moved along the flow where it can be followed, or where it
// was (NoFlow).
func (cur *motionFrame) carry(prev *motionFrame, s *flowState, v VideoOptions) *image.NRGBA {
	w, h := cur.in.Rect.Dx(), cur.in.Rect.Dy()
	n := w * h
	s.detail = grow(s.detail, 3*n)
	planes(s.detail, prev.out)
	base := planes(nil, prev.in)
	for i := range s.detail {
		s.detail[i] -= base[i]
	}
	carried := s.detail
	if !v.NoFlow {
		s.moved = grow(s.moved, 3*n)
		s.back.Warp(s.moved, s.detail, 3, s.inside)
		for i := range n {
			if !s.explained[i] {
				s.moved[i], s.moved[n+i], s.moved[2*n+i] = 0, 0, 0
			}
		}
		carried = s.moved
	}
	out := image.NewNRGBA(cur.in.Rect)
	b := float32(v.Blend)
	for y := range h {
		for x := range w {
			i, p := y*w+x, y*out.Stride+4*x
			for c := range 3 {
				out.Pix[p+c] = toLevel(float64(float32(cur.in.Pix[p+c]) + b*carried[c*n+i]))
			}
			out.Pix[p+3] = 255
		}
	}
	return out
}

// carried reports, per pixel, whether carry gave it detail.
func (s *flowState) carried(v VideoOptions) func(i int) bool {
	if v.NoFlow {
		return func(int) bool { return true }
	}
	return func(i int) bool { return s.explained[i] }
}

// movingPixel is how far, in pixels, a pixel moves from one frame to the
// next for the flicker to count it as moving (Frame.MovingFlicker).
const movingPixel = 1

// flicker is the mean absolute difference, in levels, between cur's
// dream and prev's warped along the flow, over the pixels the flow
// follows (f.Flicker, f.Followed their fraction), and over those of them
// that move (f.MovingFlicker, f.Moving).
func (s *flowState) flicker(f *Frame, cur, prev *motionFrame) {
	n := s.back.W * s.back.H
	s.detail = grow(s.detail, 3*n)
	s.moved = grow(s.moved, 3*n)
	planes(s.detail, prev.out)
	s.back.Warp(s.moved, s.detail, 3, s.inside)
	now := planes(s.now, cur.out)
	var sum, sumMoving float64
	count, moving := 0, 0
	for i := range n {
		if !s.followed[i] {
			continue
		}
		var d float64
		for c := range 3 {
			d += math.Abs(float64(now[c*n+i] - s.moved[c*n+i]))
		}
		count++
		sum += d
		if dx, dy := s.back.D[2*i], s.back.D[2*i+1]; dx*dx+dy*dy >= movingPixel*movingPixel {
			moving++
			sumMoving += d
		}
	}
	f.Followed, f.Moving = float64(count)/float64(n), float64(moving)/float64(n)
	if count > 0 {
		f.Flicker = sum / float64(3*count)
	}
	if moving > 0 {
		f.MovingFlicker = sumMoving / float64(3*moving)
	}
}

// planes writes img's RGB into dst as 3 planes of H x W (made if nil).
func planes(dst []float32, img *image.NRGBA) []float32 {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	n := w * h
	if dst == nil {
		dst = make([]float32, 3*n)
	}
	for y := range h {
		row := img.Pix[y*img.Stride:]
		for x := range w {
			for c := range 3 {
				dst[c*n+y*w+x] = float32(row[4*x+c])
			}
		}
	}
	return dst
}

// grow returns s with n elements, reusing its memory when it can.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// EstimateVideo is Estimate of the frames of a video of w x h (before
// MaxSize) that Video dreams as req and v ask: the most a frame takes. A
// frame into which the last one's detail is carried (Blend > 0) is
// dreamed with a mask of its own (carriedRequest), which the first frame
// lacks, in place of req's Mask. A request whose frames do not fit
// MaxMemory is an error (*MemoryError) with the estimate.
func (n *Network) EstimateVideo(w, h int, req Request, v VideoOptions) (Estimate, error) {
	if v.Blend > 0 {
		req.Mask = carriedMask // counted as an image of the dream's size, which it is
	}
	return n.Estimate(w, h, req)
}

// carriedMask is the name of the mask a frame with carried detail is
// dreamed with (carriedRequest).
const carriedMask = "carried detail"

// carriedRequest returns req for a frame whose pixels for which carried
// reports true hold the last frame's detail times blend: those are
// dreamed with steps of 1-blend (a mask, times req's own), the others
// fully. A frame is then a blend of the dream carried, weighing blend,
// and its own, weighing 1-blend: where the picture stands still, its
// dream settles instead of growing a step's worth every frame.
func carriedRequest(req Request, carried func(i int) bool, blend float64, w, h int) (Request, error) {
	scale := make([]float32, w*h)
	for i := range scale {
		scale[i] = 1
		if carried(i) {
			scale[i] = float32(1 - blend)
		}
	}
	if req.Mask != "" {
		m, err := req.image("mask", req.Mask)
		if err != nil {
			return req, err
		}
		for i, v := range maskPlane(m, w, h) {
			scale[i] *= v
		}
	}
	grey := image.NewGray16(image.Rect(0, 0, w, h))
	for i, v := range scale {
		g := uint16(v*65535 + 0.5)
		grey.Pix[2*i], grey.Pix[2*i+1] = uint8(g>>8), uint8(g)
	}
	images := make(map[string]Image, len(req.Images)+1)
	for k, v := range req.Images {
		images[k] = v
	}
	images[carriedMask] = Image{Image: grey}
	req.Images, req.Mask = images, carriedMask
	return req, nil
}
