package graph

// Buffer lifetimes: which tensors, gradients, saved state and scratch
// share memory, and when gradient buffers are cleared.
//
// A plan runs on a timeline of 2n times for n steps: Forward runs step i
// at time i, Backward runs it at time 2n-1-i. Every buffer lives over a
// part of it: a tensor from the step that writes it to its last reader,
// forward or backward (a target's at least to the first backward time, as
// the caller reads it between the runs); saved state from its step's
// forward pass to its backward pass; a gradient from the first step that
// adds into it to the step that reads it (a target's from the first
// backward time, as the caller writes it between the runs; an input's to
// the end); a kernel's scratch during its calls. One arena holds them all,
// each at an offset where nothing that lives at the same time lies
// (placeSpans): what only the forward pass reads, what the backward pass
// reads, the gradients and the scratch take the same memory in turn. The
// inputs' values keep memory of their own, unless the caller fills them
// before every run (InputSpec.Refilled): then they live from the end of
// the previous run, when the caller fills them, to their last reader.

import (
	"slices"
	"unsafe"
)

// fwdTime and backTime are the times at which Forward and Backward run
// step i.
func (p *Plan) fwdTime(i int) int  { return i }
func (p *Plan) backTime(i int) int { return 2*len(p.steps) - 1 - i }

// lastTime is the end of the timeline: an input's gradient lives until
// then (and the caller reads it before the next Forward).
func (p *Plan) lastTime() int { return 2*len(p.steps) - 1 }

// assignMemory gives every tensor, saved buffer, gradient and scratch of
// the plan its memory: one arena, allocated once, holds them all but the
// inputs' values (unless refilled) and the gradients of inputs that are
// targets too or that nothing writes.
func (p *Plan) assignMemory() {
	for _, s := range p.steps {
		s.run.Saved = make([]Saved, len(s.saved))
	}
	if p.shapesOnly {
		return
	}
	spans := p.dataSpans()
	spans = append(spans, p.savedSpans()...)
	spans = append(spans, p.scratchSpans()...)
	if p.back {
		spans = append(spans, p.gradientSpans()...)
	}
	p.placeSpans(spans)
	if p.sizing {
		return
	}
	p.wireData()
	if p.back {
		p.wireGradients()
	}
}

// dataSpans returns the spans of the tensors the steps write (their
// roots: a view shares its root's buffer). A tensor lives from the first
// step that writes it, or a view of it (the inputs a concatenation takes
// in place write views of its output), to its last reader: the last
// forward step that reads it, else the first backward step that does
// (Built.BackwardReads), and a target's at least to the first backward
// time: the caller reads it between Forward and Backward.
func (p *Plan) dataSpans() []*span {
	var roots []*tensor
	start, end := map[*tensor]int{}, map[*tensor]int{}
	use := func(t *tensor, time int) {
		if t != nil && t.root.data == nil { // not an input's of its own
			end[t.root] = max(end[t.root], time)
		}
	}
	for _, t := range p.refilled {
		start[t] = 0
		roots = append(roots, t)
	}
	for i, s := range p.steps {
		for _, t := range s.outT {
			if _, ok := start[t.root]; !ok {
				start[t.root] = p.fwdTime(i)
				roots = append(roots, t.root)
			}
			use(t, p.fwdTime(i)) // an output nobody reads
		}
		for _, t := range s.inT {
			use(t, p.fwdTime(i))
		}
		if !p.back || !s.backward {
			continue
		}
		read := func(ts []*tensor, idx []int, all bool) {
			for k, t := range ts {
				if all || slices.Contains(idx, k) {
					use(t, p.backTime(i))
				}
			}
		}
		if s.reads == nil {
			read(s.inT, nil, true)
			read(s.outT, nil, true)
		} else {
			read(s.inT, s.reads.In, false)
			read(s.outT, s.reads.Out, false)
		}
	}
	for _, t := range p.targets {
		if t.root != nil {
			use(t, len(p.steps)) // the caller reads it before Backward
		}
	}
	spans := make([]*span, 0, len(roots))
	for _, r := range roots {
		kind := ActivationBuffer
		if end[r] >= len(p.steps) {
			kind = KeptBuffer
		}
		lives := [][2]int{{start[r], end[r]}}
		if slices.Contains(p.refilled, r) {
			// The caller fills it after the end of the last run, when
			// the inputs' gradients are read.
			kind = InputBuffer
			lives = append(lives, [2]int{p.lastTime(), p.lastTime()})
		}
		spans = append(spans, &span{size: r.shape.Size(), lives: lives, kind: kind, name: r.name,
			set: func(b []float32) { r.data = b }})
	}
	return spans
}

