package graph

import (
	"fmt"
	"math"
	"slices"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("Resize", buildResize)
	Register("Upsample", buildUpsample)
}

// planTimeError reports a float input whose value a builder needs when the
// plan is made (a Resize's scales fix its output shape) but that is fed or
// computed at run time.
type planTimeError struct {
	index int
	name  string
}

func (e *planTimeError) Error() string {
	return fmt.Sprintf("input %d %q must be known when the plan is made (a constant, or computed from constants only); here it changes from run to run", e.index, e.name)
}

// planTimeFloats returns the value of float input i, nil when it is absent
// or empty (Resize's way of omitting scales before opset 13).
func planTimeFloats(in []Input, i int) ([]float32, error) {
	if i >= len(in) || !in[i].Present() {
		return nil, nil
	}
	if in[i].Const == nil {
		return nil, &planTimeError{i, in[i].Name}
	}
	if len(in[i].Const.Shape) != 1 {
		return nil, fmt.Errorf("input %d %q is %v, want a 1-D tensor", i, in[i].Name, in[i].Shape)
	}
	if in[i].Shape[0] == 0 {
		return nil, nil
	}
	return in[i].Const.Floats(), nil
}

// resize is what a Resize or Upsample node asks for, read from its
// attributes and plan-time inputs.
type resize struct {
	op       string // "Resize" or "Upsample", for errors
	sampling ops.Sampling
	// scales or sizes (one of them) hold a value per axis of axes.
	scales []float32
	sizes  []int64
	axes   []int
	// roi holds starts then ends, one per axis of axes
	// (tf_crop_and_resize only).
	roi           []float32
	policy        string // keep_aspect_ratio_policy, with sizes
	extrapolation float32
	antialias     bool
}

// Resize (opsets 10-19+). Inputs X, then scales (opset 10) or roi,
// scales and sizes (opset 11 on; roi and scales optional from 13); the
// scales or sizes, and roi for tf_crop_and_resize, must be known at plan
// time. Modes nearest (every nearest_mode), linear and cubic
// (cubic_coeff_a, exclude_outside); every coordinate_transformation_mode,
// tf_crop_and_resize with its extrapolation_value; opset 18's axes and
// keep_aspect_ratio_policy; antialias only where nothing is shrunk by a
// linear or cubic filter (it changes nothing there). Only the last two
// axes may change. Only X is differentiated.
func buildResize(n *Node, in []Input) (*Built, error) {
	r := resize{op: "Resize"}
	var err error
	switch {
	case n.Opset < 10:
		return nil, fmt.Errorf("Resize: the operator exists from opset 10, the model imports opset %d", n.Opset)
	case n.Opset == 10:
		if err := wantInputs(in, 2, 2); err != nil {
			return nil, err
		}
		if r.sampling, err = legacySampling(n, "Resize"); err != nil {
			return nil, err
		}
		if r.scales, err = planTimeFloats(in, 1); err != nil {
			return nil, err
		}
		return r.build(n, in)
	case n.Opset < 13:
		err = wantInputs(in, 3, 4)
	default:
		err = wantInputs(in, 1, 4)
	}
	if err != nil {
		return nil, err
	}
	if r.sampling, err = resizeSampling(n); err != nil {
		return nil, err
	}
	if r.extrapolation, err = n.Float("extrapolation_value", 0); err != nil {
		return nil, err
	}
	if n.Opset >= 18 {
		if err := r.readOpset18(n, len(in[0].Shape)); err != nil {
			return nil, err
		}
	}
	if r.scales, err = planTimeFloats(in, 2); err != nil {
		return nil, err
	}
	if len(in) > 3 && in[3].Present() {
		if c := in[3].Const; c == nil || !c.Int || len(c.Shape) != 1 {
			return nil, fmt.Errorf("Resize: sizes %q is %v, want a 1-D integer tensor known at plan time", in[3].Name, in[3].Shape)
		}
		if len(in[3].Const.I) > 0 {
			r.sizes = in[3].Const.I
		}
	}
	if r.sampling.Coordinates == ops.TFCropAndResize {
		if r.roi, err = planTimeFloats(in, 1); err != nil {
			return nil, err
		}
		if r.roi == nil {
			return nil, fmt.Errorf("Resize: coordinate_transformation_mode tf_crop_and_resize needs the roi input")
		}
	}
	return r.build(n, in)
}

