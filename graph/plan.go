package graph

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/deepdream-go/deepdream/internal/gemm"
	"github.com/deepdream-go/deepdream/ops"
)

// Spec says what a plan computes.
type Spec struct {
	// Inputs are the tensors supplied at every run, with their shapes. A
	// model's declared input sizes are not enforced for H and W: DeepDream
	// runs every octave at another size.
	Inputs []InputSpec
	// Consts fixes other graph inputs at plan time (e.g. integer inputs).
	Consts map[string]*Value
	// Targets are the tensors to compute; nothing past them runs.
	Targets []string
	// Backward plans the gradient from the targets back to the inputs
	// whose Grad is set.
	Backward bool
	// Memory, if set, lends the plan its large buffers (see Memory);
	// else it allocates its own.
	Memory *Memory
	// Options are the engine's choices; the zero value is the fastest plan.
	Options Options
}

// Options are the engine's choices for a plan. None changes what a plan
// computes beyond float32 rounding; the zero value is the fastest plan, the
// others serve as references in tests and for comparison runs.
type Options struct {
	// NoWinograd runs every convolution as im2col (or, pointwise, direct)
	// and GEMM, as PyTorch's CPU convolutions do, instead of running 3x3
	// and 5x5 ones by Winograd's transforms, whose rounding differs from a
	// direct sum's by about 1e-6 relative, and which are 1.5-2x faster.
	NoWinograd bool
	// NoStacking keeps sibling pointwise convolutions (see siblingConvs)
	// apart instead of running them as one.
	NoStacking bool
	// NoConcatInPlace makes every concatenation copy its inputs instead of
	// having their producers write into its output (see concatsInPlace).
	NoConcatInPlace bool
	// Kernel names the GEMM micro-kernel the convolutions and matrix
	// products run on ("avx512", "avx2" or "generic", as far as this
	// machine has them; `deepdream version` lists them); "" is the fastest.
	Kernel string
}

// InputSpec is one runtime input.
type InputSpec struct {
	Name  string
	Shape Shape
	Grad  bool // compute the gradient with respect to this input
	// Refilled says the caller fills the input before every Forward,
	// once it is done with the previous run's targets and gradients (as
	// a dream's step rolls its image into it): the plan may then lend
	// its memory to other buffers once Forward has read it. Otherwise
	// the input has memory of its own, which the plan never writes.
	Refilled bool
}

// Plan is a model prepared for one set of input shapes and targets: shapes
// inferred, operators chosen, every buffer allocated. Forward and Backward
// then run without allocating. A Plan is not safe for concurrent use.
type Plan struct {
	model   *Model
	tensors map[string]*tensor
	steps   []*step
	targets []*tensor
	back    bool
	// shapesOnly plans without buffers, for InferShapes.
	shapesOnly bool
	// sizing plans every buffer's size and life but allocates none:
	// alloc and own count into lent and owned (EstimateMemory).
	sizing      bool
	lent, owned int64
	buffers     []BufferEstimate // when sizing, every buffer counted
	arena       int64            // floats of the arena (placeSpans)
	derived     map[memoKey]int  // when sizing, what the plan derives from constants (Node.memo)
	// forwarded says a Forward ran to the end since the last Backward,
	// which needs its values.
	forwarded bool
	// observe, when set, receives the time of every step (see Observe).
	observe func(StepTime)
	// inputGrads are the gradient buffers of the inputs, in Spec order;
	// refilled the inputs that live in the arena (InputSpec.Refilled).
	inputGrads []*gradBuf
	refilled   []*tensor
	memory     *Memory      // Spec.Memory
	opts       Options      // Spec.Options
	kernel     *gemm.Kernel // Spec.Options.Kernel (nil: the default)
}

// alloc returns n zeroed floats for the plan's arena (nil when sizing,
// counted: placeSpans lists its parts).
func (p *Plan) alloc(n int) []float32 {
	switch {
	case p.sizing:
		p.lent += int64(memAlign * ((n + memAlign - 1) / memAlign))
		return nil
	case p.memory != nil:
		return p.memory.alloc(n)
	}
	return make([]float32, n)
}

