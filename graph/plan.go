package graph

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"

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
}

// InputSpec is one runtime input.
type InputSpec struct {
	Name  string
	Shape Shape
	Grad  bool // compute the gradient with respect to this input
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
	// observe, when set, receives the time of every step (see Observe).
	observe func(StepTime)
	memory  *Memory // Spec.Memory
	opts    Options // Spec.Options
}

// alloc returns n zeroed floats for a large buffer of the plan.
func (p *Plan) alloc(n int) []float32 {
	if p.memory != nil {
		return p.memory.alloc(n)
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
	// keep marks roots whose value must survive the forward pass: inputs,
	// targets, and what a backward step reads.
	keep bool
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
	saved             []SavedSpec // Built.Saved
	scratch           int         // floats of the plan's shared scratch it uses
	flops             int64       // Built.FLOPs
	// zero lists the gradient buffers whose life starts at this step:
	// Backward clears them just before the step adds into them.
	zero [][]float32
}

// Plan prepares the model for spec.
func (m *Model) Plan(spec Spec) (*Plan, error) {
	p := &Plan{model: m, tensors: map[string]*tensor{}, back: spec.Backward, memory: spec.Memory, opts: spec.Options}
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
		t := &tensor{name: in.Name, shape: in.Shape.Clone(), data: make([]float32, in.Shape.Size()), keep: true}
		t.root = t
		if spec.Backward && in.Grad {
			t.grad = &gradBuf{size: len(t.data), pinned: true, firstWriter: -1, reader: -1, data: make([]float32, len(t.data))}
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
		if t.root != nil {
			t.root.keep = true
		}
		if g := t.grad; g != nil {
			g.pinned, g.seed = true, true
			if pg := g.parent; pg != nil { // a view of a target (Flatten, ...)
				pg.pinned = true
				if pg.data == nil {
					pg.data = p.alloc(pg.size)
				}
				g.data = pg.data[g.off:][:g.size]
			} else if g.data == nil {
				g.data = p.alloc(g.size)
			}
		}
		p.targets = append(p.targets, t)
	}
	p.concatsInPlace()
	p.assignData()
	p.assignScratch()
	p.assignSaved()
	if spec.Backward {
		p.assignGradients()
	}
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
	planned.shapesOnly = p.shapesOnly && !allConst
	planned.opts = &p.opts
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

	s := &step{node: n, kernel: b.Kernel, reads: b.BackwardReads, canSet: b.CanSet, saved: b.Saved, scratch: b.Scratch, flops: b.FLOPs}
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
	index := len(p.steps) // s is about to be appended
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
			g.firstWriter = max(g.firstWriter, index)
			s.backward = true
		}
	}
	s.run.DOut = make([][]float32, len(n.Outputs))
	s.doutBufs = make([]*gradBuf, len(n.Outputs))
	if !s.backward {
		return nil
	}
	for j, out := range n.Outputs {
		g := &gradBuf{size: s.outT[j].shape.Size(), firstWriter: -1, reader: index}
		s.doutBufs[j] = g
		if out != "" {
			p.tensors[out].grad = g
		}
	}
	return nil
}

// assignData gives every runtime tensor its memory. A tensor that no
// backward step reads (a convolution's input, a concatenation) is dead once
// its last reader in the forward pass has run, and its memory goes to later
// tensors; the others are kept whole until Backward.
func (p *Plan) assignData() {
	lastUse := map[*tensor]int{}
	for i, s := range p.steps {
		for _, t := range s.inT {
			if t != nil {
				lastUse[t.root] = i
			}
		}
		if !p.back || !s.backward {
			continue
		}
		keep := func(ts []*tensor, idx []int, all bool) {
			for k, t := range ts {
				if t != nil && (all || slices.Contains(idx, k)) {
					t.root.keep = true
				}
			}
		}
		if s.reads == nil {
			keep(s.inT, nil, true)
			keep(s.outT, nil, true)
		} else {
			keep(s.inT, s.reads.In, false)
			keep(s.outT, s.reads.Out, false)
		}
	}
	// Blocks go to roots: a root's life starts with the first step that
	// writes it or a view of it (the inputs a concatenation takes in
	// place write views of its output).
	var free []*dataBlock
	owner := map[*tensor]*dataBlock{}
	for i, s := range p.steps {
		for _, t := range s.outT {
			if r := t.root; !r.keep && !p.shapesOnly && owner[r] == nil {
				owner[r] = takeBlock(&free, r.shape.Size())
			}
		}
		for _, t := range s.outT {
			if _, used := lastUse[t]; !used && t.root == t && owner[t] != nil {
				free = append(free, owner[t]) // an output nobody reads
			}
		}
		for _, t := range s.inT {
			if t != nil && lastUse[t.root] == i && owner[t.root] != nil {
				free = append(free, owner[t.root])
				delete(lastUse, t.root) // free once, even if read twice here
			}
		}
	}
	if p.shapesOnly {
		return
	}
	memory := map[*dataBlock][]float32{}
	for _, s := range p.steps {
		for _, t := range s.outT { // every root a step writes, named or not
			r := t.root
			if r.data != nil {
				continue
			}
			if b := owner[r]; b != nil {
				if memory[b] == nil {
					memory[b] = p.alloc(b.size)
				}
				r.data = memory[b][:r.shape.Size()]
			} else { // kept for Backward: a buffer of its own
				r.data = p.alloc(r.shape.Size())
			}
		}
	}
	for _, t := range p.tensors {
		if t.root != nil && t.root != t {
			t.data = t.view()
		}
	}
	for _, s := range p.steps {
		for i, t := range s.inT {
			if t != nil {
				s.run.In[i] = t.view()
			}
		}
		for j, t := range s.outT {
			s.run.Out[j] = t.data
		}
	}
}

