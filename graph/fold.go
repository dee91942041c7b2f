package graph

// Folding: running at plan time what depends on constants only, and
// shape inference without buffers.

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
// shapes (a classifier head at a size it was not made for) or at all (an
// unsupported operator) are reported in failed, with everything that
// depends on them left out of shapes, and reported in failed with the error
// of the first node that failed on its way.
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
		err := error(nil)
		for _, in := range n.Inputs {
			if err = failed[in]; err != nil {
				break
			}
		}
		if err == nil {
			err = p.add(n)
		}
		if err != nil {
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