// Upsample (opsets 7-9, deprecated since 10): Resize-10 with its scales
// an attribute (7) or an input (9): modes nearest and linear, asymmetric
// coordinates.
func buildUpsample(n *Node, in []Input) (*Built, error) {
	r := resize{op: "Upsample"}
	var err error
	if n.Opset < 7 {
		return nil, fmt.Errorf("Upsample: opset %d's form (height_scale and width_scale attributes) is not supported, only opsets 7 and later", n.Opset)
	}
	if r.sampling, err = legacySampling(n, "Upsample"); err != nil {
		return nil, err
	}
	if n.Opset < 9 {
		if err := wantInputs(in, 1, 1); err != nil {
			return nil, err
		}
		if r.scales, err = n.Floats("scales", nil); err != nil {
			return nil, err
		}
		if r.scales == nil {
			return nil, fmt.Errorf("Upsample: attribute scales is required")
		}
	} else {
		if err := wantInputs(in, 2, 2); err != nil {
			return nil, err
		}
		if r.scales, err = planTimeFloats(in, 1); err != nil {
			return nil, err
		}
	}
	return r.build(n, in)
}

// legacySampling reads the mode of Upsample and Resize-10, which sample
// at x/scale and take the nearest input below.
func legacySampling(n *Node, op string) (ops.Sampling, error) {
	s := ops.Sampling{Coordinates: ops.Asymmetric, Nearest: ops.Floor}
	mode, err := n.String("mode", "nearest")
	if err != nil {
		return s, err
	}
	switch mode {
	case "nearest":
		s.Mode = ops.Nearest
	case "linear":
		s.Mode = ops.Linear
	default:
		return s, fmt.Errorf("%s: mode %q is not supported, want nearest or linear", op, mode)
	}
	return s, nil
}

var (
	resizeModes = map[string]ops.Interpolation{"nearest": ops.Nearest, "linear": ops.Linear, "cubic": ops.Cubic}
	coordModes  = map[string]ops.CoordinateMode{
		"half_pixel": ops.HalfPixel, "half_pixel_symmetric": ops.HalfPixelSymmetric,
		"pytorch_half_pixel": ops.PytorchHalfPixel, "align_corners": ops.AlignCorners,
		"asymmetric": ops.Asymmetric, "tf_half_pixel_for_nn": ops.TFHalfPixelForNN,
		"tf_crop_and_resize": ops.TFCropAndResize,
	}
	nearestModes = map[string]ops.NearestMode{
		"round_prefer_floor": ops.RoundPreferFloor, "round_prefer_ceil": ops.RoundPreferCeil,
		"floor": ops.Floor, "ceil": ops.Ceil,
	}
)

// resizeSampling reads the sampling attributes of Resize from opset 11.
func resizeSampling(n *Node) (ops.Sampling, error) {
	var s ops.Sampling
	for _, a := range []struct {
		name, def string
		set       func(string) bool
	}{
		{"mode", "nearest", func(v string) (ok bool) { s.Mode, ok = resizeModes[v]; return }},
		{"coordinate_transformation_mode", "half_pixel", func(v string) (ok bool) { s.Coordinates, ok = coordModes[v]; return }},
		{"nearest_mode", "round_prefer_floor", func(v string) (ok bool) { s.Nearest, ok = nearestModes[v]; return }},
	} {
		v, err := n.String(a.name, a.def)
		if err != nil {
			return s, err
		}
		if !a.set(v) {
			return s, fmt.Errorf("Resize: %s %q is not one ONNX defines", a.name, v)
		}
	}
	a, err := n.Float("cubic_coeff_a", -0.75)
	if err != nil {
		return s, err
	}
	s.CubicA = float64(a)
	exclude, err := n.Int("exclude_outside", 0)
	if err != nil {
		return s, err
	}
	if exclude != 0 && exclude != 1 {
		return s, fmt.Errorf("Resize: exclude_outside = %d, want 0 or 1", exclude)
	}
	s.ExcludeOutside = exclude == 1
	return s, nil
}