// own returns n zeroed floats for a buffer the plan keeps out of
// Spec.Memory (an input's, or its gradient; nil when sizing, counted and
// listed as b).
func (p *Plan) own(n int, b BufferEstimate) []float32 {
	if p.sizing {
		p.owned += int64(n)
		b.Bytes = 4 * int64(n)
		p.buffers = append(p.buffers, b)
		return nil
	}
	return make([]float32, n)
}

// StepTime is the wall-clock time one node's forward or backward pass took
// in a run of a plan, clearing of its gradient buffers included.
type StepTime struct {
	Node     *Node
	Fused    string // "Relu" for a Conv that applies a fused Relu, else ""
	Backward bool
	Elapsed  time.Duration
}

// Observe makes Forward and Backward time every step and pass the times to
// f (nil: stop timing), for profiling: `deepdream bench --ops` sums them by
// operator. Timing costs two clock reads per step.
func (p *Plan) Observe(f func(StepTime)) { p.observe = f }

// timed reports the time since start of step s to the observer.
func (p *Plan) timed(s *step, backward bool, start time.Time) {
	st := StepTime{Node: s.node, Backward: backward, Elapsed: time.Since(start)}
	if s.node.Fused.Relu {
		st.Fused = "Relu"
	}
	p.observe(st)
}

type tensor struct {
	name  string
	shape Shape
	cnst  *Value    // set for tensors known at plan time
	data  []float32 // runtime value (shared by aliases)
	grad  *gradBuf  // nil when no gradient flows here (shared by aliases)
	// root is the tensor whose buffer this one views (aliases), else
	// itself; buffers are assigned to roots. off is where the view starts
	// in the root's buffer (a range of channels of stacked sibling
	// convolutions' output, see addSiblings), else 0.
	root *tensor
	off  int
}

type step struct {
	node     *Node
	kernel   Kernel
	run      Run // the buffers the kernel gets
	backward bool
	// dinBufs and doutBufs are run.DIn and run.DOut before memory is
	// assigned; inT and outT are the runtime tensors behind run.In and
	// run.Out (nil where a constant or nothing is passed).
	dinBufs, doutBufs []*gradBuf
	inT, outT         []*tensor
	reads             *Reads
	canSet            []int       // Built.CanSet
	gradInPlace       bool        // Built.GradInPlace
	saved             []SavedSpec // Built.Saved
	scratch           int         // floats of the plan's shared scratch it uses
	flops             int64       // Built.FLOPs
	// zero lists the gradient buffers whose life starts at this step:
	// Backward clears them just before the step adds into them.
	zero [][]float32
}

// Plan prepares the model for spec.
func (m *Model) Plan(spec Spec) (*Plan, error) {
	return m.plan(spec, false)
}

