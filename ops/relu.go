package ops

import (
	"math"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// elementwiseGrain is the number of elements below which splitting an
// elementwise loop across cores costs more than it saves. With the AVX2
// kernels one core streams 64K elements in about the time waking another
// takes (parallel.BenchmarkForRoundTrip: some 10 us).
const elementwiseGrain = 1 << 16

// Relu: y = max(x, 0), NaNs passed through unchanged. dst may alias x.
func Relu(dst, x []float32) {
	reluTasks.For(len(dst), elementwiseGrain, reluTask{dst, x})
}

type reluTask struct{ dst, x []float32 }

var reluTasks parallel.Tasks[reluTask, *reluTask]

func (t *reluTask) Run(lo, hi int) { relu(t.dst[lo:hi], t.x[lo:hi]) }

// reluGo is the Go twin of relu: dst = x where !(x <= 0), else +0, with
// len(x) == len(dst). That is max(x, 0) with a NaN passed through bit for
// bit: Go's max leaves a NaN's sign and quiet bit to the compiler (amd64
// clears the sign, arm64 quiets it), which an assembly twin should not
// have to track.
func reluGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		// All ones unless v <= 0: a conditional move, where a branch would
		// mispredict on the random signs.
		var keep uint32
		if !(v <= 0) {
			keep = ^uint32(0)
		}
		dst[i] = math.Float32frombits(math.Float32bits(v) & keep)
	}
}

// ReluBackward: dx += dy where y > 0. The mask comes from the output y, so
// the forward input need not be kept.
func ReluBackward(dx, dy, y []float32) {
	reluBackTasks.For(len(dx), elementwiseGrain, reluBackTask{dx, dy, y})
}

type reluBackTask struct{ dx, dy, y []float32 }

var reluBackTasks parallel.Tasks[reluBackTask, *reluBackTask]

func (t *reluBackTask) Run(lo, hi int) { reluBackward(t.dx[lo:hi], t.dy[lo:hi], t.y[lo:hi]) }

// reluBackwardGo is the Go twin of reluBackward: dx += dy where y > 0,
// all of one length.
func reluBackwardGo(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	for i := range dx {
		if y[i] > 0 {
			dx[i] += dy[i]
		}
	}
}

// ReluBits records where y > 0, one bit per element (bit i%64 of
// mask[i/64]): all that the backward pass of a Relu fused into the operator
// producing y needs (see ConvParams.Relu), at 1/32 of y's memory, so that
// y itself need not be kept for Backward. mask has (len(y)+63)/64 words.
func ReluBits(mask []uint64, y []float32) {
	reluBitsTasks.For(len(mask), elementwiseGrain/64, reluBitsTask{mask, y})
}

type reluBitsTask struct {
	mask []uint64
	y    []float32
}

var reluBitsTasks parallel.Tasks[reluBitsTask, *reluBitsTask]

func (t *reluBitsTask) Run(lo, hi int) {
	reluBits(t.mask[lo:hi], t.y[64*lo:min(64*hi, len(t.y))])
}

// reluBitsGo is the Go twin of reluBits: ReluBits on a run of whole mask
// words, the last of which may cover fewer than 64 elements of y.
func reluBitsGo(mask []uint64, y []float32) {
	for w := range mask {
		y := y[64*w : min(64*w+64, len(y))]
		var bits uint64
		for i, v := range y {
			bits |= positive(v) << i
		}
		mask[w] = bits
	}
}

// positive is 1 if v > 0 and 0 otherwise (NaN included), without a branch:
// ReLU inputs are positive about half the time, at random, which would
// defeat branch prediction.
func positive(v float32) uint64 {
	b := int64(math.Float32bits(v))
	// Negative or zero as an int32 (sign bit set, or +0) or above +Inf (NaN).
	notPos := uint64(int64(int32(b))-1) | uint64(0x7f800000-b)
	return 1 ^ notPos>>63
}

// ReluMaskBits: dy = 0 where ReluBits found y <= 0, in place: the backward
// pass of a fused Relu, done on the gradient before the producing
// operator's own backward pass reads it.
func ReluMaskBits(dy []float32, mask []uint64) {
	reluMaskTasks.For(len(mask), elementwiseGrain/64, reluMaskTask{dy, mask})
}

type reluMaskTask struct {
	dy   []float32
	mask []uint64
}

var reluMaskTasks parallel.Tasks[reluMaskTask, *reluMaskTask]

func (t *reluMaskTask) Run(lo, hi int) {
	reluMaskBits(t.dy[64*lo:min(64*hi, len(t.dy))], t.mask[lo:hi])
}

// reluMaskBitsGo is the Go twin of reluMaskBits: ReluMaskBits on a run of
// whole mask words, the last of which may cover fewer than 64 elements of
// dy.
func reluMaskBitsGo(dy []float32, mask []uint64) {
	for w, bits := range mask {
		dy := dy[64*w : min(64*w+64, len(dy))]
		for i, v := range dy {
			// All ones where the bit is set, else zero: dy kept or cleared
			// without a branch.
			keep := -uint32(bits >> i & 1)
			dy[i] = math.Float32frombits(math.Float32bits(v) & keep)
		}
	}
}