// assignScratch gives the kernels that need working memory one buffer to
// share: they run one at a time.
func (p *Plan) assignScratch() {
	size := 0
	for _, s := range p.steps {
		size = max(size, s.scratch)
	}
	if size == 0 || p.shapesOnly {
		return
	}
	buf := p.alloc(size)
	for _, s := range p.steps {
		if s.scratch > 0 {
			s.run.Scratch = buf[:s.scratch]
		}
	}
}

// assignSaved gives the steps that a backward pass runs through the
// buffers their kernels keep from Forward for Backward; the others get
// nil slices and record nothing. Saved buffers live until Backward, like
// the tensors it reads, so each has memory of its own.
func (p *Plan) assignSaved() {
	for _, s := range p.steps {
		s.run.Saved = make([]Saved, len(s.saved))
		if !p.back || !s.backward || p.shapesOnly {
			continue
		}
		for k, spec := range s.saved {
			buf := p.alloc(spec.floats())
			switch {
			case spec.Floats > 0:
				s.run.Saved[k].F = buf
			case spec.Bytes > 0:
				s.run.Saved[k].B = unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), spec.Bytes)
			case spec.Bits > 0:
				s.run.Saved[k].Bits = unsafe.Slice((*uint64)(unsafe.Pointer(&buf[0])), (spec.Bits+63)/64)
			}
		}
	}
}

// dataBlock is a piece of memory that tensors with disjoint lives share.
type dataBlock struct{ size int }

// takeBlock removes from free the smallest block that holds size floats,
// else the largest (which grows), else makes a new one.
func takeBlock(free *[]*dataBlock, size int) *dataBlock {
	best := -1
	for k, b := range *free {
		switch {
		case best < 0:
			best = k
		case b.size >= size && ((*free)[best].size < size || b.size < (*free)[best].size):
			best = k
		case (*free)[best].size < size && b.size > (*free)[best].size:
			best = k
		}
	}
	if best < 0 {
		return &dataBlock{size: size}
	}
	b := (*free)[best]
	*free = append((*free)[:best], (*free)[best+1:]...)
	b.size = max(b.size, size)
	return b
}

// gradBuf is a gradient buffer before memory is assigned. Backward visits
// steps from the last to the first; a gradient lives from the first step
// that adds into it (the highest index among its consumers) to the step
// that reads it (its producer). Buffers whose lives do not overlap share
// memory, so a backward pass needs a few tensors' worth of gradient
// memory instead of one buffer per tensor.
type gradBuf struct {
	size        int
	firstWriter int // index of the first step to add into it; -1: none
	reader      int // index of the step that reads it; -1: none (an input's)
	// pinned buffers get memory of their own: the targets' (the caller
	// writes the seed before Backward) and the inputs' (read after it).
	pinned bool
	seed   bool // a target's: never cleared by Backward
	data   []float32
	// parent, if set, is the buffer this one is a range of, from off:
	// the gradient of one of stacked sibling convolutions' outputs (see
	// addSiblings). A view has no memory or life of its own; it is
	// cleared when its own first writer runs. split marks a parent,
	// which its views cover and which is never cleared whole.
	parent *gradBuf
	off    int
	split  bool
	// window marks a view that is only read (by the producer of an input
	// a concatenation takes in place, see concatsInPlace): its parent is
	// written whole, by its own writers, and cleared like any buffer.
	window bool
}