// plan is Plan, or with sizing, the sizes Plan would allocate.
func (m *Model) plan(spec Spec, sizing bool) (*Plan, error) {
	p := &Plan{model: m, tensors: map[string]*tensor{}, back: spec.Backward, memory: spec.Memory, opts: spec.Options, sizing: sizing}
	if name := spec.Options.Kernel; name != "" {
		k, err := gemm.Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("graph: Options.Kernel: %w", err)
		}
		p.kernel = k
	}
	if len(spec.Targets) == 0 {
		return nil, fmt.Errorf("graph: plan has no target tensor")
	}
	for name, v := range m.consts {
		p.tensors[name] = &tensor{name: name, shape: v.Shape, cnst: v}
	}
	for name, v := range spec.Consts {
		if !m.isInput(name) {
			return nil, fmt.Errorf("graph: constant %q is not a graph input", name)
		}
		p.tensors[name] = &tensor{name: name, shape: v.Shape, cnst: v}
	}
	for _, in := range spec.Inputs {
		if !m.isInput(in.Name) {
			if _, isConst := m.consts[in.Name]; !isConst {
				return nil, fmt.Errorf("graph: %q is not an input of the model; inputs: %s", in.Name, strings.Join(m.inputNames(), ", "))
			}
			// An initializer fed as an input (old IR files list weights as
			// inputs too): the caller's value wins, as ONNX says.
		}
		if err := m.checkInputShape(in); err != nil {
			return nil, err
		}
		size := in.Shape.Size()
		t := &tensor{name: in.Name, shape: in.Shape.Clone()}
		t.root = t
		if in.Refilled {
			p.refilled = append(p.refilled, t)
		} else {
			t.data = p.own(size, BufferEstimate{Kind: InputBuffer, Name: in.Name})
		}
		if spec.Backward && in.Grad {
			t.grad = &gradBuf{name: in.Name, size: size, firstWriter: -1, reader: -1, input: true}
			p.inputGrads = append(p.inputGrads, t.grad)
		}
		p.tensors[in.Name] = t
	}

	needed, err := m.ancestors(spec.Targets, p.tensors)
	if err != nil {
		return nil, err
	}
	var nodes []*Node
	for _, n := range fuseConvRelu(m.nodes, needed, spec.Targets) {
		if needed[n.Index] {
			nodes = append(nodes, n)
		}
	}
	siblings, stacked := siblingConvs(nodes, p.tensors, spec.Targets), map[*Node]bool{}
	for _, n := range nodes {
		if stacked[n] {
			continue
		}
		if g := siblings[n]; g != nil && !p.opts.NoStacking && p.stackable(g) {
			if err := p.addSiblings(g); err != nil {
				return nil, err
			}
			for _, s := range g.convs {
				stacked[s] = true
			}
			continue
		}
		if err := p.add(n); err != nil {
			return nil, err
		}
	}
	for _, name := range spec.Targets {
		t := p.tensors[name]
		// A constant target is fine to read (Data returns its value, e.g.
		// a Shape result), but no gradient can flow from it.
		if t.cnst != nil && spec.Backward {
			return nil, fmt.Errorf("graph: target %q does not depend on the inputs (it is constant), so it has no gradient", name)
		}
		if spec.Backward && t.grad == nil {
			return nil, fmt.Errorf("graph: target %q does not depend on an input with a gradient", name)
		}
		if g := t.grad; g != nil {
			g.seed = true
			if pg := g.parent; pg != nil { // a range of stacked convolutions' output
				pg.seed = true
			}
		}
		p.targets = append(p.targets, t)
	}
	p.concatsInPlace()
	if p.back {
		p.indexGradients()
	}
	p.assignMemory()
	return p, nil
}

func (m *Model) inputNames() []string {
	var names []string
	for _, in := range m.Graph.Inputs {
		names = append(names, in.Name)
	}
	return names
}

// checkInputShape holds an input to the model's declared rank and fixed
// dimensions, except the last two (H and W), which are free.
func (m *Model) checkInputShape(in InputSpec) error {
	for _, d := range in.Shape {
		if d <= 0 {
			return fmt.Errorf("graph: input %q: shape %v has a dimension < 1", in.Name, in.Shape)
		}
	}
	for _, vi := range m.Graph.Inputs {
		if vi.Name != in.Name || vi.Dims == nil {
			continue
		}
		if len(vi.Dims) != len(in.Shape) {
			return fmt.Errorf("graph: input %q has rank %d, the model declares %d", in.Name, len(in.Shape), len(vi.Dims))
		}
		for i, d := range vi.Dims {
			if d.Value > 0 && int64(in.Shape[i]) != d.Value && (len(vi.Dims) != 4 || i < 2) {
				return fmt.Errorf("graph: input %q: dimension %d is %d, the model declares %d", in.Name, i, in.Shape[i], d.Value)
			}
		}
	}
	return nil
}

