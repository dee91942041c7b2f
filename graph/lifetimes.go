package graph

// Buffer lifetimes: which tensors, gradients, saved state and scratch
// share memory, and when gradient buffers are cleared.

import (
	"slices"
	"unsafe"
)

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
	memory, placed := map[*dataBlock][]float32{}, map[*tensor]bool{}
	for _, s := range p.steps {
		for _, t := range s.outT { // every root a step writes, named or not
			r := t.root
			if placed[r] || r.data != nil {
				continue
			}
			placed[r] = true
			if b := owner[r]; b != nil {
				if _, ok := memory[b]; !ok {
					memory[b] = p.alloc(b.size)
				}
				if !p.sizing {
					r.data = memory[b][:r.shape.Size()]
				}
			} else { // kept for Backward: a buffer of its own
				r.data = p.alloc(r.shape.Size())
			}
		}
	}
	if p.sizing {
		return
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
		if s.scratch > 0 && !p.sizing {
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
			case p.sizing:
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
	if p.sizing {
		for _, g := range starts {
			for _, g := range g {
				if b := owner[g]; memory[b] == nil {
					memory[b] = []float32{}
					p.alloc(b.size)
				}
			}
		}
		return
	}
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

// view is the tensor's part of its root's buffer.
func (t *tensor) view() []float32 { return t.root.data[t.off:][:t.shape.Size()] }