// readOpset18 reads the attributes opset 18 added: axes,
// keep_aspect_ratio_policy and antialias.
func (r *resize) readOpset18(n *Node, rank int) error {
	axes, err := n.Ints("axes", nil)
	if err != nil {
		return err
	}
	for _, a := range axes {
		axis, err := axisIn(a, rank, "Resize: axes value")
		if err != nil {
			return err
		}
		if slices.Contains(r.axes, axis) {
			return fmt.Errorf("Resize: axes %v names axis %d twice", axes, axis)
		}
		r.axes = append(r.axes, axis)
	}
	if r.policy, err = n.String("keep_aspect_ratio_policy", "stretch"); err != nil {
		return err
	}
	if r.policy != "stretch" && r.policy != "not_larger" && r.policy != "not_smaller" {
		return fmt.Errorf("Resize: keep_aspect_ratio_policy %q, want stretch, not_larger or not_smaller", r.policy)
	}
	antialias, err := n.Int("antialias", 0)
	if err != nil {
		return err
	}
	if antialias != 0 && antialias != 1 {
		return fmt.Errorf("Resize: antialias = %d, want 0 or 1", antialias)
	}
	r.antialias = antialias == 1
	return nil
}

// build derives the output shape and each axis' taps, and makes the kernel.
func (r *resize) build(n *Node, in []Input) (*Built, error) {
	if err := wantFloat(in, 0); err != nil {
		return nil, err
	}
	xs := in[0].Shape
	rank := len(xs)
	if rank == 0 {
		return nil, fmt.Errorf("%s: input X is a scalar, want rank >= 1", r.op)
	}
	if r.axes == nil {
		for a := range rank {
			r.axes = append(r.axes, a)
		}
	}
	scale, out, err := r.geometry(xs)
	if err != nil {
		return nil, err
	}
	// Each axis' taps; only the last two may move anything.
	taps := make([]ops.ResampleAxis, rank)
	for a := range rank {
		s := r.sampling
		if s.Coordinates == ops.TFCropAndResize {
			s.ROI = [2]float64{0, 1}
			if k := slices.Index(r.axes, a); k >= 0 {
				s.ROI = [2]float64{float64(r.roi[k]), float64(r.roi[len(r.axes)+k])}
			}
		}
		taps[a] = ops.NewResampleAxis(xs[a], out[a], scale[a], &s)
		if a < rank-2 && !taps[a].Identity() {
			return nil, fmt.Errorf("%s: axis %d of input %v would be resampled (to %d, scale %g); only the last two axes can be", r.op, a, xs, out[a], scale[a])
		}
		if r.antialias && out[a] < xs[a] && r.sampling.Mode != ops.Nearest {
			return nil, fmt.Errorf("%s: antialias = 1 is not supported where a linear or cubic filter shrinks an axis (axis %d: %d to %d)", r.op, a, xs[a], out[a])
		}
	}
	p := ops.ResizeParams{Planes: 1, H: 1, W: xs[rank-1], Cols: taps[rank-1], Extrapolation: r.extrapolation}
	if rank == 1 {
		p.Rows = ops.NewResampleAxis(1, 1, 1, &ops.Sampling{})
	} else {
		p.Planes, p.H, p.Rows = xs[:rank-2].Size(), xs[rank-2], taps[rank-2]
	}
	if !n.shapesOnly {
		p.RowsT, p.ColsT = p.Rows.Transpose(p.H), p.Cols.Transpose(p.W)
	}
	b := &Built{Out: []Shape{out}, Kernel: &resizeKernel{p}, BackwardReads: &Reads{}, CanSet: []int{0}}
	for i := 1; i < len(in); i++ {
		b.NoGrad = append(b.NoGrad, i) // roi, scales, sizes
	}
	return b, nil
}