// ancestors marks the nodes the targets depend on, stopping at tensors
// already known (inputs and constants).
func (m *Model) ancestors(targets []string, known map[string]*tensor) (map[int]bool, error) {
	needed := map[int]bool{}
	stack := []string{}
	for _, t := range targets {
		if _, ok := known[t]; !ok {
			if _, ok := m.producer[t]; !ok {
				return nil, &UnknownTensorError{Name: t, Closest: m.Closest(t, 5)}
			}
		}
		stack = append(stack, t)
	}
	seen := map[string]bool{}
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[t] || t == "" {
			continue
		}
		seen[t] = true
		if _, ok := known[t]; ok {
			continue
		}
		i, ok := m.producer[t]
		if !ok {
			return nil, fmt.Errorf("graph: tensor %q is not produced by any node, nor an initializer, nor a given input", t)
		}
		needed[i] = true
		stack = append(stack, m.nodes[i].Inputs...)
	}
	return needed, nil
}

func (p *Plan) add(n *Node) error {
	if n.Domain != "" && n.Domain != "ai.onnx" {
		return n.Errorf("operator domain %q is not supported (only the default ONNX domain is); supported operators: %s", n.Domain, strings.Join(SupportedOps(), ", "))
	}
	build, ok := builders[n.OpType]
	if !ok {
		return n.Errorf("unsupported operator %q; supported operators: %s", n.OpType, strings.Join(SupportedOps(), ", "))
	}
	ins := make([]Input, len(n.Inputs))
	allConst := true
	for i, name := range n.Inputs {
		if name == "" {
			continue
		}
		t, ok := p.tensors[name]
		if !ok {
			return n.Errorf("input %d %q is not computed before this node (the graph is not in topological order, or the name is wrong)", i, name)
		}
		ins[i] = Input{Name: name, Shape: t.shape, Const: t.cnst}
		if t.cnst == nil {
			allConst = false
		}
	}
	// The builder sees the node with this plan's options, and whether
	// only shapes are wanted (a constant node still runs, folded).
	planned := *n
	planned.shapesOnly = (p.shapesOnly || p.sizing) && !allConst
	planned.opts, planned.kernel = &p.opts, p.kernel
	if p.sizing {
		planned.derive = p.derive
	}
	n = &planned
	b, err := build(n, ins)
	if err != nil {
		return n.wrap(err)
	}
	if len(b.Out) < len(n.Outputs) {
		return n.Errorf("operator produced %d outputs, the node names %d", len(b.Out), len(n.Outputs))
	}
	switch {
	case b.Consts != nil:
		for j, out := range n.Outputs {
			if out != "" {
				p.tensors[out] = &tensor{name: out, shape: b.Consts[j].Shape, cnst: b.Consts[j]}
			}
		}
		return nil
	case allConst:
		return p.fold(n, b, ins)
	}

	s := &step{node: n, kernel: b.Kernel, reads: b.BackwardReads, canSet: b.CanSet, gradInPlace: b.GradInPlace, saved: b.Saved, scratch: b.Scratch, flops: b.FLOPs}
	for _, in := range ins {
		var data []float32
		var rt *tensor
		if in.Present() {
			t := p.tensors[in.Name]
			if t.cnst != nil {
				if !t.cnst.Int {
					data = t.cnst.F
				}
			} else {
				rt = t
			}
		}
		s.run.In = append(s.run.In, data) // runtime inputs are filled in by assignData
		s.inT = append(s.inT, rt)
	}
	if b.Alias {
		src := p.tensors[n.Inputs[0]]
		out := n.Outputs[0]
		p.tensors[out] = &tensor{name: out, shape: b.Out[0], grad: src.grad, root: src.root, off: src.off}
		return nil
	}
	for j, out := range n.Outputs {
		t := &tensor{name: out, shape: b.Out[j]}
		t.root = t
		if out != "" {
			p.tensors[out] = t
		}
		s.run.Out = append(s.run.Out, nil)
		s.outT = append(s.outT, t)
	}
	if p.back {
		if err := p.planStepBackward(n, b, s); err != nil {
			return err
		}
	}
	p.steps = append(p.steps, s)
	return nil
}