// assignGradients gives every gradient buffer its memory, by a first-fit
// pass over the backward order, and records when each must be cleared.
func (p *Plan) assignGradients() {
	var (
		free   []*dataBlock // blocks not in use at the current step
		owner  = map[*gradBuf]*dataBlock{}
		starts = make([][]*gradBuf, len(p.steps))
		ends   = make([][]*gradBuf, len(p.steps))
		seen   = map[*gradBuf]bool{}
	)
	// A parent's life starts with the first write into any of its views.
	for _, s := range p.steps {
		for _, g := range s.dinBufs {
			if g != nil && g.parent != nil {
				g.parent.firstWriter = max(g.parent.firstWriter, g.firstWriter)
			}
		}
	}
	var views []*gradBuf
	for _, s := range p.steps {
		for _, g := range append(append([]*gradBuf{}, s.dinBufs...), s.doutBufs...) {
			if g == nil || seen[g] {
				continue
			}
			seen[g] = true
			first := g.firstWriter
			if first < 0 {
				first = g.reader // never written: it stays zero until read
			}
			switch {
			case g.parent != nil:
				views = append(views, g)
			case g.pinned:
				if !g.seed && !g.split && first >= 0 {
					p.steps[first].zero = append(p.steps[first].zero, g.data)
				}
			default:
				starts[first] = append(starts[first], g)
				ends[g.reader] = append(ends[g.reader], g)
			}
		}
	}
	for i := len(p.steps) - 1; i >= 0; i-- {
		for _, g := range starts[i] {
			owner[g] = takeBlock(&free, g.size)
		}
		for _, g := range ends[i] {
			free = append(free, owner[g])
		}
	}
	memory := map[*dataBlock][]float32{}
	for i := range starts {
		for _, g := range starts[i] {
			b := owner[g]
			if memory[b] == nil {
				memory[b] = p.alloc(b.size)
			}
			g.data = memory[b][:g.size]
			if !g.split {
				p.steps[i].zero = append(p.steps[i].zero, g.data)
			}
		}
	}
	for _, g := range views {
		g.data = g.parent.data[g.off:][:g.size]
		if g.window {
			continue
		}
		first := g.firstWriter
		if first < 0 {
			first = g.parent.reader
		}
		if !g.seed && first >= 0 {
			p.steps[first].zero = append(p.steps[first].zero, g.data)
		}
	}
	for _, s := range p.steps {
		for i, g := range s.dinBufs {
			if g != nil {
				s.run.DIn[i] = g.data
			}
		}
		for j, g := range s.doutBufs {
			if g != nil {
				s.run.DOut[j] = g.data
			}
		}
	}
	p.spareClears()
}

// spareClears lets the kernels that can set a gradient buffer whose life
// starts at their step (Built.CanSet) do so, instead of the buffer being
// cleared just before they add to it: a pass over the buffer saved, and
// for a pointwise convolution the read of zeros by its GEMM.
func (p *Plan) spareClears() {
	for i, s := range p.steps {
		for _, j := range s.canSet {
			g := s.dinBufs[j]
			if g == nil || g.firstWriter != i || g.seed || len(g.data) == 0 {
				continue
			}
			if slices.Index(s.dinBufs, g) != j || slices.Index(s.dinBufs[j+1:], g) >= 0 {
				continue // the step adds two of its gradients into g
			}
			z := slices.IndexFunc(s.zero, func(b []float32) bool { return len(b) == len(g.data) && &b[0] == &g.data[0] })
			if z >= 0 {
				s.zero = slices.Delete(s.zero, z, z+1)
				s.run.Accumulate[j] = false
			}
		}
	}
}

// fold runs a node whose inputs are all constant, at plan time.
func (p *Plan) fold(n *Node, b *Built, ins []Input) error {
	in := make([][]float32, len(ins))
	for i, x := range ins {
		if x.Const != nil && !x.Const.Int {
			in[i] = x.Const.F
		}
	}
	if b.Alias {
		src := ins[0].Const
		if src.Int {
			p.tensors[n.Outputs[0]] = &tensor{name: n.Outputs[0], shape: b.Out[0], cnst: &Value{Shape: b.Out[0], Int: true, I: src.I}}
		} else {
			p.tensors[n.Outputs[0]] = &tensor{name: n.Outputs[0], shape: b.Out[0], cnst: &Value{Shape: b.Out[0], F: src.F}}
		}
		return nil
	}
	if b.Kernel == nil {
		return n.Errorf("operator cannot run on constant inputs here")
	}
	out := runOnce(b, in)
	for j, name := range n.Outputs {
		if name != "" {
			p.tensors[name] = &tensor{name: name, shape: b.Out[j], cnst: &Value{Shape: b.Out[j], F: out[j]}}
		}
	}
	return nil
}

