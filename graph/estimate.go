package graph

import "fmt"

// What a plan's memory comes to, found without allocating it.

// MemoryEstimate is what a plan allocates, in bytes, as
// Model.EstimateMemory finds it without allocating.
type MemoryEstimate struct {
	// Lent is what Spec.Memory lends the plan (or the plan allocates
	// when it has none): tensors, gradients, saved state and scratch.
	Lent int64
	// Inputs is the inputs' buffers and gradients, which the plan always
	// allocates itself.
	Inputs int64
	// Arena is the part of Lent that the plan's buffers share in turn:
	// Lent is the arena and the targets' gradients.
	Arena int64
	// Steps is the number of steps of the plan, whose timeline has
	// 2*Steps times: Forward runs step i at time i, Backward runs it at
	// time 2*Steps-1-i.
	Steps int
	// Buffers lists every buffer of the plan: the inputs' values (and
	// gradients that are targets' too, or that nothing writes), then the
	// parts of the arena.
	Buffers []BufferEstimate
	// Constants is the memory of the model's constants (its weights,
	// which loading decodes whatever the plans use) and of what plans of
	// this spec derive from them once and keep with the model
	// (transformed and packed weights), made yet or not. It is not part
	// of Bytes: a process holds it once per model, however many plans it
	// makes, beside their buffers.
	Constants int64
}

// memoKey names data derived from a constant (Node.memo).
type memoKey struct {
	v   *Value
	key string
}

// derive counts, when sizing, floats derived from v under key, once per
// plan (Node.memo).
func (p *Plan) derive(v *Value, key string, floats int) {
	if p.derived == nil {
		p.derived = map[memoKey]int{}
	}
	p.derived[memoKey{v, key}] = floats
}

// constBytes is the memory of the model's constants.
func (m *Model) constBytes() int64 {
	var n int64
	for _, v := range m.consts {
		n += 4*int64(len(v.F)) + 8*int64(len(v.I))
	}
	return n
}

// BufferEstimate is one buffer of a plan, as EstimateMemory counts it.
type BufferEstimate struct {
	Kind BufferKind
	// Name is the tensor whose value or gradient the buffer holds, or the
	// node whose saved state or scratch it is (by its first output).
	Name  string
	Bytes int64
	// Lives are the times (inclusive intervals of the plan's timeline,
	// see MemoryEstimate.Steps) a part of the arena lives at; nil for a
	// buffer of its own, which lives as long as the plan. Offset is
	// where in the arena it lies, in bytes.
	Lives  [][2]int
	Offset int64
}

// BufferKind says what a buffer holds.
type BufferKind int

const (
	// InputBuffer is an input's value or gradient.
	InputBuffer BufferKind = iota
	// KeptBuffer is a tensor's value that the backward pass or the caller
	// (a target's) reads.
	KeptBuffer
	// ActivationBuffer is a tensor's value that only the forward pass
	// reads.
	ActivationBuffer
	// GradientBuffer is a tensor's gradient.
	GradientBuffer
	// SavedBuffer is state a kernel keeps from Forward for Backward (a
	// ReLU's bits, a max pool's taps).
	SavedBuffer
	// ScratchBuffer is a kernel's working memory while it runs.
	ScratchBuffer
)

func (k BufferKind) String() string {
	switch k {
	case InputBuffer:
		return "input"
	case KeptBuffer:
		return "kept"
	case ActivationBuffer:
		return "activations"
	case GradientBuffer:
		return "gradients"
	case SavedBuffer:
		return "saved"
	case ScratchBuffer:
		return "scratch"
	}
	return fmt.Sprintf("BufferKind(%d)", int(k))
}

// Bytes is the estimate's total.
func (e MemoryEstimate) Bytes() int64 { return e.Lent + e.Inputs }

// EstimateMemory plans spec as Plan does, every buffer's size and life,
// without allocating the buffers, and returns what Plan would allocate:
// Lent is exactly the growth of a fresh Spec.Memory. The model's weights,
// and what plans derive from them once, such as Winograd-transformed
// filters, belong to the model: Constants estimates them apart, deriving
// none of them but sibling convolutions' stacked weights, the constants
// of the stacked convolution the plan is made of (addSiblings), which it
// keeps with the model as Plan would.
func (m *Model) EstimateMemory(spec Spec) (MemoryEstimate, error) {
	spec.Memory = nil
	p, err := m.plan(spec, true)
	if err != nil {
		return MemoryEstimate{}, err
	}
	est := MemoryEstimate{Lent: 4 * p.lent, Inputs: 4 * p.owned, Arena: 4 * p.arena, Steps: len(p.steps), Buffers: p.buffers, Constants: m.constBytes()}
	for _, floats := range p.derived {
		est.Constants += 4 * int64(floats)
	}
	return est, nil
}