// geometry returns the scale of each axis, as its coordinate mapping uses
// it, and the output shape.
func (r *resize) geometry(xs Shape) (scale []float64, out Shape, err error) {
	rank := len(xs)
	scale, out = slices.Repeat([]float64{1}, rank), xs.Clone()
	given, values := "scales", len(r.scales)
	switch {
	case r.scales != nil && r.sizes != nil:
		return nil, nil, fmt.Errorf("%s: both scales and sizes are given, want one of them", r.op)
	case r.sizes != nil:
		given, values = "sizes", len(r.sizes)
	case r.scales == nil:
		return nil, nil, fmt.Errorf("%s: neither scales nor sizes is given", r.op)
	}
	if values != len(r.axes) {
		return nil, nil, fmt.Errorf("%s: %s has %d values, want %d (one per axis of %v)", r.op, given, values, len(r.axes), r.axes)
	}
	if r.roi != nil && len(r.roi) != 2*len(r.axes) {
		return nil, nil, fmt.Errorf("%s: roi has %d values, want %d (a start and an end per axis of %v)", r.op, len(r.roi), 2*len(r.axes), r.axes)
	}
	if r.sizes != nil {
		// keep_aspect_ratio_policy scales every axis alike, by the
		// least (not_larger) or greatest (not_smaller) ratio.
		common := 0.0
		for k, a := range r.axes {
			if r.sizes[k] < 1 || r.sizes[k] > math.MaxInt32 {
				return nil, nil, fmt.Errorf("%s: sizes[%d] = %d, want a positive size", r.op, k, r.sizes[k])
			}
			ratio := float64(r.sizes[k]) / float64(xs[a])
			scale[a], out[a] = ratio, int(r.sizes[k])
			if k == 0 || (r.policy == "not_larger" && ratio < common) || (r.policy == "not_smaller" && ratio > common) {
				common = ratio
			}
		}
		if r.policy == "not_larger" || r.policy == "not_smaller" {
			for _, a := range r.axes {
				scale[a], out[a] = common, int(math.Floor(common*float64(xs[a])+0.5))
			}
		}
	} else {
		for k, a := range r.axes {
			s := float64(r.scales[k])
			if !(s > 0) || math.IsInf(s, 0) {
				return nil, nil, fmt.Errorf("%s: scales[%d] = %g, want a positive scale", r.op, k, s)
			}
			length := float64(xs[a]) * s
			if r.sampling.Coordinates == ops.TFCropAndResize {
				length *= float64(r.roi[len(r.axes)+k] - r.roi[k])
			}
			if length >= math.MaxInt32 {
				return nil, nil, fmt.Errorf("%s: scales[%d] = %g makes axis %d of %d far too long", r.op, k, s, a, xs[a])
			}
			scale[a], out[a] = s, int(math.Floor(length))
		}
	}
	for a, d := range out {
		if d < 1 {
			return nil, nil, fmt.Errorf("%s: axis %d of input %v would have size %d", r.op, a, xs, d)
		}
	}
	return scale, out, nil
}

type resizeKernel struct{ p ops.ResizeParams }

func (k *resizeKernel) Forward(r *Run) { ops.Resize(r.Out[0], r.In[0], &k.p) }

// Backward reads only the output gradient: each input element gathers
// those of the outputs that read it.
func (k *resizeKernel) Backward(r *Run) {
	switch {
	case r.DIn[0] == nil:
	case r.DOut[0] == nil:
		clearSet(r)
	default:
		ops.ResizeBackwardInput(r.DIn[0], r.DOut[0], &k.p, r.Accumulate[0])
	}
}