func (p *Plan) planStepBackward(n *Node, b *Built, s *step) error {
	s.run.DIn = make([][]float32, len(n.Inputs))
	s.run.Accumulate = make([]bool, len(n.Inputs))
	for i := range s.run.Accumulate {
		s.run.Accumulate[i] = true
	}
	s.dinBufs = make([]*gradBuf, len(n.Inputs))
	for i, name := range n.Inputs {
		if name == "" {
			continue
		}
		if g := p.tensors[name].grad; g != nil {
			if noGrad(b, i) {
				return n.Errorf("cannot differentiate with respect to input %d %q (only with respect to data inputs)", i, name)
			}
			s.dinBufs[i] = g
			s.backward = true
		}
	}
	s.run.DOut = make([][]float32, len(n.Outputs))
	s.doutBufs = make([]*gradBuf, len(n.Outputs))
	if !s.backward {
		return nil
	}
	for j, out := range n.Outputs {
		g := &gradBuf{name: out, size: s.outT[j].shape.Size(), firstWriter: -1, reader: -1}
		s.doutBufs[j] = g
		if out != "" {
			p.tensors[out].grad = g
		}
	}
	return nil
}

// Forward runs the plan on the current contents of the input buffers.
func (p *Plan) Forward(ctx context.Context) error {
	p.forwarded = false
	for _, s := range p.steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if p.observe == nil {
			s.kernel.Forward(&s.run)
			continue
		}
		start := time.Now()
		s.kernel.Forward(&s.run)
		p.timed(s, false, start)
	}
	p.forwarded = true
	return nil
}

// Backward propagates the gradients the caller wrote into the targets' Grad
// buffers since Forward back to the inputs' Grad buffers. It needs the
// values of the Forward run just before it, and runs once after it: the
// gradients take the memory of the values, and of the targets' values and
// gradients, as it is done with them.
func (p *Plan) Backward(ctx context.Context) error {
	if !p.back {
		return fmt.Errorf("graph: plan was made without Backward")
	}
	if !p.forwarded {
		return fmt.Errorf("graph: Backward needs a complete Forward run before it (the last one ran Backward already, or stopped)")
	}
	p.forwarded = false
	for i := len(p.steps) - 1; i >= 0; i-- {
		s := p.steps[i]
		if !s.backward {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		var start time.Time
		if p.observe != nil {
			start = time.Now()
		}
		for _, g := range s.zero {
			ops.Clear(g)
		}
		s.kernel.Backward(&s.run)
		if p.observe != nil {
			p.timed(s, true, start)
		}
	}
	return nil
}

// Data returns the buffer of a tensor: an input's buffer to fill before
// Forward (the plan does not write it, unless the input is
// InputSpec.Refilled), or a target's value after Forward, which holds it
// until Backward. It returns nil for names the plan does
// not hold. Constants are returned as their float data. Other tensors
// share memory with each other (see lifetimes.go): their buffers hold
// their values only until a later buffer reuses the memory.
func (p *Plan) Data(name string) []float32 {
	t := p.tensors[name]
	switch {
	case t == nil:
		return nil
	case t.cnst != nil:
		return t.cnst.Floats()
	}
	return t.data
}

// Grad returns the gradient buffer of a tensor: a target's, where the caller
// writes the objective's gradient after Forward and before Backward (Forward
// uses the memory), or an input's, which holds the result after Backward
// until the next Forward. It returns nil where no gradient flows. The
// gradients of other tensors share memory and are not kept.
func (p *Plan) Grad(name string) []float32 {
	if t := p.tensors[name]; t != nil && t.grad != nil {
		return t.grad.data
	}
	return nil
}

// Shape returns a tensor's shape in this plan, or nil for unknown names.
func (p *Plan) Shape(name string) Shape {
	if t := p.tensors[name]; t != nil {
		return t.shape
	}
	return nil
}

// Steps is the number of operator kernels a Forward runs.
func (p *Plan) Steps() int { return len(p.steps) }

// FLOPs counts the arithmetic of the planned convolutions and matrix
// products (2 per multiply-add), the usual measure of a network's cost, as
// their operators report it (Built.FLOPs).
func (p *Plan) FLOPs() int64 {
	var total int64
	for _, s := range p.steps {
		total += s.flops
	}
	return total
}
