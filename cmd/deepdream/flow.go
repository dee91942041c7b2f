package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/flow"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
)

type flowOptions struct {
	a, b, out    string
	maxMotion    float64
	maxMotionSet bool
	maxPixels    int
}

func newFlowCmd() *cobra.Command {
	var o flowOptions
	cmd := &cobra.Command{
		Use:   "flow A B -o F.npy|F.png [--max-motion PX]",
		Short: "Compute the optical flow from frame A to frame B (.npy, or a colour-wheel .png)",
		Long: `flow computes the dense optical flow from frame A to frame B (two images of one
size): for every pixel of A, where it is in B. It is DIS (dense inverse search,
as OpenCV's DIS optical flow) with a variational refinement, in pure Go; see
go doc ./flow for the method and its measured errors.

-o F.npy writes the flow as a float32 NumPy array of shape H x W x 2, (dx, dy)
per pixel, forward: B(x + flow(x)) ~ A(x), as OpenCV's calcOpticalFlow* give it.
-o F.png draws it in the Middlebury colour coding: the hue is the direction
(right red, down yellow, left cyan, up violet), the saturation the length, white
no motion; --max-motion PX is the length drawn at full colour (longer motions
are darkened), 0 the flow's longest.

It prints the frames' size and the mean and longest motion, in pixels.`,
		Example: `  deepdream flow frame1.png frame2.png -o flow.npy
  deepdream flow frame1.png frame2.png -o flow.png
  deepdream flow frame1.png frame2.png -o flow.png --max-motion 10   # one scale for a sequence`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.a, o.b = args[0], args[1]
			o.maxMotionSet = cmd.Flags().Changed("max-motion")
			return runFlow(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", "", "output file: .npy (the flow) or .png (a picture of it); required")
	f.Float64Var(&o.maxMotion, "max-motion", 0, "with a .png: the motion, in pixels, drawn at full colour (0: the flow's longest)")
	registerMaxPixels(f, &o.maxPixels)
	return cmd
}

func isPNG(path string) bool { return strings.EqualFold(filepath.Ext(path), ".png") }

// checkOutput refuses, before the frames are read, the flags out of
// their bounds and an output that could not be written.
func (o flowOptions) checkOutput() error {
	switch {
	case o.out == "":
		return usagef("flow: -o F.npy or -o F.png is required")
	case !isNpy(o.out) && !isPNG(o.out):
		return usagef("flow: -o %s: want a .npy (the flow, float32 H x W x 2) or a .png (a picture of it)", o.out)
	case !(o.maxMotion >= 0 && o.maxMotion <= math.MaxFloat32):
		return usagef("flow: --max-motion %v: want a number of pixels, 0 or more (0: the flow's longest)", o.maxMotion)
	case o.maxMotionSet && !isPNG(o.out):
		return usagef("flow: --max-motion is for a .png output, not %s", o.out)
	case atomicfile.SameFile(o.out, o.a) || atomicfile.SameFile(o.out, o.b):
		return usagef("flow: refusing to write %s over an input frame", o.out)
	}
	if err := checkMaxPixels("flow", o.maxPixels); err != nil {
		return err
	}
	return atomicfile.Check(o.out)
}

func runFlow(ctx context.Context, stdout io.Writer, o flowOptions) error {
	if err := o.checkOutput(); err != nil {
		return err
	}
	var frames [2]*flow.Image
	for i, path := range []string{o.a, o.b} {
		img, err := imageio.ReadFile(path, o.maxPixels)
		if err != nil {
			return pixelLimit(err)
		}
		frames[i] = flow.Gray(img)
	}
	a, b := frames[0], frames[1]
	if a.W != b.W || a.H != b.H {
		return fmt.Errorf("flow: %s is %dx%d but %s is %dx%d: the frames must be one size", o.a, a.W, a.H, o.b, b.W, b.H)
	}
	f, err := flow.Estimate(ctx, a, b, flow.Options{})
	if err != nil {
		return err
	}
	if isPNG(o.out) {
		err = imageio.WriteFile(o.out, f.Color(float32(o.maxMotion)), imageio.EncodeOptions{})
	} else {
		err = atomicfile.Write(o.out, f.WriteNpy)
	}
	if err != nil {
		return err
	}
	var sum, longest float64
	for i := 0; i < len(f.D); i += 2 {
		m := math.Hypot(float64(f.D[i]), float64(f.D[i+1]))
		sum, longest = sum+m, max(longest, m)
	}
	fmt.Fprintf(stdout, "%dx%d, motion %.2f px on average, %.2f px at most\n", f.W, f.H, sum/float64(f.W*f.H), longest)
	return nil
}
