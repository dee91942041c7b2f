package graph

import "slices"

// concatsInPlace makes the inputs of each concatenation that only it reads
// views of its output, where they are contiguous ranges of it (nothing
// but ones before the axis: an inception module's branches, joined along
// the channels of one image): their producers write into the output, and
// the concatenation copies only its other inputs. Their gradients become
// read-only windows of the output's gradient (gradBuf.window), which the
// producers read in place, so Backward copies nothing for them either.
//
// An input qualifies if a step of the plan produces it as a buffer of its
// own, or it aliases one (a fused ReLU's Identity), no other step reads
// that buffer, neither is a target, it appears once, and its gradient is
// plain where the output has one. Other inputs, such as the stacked
// sibling convolutions' views (parts of a buffer), are copied as before.
func (p *Plan) concatsInPlace() {
	if p.opts.NoConcatInPlace || p.shapesOnly {
		return
	}
	producer := map[*tensor]int{}
	readers := map[*tensor]int{} // steps reading a root, through any view
	for i, s := range p.steps {
		for _, t := range s.outT {
			producer[t] = i
		}
		for _, t := range s.inT {
			if t != nil {
				readers[t.root]++
			}
		}
	}
	// The tensors on each root's buffer; whole says they all span it
	// (aliases such as a fused ReLU's Identity), not parts of it.
	onRoot, whole := map[*tensor][]*tensor{}, map[*tensor]bool{}
	for _, s := range p.steps {
		for _, t := range s.outT {
			onRoot[t], whole[t] = []*tensor{t}, true
		}
	}
	for _, t := range p.tensors {
		if r := t.root; r != nil && r != t {
			onRoot[r] = append(onRoot[r], t)
			whole[r] = whole[r] && t.off == 0 && t.shape.Size() == r.shape.Size()
		}
	}
	var early [][2]*step // the last producer of a copied input, and the concatenation
	target := map[*tensor]bool{}
	for _, t := range p.targets {
		target[t] = true
		if t.root != nil {
			target[t.root] = true
		}
	}
	for ci, s := range p.steps {
		k, ok := s.kernel.(*concatKernel)
		if !ok || k.p.Outer != 1 || len(s.outT) != 1 {
			continue
		}
		out := s.outT[0]
		if target[out] || len(onRoot[out]) != 1 {
			continue // a target, or aliased
		}
		gOut := out.grad
		off := 0
		inPlace, copied := false, -1 // copied: the last producer of an input copied
		for i, t := range s.inT {
			start := off
			off += k.p.Widths[i]
			if t == nil || t.cnst != nil {
				continue
			}
			r := t.root
			pi, made := producer[r]
			switch {
			case !made || pi >= ci || !whole[r] || target[r] || readers[r] != 1,
				slices.IndexFunc(s.inT, func(u *tensor) bool { return u != nil && u.root == r }) != i, // joined twice
				(gOut == nil) != (t.grad == nil),
				t.grad != nil && (t.grad.parent != nil || t.grad.seed || s.dinBufs[i] != t.grad):
				if made {
					copied = max(copied, pi)
				}
				continue
			}
			inPlace = true
			for _, u := range onRoot[r] {
				u.root, u.off = out, start
			}
			// out now holds parts: a concatenation that joins it in turn
			// copies it (views of views are not planned).
			onRoot[out], whole[out] = append(onRoot[out], onRoot[r]...), false
			s.inT[i] = nil // the step gets nil for it, and skips it
			if g := t.grad; g != nil {
				g.parent, g.off, g.window = gOut, start, true
				s.dinBufs[i] = nil
			}
		}
		if s.backward && !slices.ContainsFunc(s.dinBufs, func(g *gradBuf) bool { return g != nil }) {
			s.backward = false // every input is in place: nothing to copy back
		}
		if inPlace && copied >= 0 && copied+1 < ci {
			early = append(early, [2]*step{p.steps[copied], s})
		}
	}
	// A concatenation that copies some inputs runs right after the last
	// of their producers: it copies them, and Backward their gradients, as
	// soon as it can, and their buffers go sooner (an inception module's
	// stacked 1x1 output is copied before its other branches run, and its
	// gradient made once they have).
	for _, e := range early {
		from, to := slices.Index(p.steps, e[1]), slices.Index(p.steps, e[0])+1
		p.steps = slices.Insert(slices.Delete(p.steps, from, from+1), to, e[1])
	}
}