// InferShapes computes the shape of every tensor for the given input
// shapes without allocating buffers. Nodes that cannot be planned at these
// shapes (a classifier head at a size it was not made for) are reported in
// failed, with everything that depends on them left out of shapes.
func (m *Model) InferShapes(inputs []InputSpec) (shapes map[string]Shape, failed map[string]error, err error) {
	p := &Plan{model: m, tensors: map[string]*tensor{}, shapesOnly: true}
	for name, v := range m.consts {
		p.tensors[name] = &tensor{name: name, shape: v.Shape, cnst: v}
	}
	for _, in := range inputs {
		if err := m.checkInputShape(in); err != nil {
			return nil, nil, err
		}
		p.tensors[in.Name] = &tensor{name: in.Name, shape: in.Shape.Clone()}
	}
	failed = map[string]error{}
	for _, n := range m.nodes {
		if err := p.add(n); err != nil {
			for _, out := range n.Outputs {
				failed[out] = err
			}
		}
	}
	shapes = make(map[string]Shape, len(p.tensors))
	for name, t := range p.tensors {
		shapes[name] = t.shape
	}
	return shapes, failed, nil
}

// Forward runs the plan on the current contents of the input buffers.
func (p *Plan) Forward(ctx context.Context) error {
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
	return nil
}

// Backward propagates the gradients the caller wrote into the targets' Grad
// buffers back to the inputs' Grad buffers. It needs the values of the
// Forward run just before it. Target seeds are left as they were written,
// plus whatever flows into a target from a later target.
func (p *Plan) Backward(ctx context.Context) error {
	if !p.back {
		return fmt.Errorf("graph: plan was made without Backward")
	}
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
// Forward, or a target's value after it. It returns nil for names the plan
// does not hold. Constants are returned as their float data. Other tensors
// share memory with each other (see assignData): their buffers hold their
// values only until a later tensor reuses the memory.
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
// writes the objective's gradient before Backward, or an input's, which
// holds the result after it. It returns nil where no gradient flows. The
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

// view is the tensor's part of its root's buffer.
func (t *tensor) view() []float32 { return t.root.data[t.off:][:t.shape.Size()] }

// stackable reports whether the sibling convolutions group (see
// siblingConvs) can run stacked here: their input is one image (so that
// each output is a contiguous range of the stacked output), their
// weights and biases are the model's own (not replaced by Spec.Consts),
// and the model names no tensor as the stacked one would be named.
func (p *Plan) stackable(g *siblingGroup) bool {
	x := p.tensors[g.convs[0].Inputs[0]]
	if x == nil || x.cnst != nil || len(x.shape) != 4 || x.shape[0] != 1 {
		return false
	}
	for _, taken := range []string{g.name, g.name + "#weights", g.name + "#bias"} {
		if p.model.Producer(taken) != nil || p.model.consts[taken] != nil || p.model.isInput(taken) {
			return false
		}
	}
	for _, n := range g.convs {
		for _, name := range n.Inputs[1:] {
			if name != "" && p.tensors[name].cnst != p.model.consts[name] {
				return false
			}
		}
	}
	return true
}

// addSiblings plans a group of sibling pointwise convolutions (see
// siblingConvs) as one convolution with their weights stacked, named
// g.name, and each output as a view of its range of channels, its
// gradient likewise a view of the stacked gradient.
func (p *Plan) addSiblings(g *siblingGroup) error {
	w, b := g.stacked()
	name := g.name
	wName, bName := name+"#weights", ""
	p.tensors[wName] = &tensor{name: wName, shape: w.Shape, cnst: w}
	if b != nil {
		bName = name + "#bias"
		p.tensors[bName] = &tensor{name: bName, shape: b.Shape, cnst: b}
	}
	first := *g.convs[0].Node
	first.Name, first.Inputs, first.Outputs = name, []string{first.Inputs[0], wName, bName}, []string{name}
	if b == nil {
		first.Inputs = first.Inputs[:2]
	}
	if err := p.add(&Node{Node: &first, Opset: g.convs[0].Opset, Fused: g.convs[0].Fused}); err != nil {
		return err
	}
	stack := p.tensors[name]
	off := 0
	for i, n := range g.convs {
		shape := Shape{1, g.w[i].Shape[0], stack.shape[2], stack.shape[3]}
		t := &tensor{name: n.Outputs[0], shape: shape, root: stack.root, off: stack.off + off}
		if sg := stack.grad; sg != nil {
			t.grad = &gradBuf{size: shape.Size(), parent: sg, off: off, firstWriter: -1, reader: sg.reader}
			sg.split = true
		}
		p.tensors[n.Outputs[0]] = t
		off += shape.Size()
	}
	return nil
}