// wireData gives views their part of their roots' buffers, and the steps
// their inputs and outputs.
func (p *Plan) wireData() {
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

// savedSpans returns the buffers the kernels of the steps a backward pass
// runs through keep from Forward for Backward, each living from the
// step's forward pass to its backward pass; the other steps get nil
// slices and record nothing.
func (p *Plan) savedSpans() []*span {
	var spans []*span
	for i, s := range p.steps {
		if !p.back || !s.backward {
			continue
		}
		for k, spec := range s.saved {
			saved := &s.run.Saved[k]
			spans = append(spans, &span{size: spec.floats(), lives: [][2]int{{p.fwdTime(i), p.backTime(i)}}, kind: SavedBuffer, name: s.node.Outputs[0],
				set: func(buf []float32) {
					switch {
					case spec.Floats > 0:
						saved.F = buf
					case spec.Bytes > 0:
						saved.B = unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), spec.Bytes)
					case spec.Bits > 0:
						saved.Bits = unsafe.Slice((*uint64)(unsafe.Pointer(&buf[0])), (spec.Bits+63)/64)
					}
				}})
		}
	}
	return spans
}

// scratchSpans returns the working memory of the kernels that need some,
// living only while the step runs, forward and backward.
func (p *Plan) scratchSpans() []*span {
	var spans []*span
	for i, s := range p.steps {
		if s.scratch == 0 {
			continue
		}
		lives := [][2]int{{p.fwdTime(i), p.fwdTime(i)}}
		if p.back && s.backward {
			lives = append(lives, [2]int{p.backTime(i), p.backTime(i)})
		}
		spans = append(spans, &span{size: s.scratch, lives: lives, kind: ScratchBuffer, name: s.node.Outputs[0],
			set: func(b []float32) { s.run.Scratch = b }})
	}
	return spans
}

// gradBuf is a gradient buffer before memory is assigned. Backward visits
// steps from the last to the first; a gradient lives from the first step
// that adds into it (the highest index among its consumers) to the step
// that reads it (its producer). Buffers whose lives do not overlap share
// memory, so a backward pass needs a few tensors' worth of gradient
// memory instead of one buffer per tensor.
type gradBuf struct {
	name string // the tensor's, for EstimateMemory
	size int
	// firstWriter is the index of the first step to add into it, reader
	// of the step that reads it (indexGradients); -1: none (an input's
	// reader).
	firstWriter, reader int
	// input marks an input's gradient, which the caller reads after
	// Backward; seed a target's (or a buffer a range of which is one),
	// which the caller writes after Forward and Backward never clears.
	// Both live in the arena, from the first backward time on for a seed
	// and to the end for an input's, but an input's that is a target's
	// too, or that nothing writes (it stays zero): pinned, it has memory
	// of its own.
	input, seed, pinned bool
	data                []float32
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
	// over, if set, is the buffer whose memory this one takes over: the
	// step that reads over sets this one in its place (gradsInPlace).
	over *gradBuf
}

// base is the buffer whose memory g has: the last of the buffers it
// takes over in turn, else g.
func (g *gradBuf) base() *gradBuf {
	for g.over != nil {
		g = g.over
	}
	return g
}

// gradients returns the plan's gradient buffers, each once, in the order
// of the steps that use them.
func (p *Plan) gradients() []*gradBuf {
	var all []*gradBuf
	seen := map[*gradBuf]bool{}
	for _, s := range p.steps {
		for _, g := range append(slices.Clip(s.dinBufs), s.doutBufs...) {
			if g != nil && !seen[g] {
				seen[g] = true
				all = append(all, g)
			}
		}
	}
	return all
}

// indexGradients finds the steps at which each gradient buffer is used,
// once the steps are in their final order (concatsInPlace moves some):
// its first writer, the last step that adds into it (Backward runs the
// steps from the last), and its reader, the step that produces its
// tensor; -1 for none. A view of stacked sibling convolutions' gradient
// is read with its parent, whose life starts with the first write into
// any of its views; a concatenation's output gradient whose windows
// producers read in place is read by the earliest of them.
func (p *Plan) indexGradients() {
	all := p.gradients()
	for _, g := range all {
		g.firstWriter, g.reader = -1, -1
	}
	for i, s := range p.steps {
		for _, g := range s.dinBufs {
			if g != nil {
				g.firstWriter = i
			}
		}
		for _, g := range s.doutBufs {
			if g != nil {
				g.reader = i
			}
		}
	}
	for _, g := range all {
		if g.parent != nil && !g.window {
			g.reader = g.parent.reader
			g.parent.firstWriter = max(g.parent.firstWriter, g.firstWriter)
		}
	}
	for i, s := range p.steps {
		for _, g := range s.doutBufs {
			if g != nil && g.window {
				g.parent.reader = min(g.parent.reader, i)
			}
		}
	}
}

// gradientSpans returns the spans of the gradient buffers that are neither
// pinned nor views, each living from its first writer (or, never written,
// its reader, which reads zeros) to its reader, or to the last reader of
// the buffers that take its memory over in turn.
func (p *Plan) gradientSpans() []*span {
	p.gradsInPlace()
	for _, g := range p.inputGrads {
		if g.seed || g.firstWriter < 0 {
			g.pinned = true
			g.data = p.own(g.size, BufferEstimate{Kind: InputBuffer, Name: g.name + " gradient"})
		}
	}
	all := p.gradients()
	end := map[*gradBuf]int{}
	for _, g := range all {
		b := g.base()
		switch {
		case g.input:
			end[b] = p.lastTime() // the caller reads it after Backward
		default:
			end[b] = max(end[b], p.backTime(g.reader))
		}
	}
	var spans []*span
	for _, g := range all {
		if g.parent != nil || g.pinned || g.over != nil {
			continue
		}
		from, kind, name := p.backTime(g.first()), GradientBuffer, g.name
		if g.seed {
			from = len(p.steps) // the caller writes it after Forward
		}
		if g.input {
			kind, name = InputBuffer, g.name+" gradient"
		}
		spans = append(spans, &span{size: g.size, lives: [][2]int{{from, end[g]}}, kind: kind, name: name,
			set: func(b []float32) { g.data = b }})
	}
	return spans
}

// gradsInPlace lets each step whose backward pass can set its input's
// gradient over its output's (Built.GradInPlace) do so where it is the
// first to write the input's gradient, and both are plain buffers: the
// input's takes over the memory of the output's, which only the step
// reads, and the step sets it.
func (p *Plan) gradsInPlace() {
	for i, s := range p.steps {
		if !s.gradInPlace || !s.backward {
			continue
		}
		in, out := s.dinBufs[0], s.doutBufs[0]
		switch {
		case in == nil || out == nil || in.size != out.size || in.firstWriter != i:
		case in.input || in.seed || in.parent != nil || in.split || out.seed || out.parent != nil || out.split:
		case slices.Index(s.dinBufs[1:], in) >= 0:
		default:
			in.over = out
			s.run.Accumulate[0] = false
		}
	}
}

// first is the index of the step at which g's life starts: its first
// writer, or its reader if nothing writes it.
func (g *gradBuf) first() int {
	if g.firstWriter < 0 {
		return g.reader
	}
	return g.firstWriter
}

// wireGradients gives the views their part of their parents' buffers and
// the steps their gradients, and records which buffers Backward clears at
// which step: each when its life starts (a view, when its own first
// writer runs), but the targets' seeds, split parents, which their views
// cover, read-only windows, and buffers set in place of others.
func (p *Plan) wireGradients() {
	all := p.gradients()
	for _, g := range all {
		if g.over != nil {
			g.data = g.base().data
		}
	}
	for _, g := range all {
		if g.parent != nil {
			g.data = g.parent.data[g.off:][:g.size]
			if g.window {
				continue
			}
		}
		first := g.firstWriter
		if first < 0 {
			first = g.reader
			if g.parent != nil {
				first = g.parent.reader
			}
		}
		if !g.seed && !g.split && g.over == nil && first >= 0 {
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

// view is the tensor's part of its root's buffer.
func (t *tensor) view() []float32 { return t.root.data[t.off:][:t.shape.Size()] }
