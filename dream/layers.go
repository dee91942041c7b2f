package dream

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/deepdream-go/deepdream/graph"
)

// The layer resolver: every layer name a user gives (the command line's
// dream, probe, bench and layers, the studio) becomes a tensor here.

// Tensor returns the tensor a layer name names: the name itself when it is
// one of the network's layers (an exact tensor name always wins), else the
// tensor of the alias of that name. A layer is a tensor that changes with
// the image: not the input itself, a weight, or a constant.
func (n *Network) Tensor(name string) (string, error) {
	if t, ok := n.lookup(name); ok {
		return t, nil
	}
	switch {
	case name == n.Input:
		return "", fmt.Errorf("dream: %s%q is the model's input, not a layer", where(n.Model), name)
	case n.Model.Const(name) != nil || n.Model.Producer(name) != nil:
		return "", fmt.Errorf("dream: %s%q is a weight or constant of the model, not a layer: it does not change with the image", where(n.Model), name)
	}
	var closest []string // the 5 nearest layers, from every name nearest first
	for _, c := range n.Model.Closest(name, len(n.Model.Tensors())+len(n.Model.Inputs())) {
		if n.isLayer(c) && len(closest) < 5 {
			closest = append(closest, c)
		}
	}
	return "", fmt.Errorf("dream: %sno layer %q; closest tensor names: %s", where(n.Model), name, strings.Join(closest, ", "))
}

// lookup is Tensor without the explanations.
func (n *Network) lookup(name string) (string, bool) {
	if n.isLayer(name) {
		return name, true
	}
	t, ok := n.Aliases[name]
	return t, ok
}

// Resolve makes the objective of req: every layer spec names a layer of
// the network (see Tensor), with channels it has; every class spec a class
// of its classifier (ParseClass, Class). A request without layers dreams
// the default layer, which Resolve writes into req.Layers so that a record
// of the request names it, unless it has classes and no guide: the classes
// are then the whole objective. It runs nothing: a request that cannot run
// fails here, before the work starts, and Dream makes the guided terms
// (Guided).
func (n *Network) Resolve(req *Request) (Objective, error) {
	if len(req.Layers) == 0 && (len(req.Classes) == 0 || req.Guide != "") {
		if n.DefaultLayer == "" {
			return nil, n.noLayers()
		}
		req.Layers = []string{n.DefaultLayer}
	}
	obj := make(Objective, 0, len(req.Layers))
	for _, spec := range req.Layers {
		l, err := ParseLayer(spec)
		if err != nil {
			return nil, fmt.Errorf("dream: layer %q: %w", spec, err)
		}
		if l.Name, err = n.Tensor(l.Name); err != nil {
			return nil, err
		}
		if cause := n.blocked[l.Name]; cause != nil {
			return nil, fmt.Errorf("dream: %slayer %q cannot be computed: it depends on %w", where(n.Model), spec, cause)
		}
		if shape, ok := n.shapes[l.Name]; ok {
			if err := checkChannels(l, shape); err != nil {
				return nil, err
			}
		}
		obj = append(obj, l)
	}
	for _, spec := range req.Classes {
		l, err := ParseClass(spec)
		if err != nil {
			return nil, &ClassError{Spec: spec, Model: strings.TrimSuffix(where(n.Model), ": "), Err: err}
		}
		if l, err = n.resolveClass(l, spec); err != nil {
			return nil, err
		}
		obj = append(obj, l)
	}
	return obj, nil
}

// noLayers explains why a network has no default layer: no tensor with a
// spatial extent can be computed at its size.
func (n *Network) noLayers() error {
	why := ""
	if u := n.Model.Unsupported(); len(u) > 0 {
		why = fmt.Sprintf(" (the first operator the engine lacks: %v)", u[0])
	}
	return fmt.Errorf("dream: %sno layer to dream with: no tensor with channels and an extent can be computed at %dx%d%s", where(n.Model), n.w, n.h, why)
}

// isLayer reports whether t is a tensor a dream can maximise: one that
// carries the image, other than the input.
func (n *Network) isLayer(t string) bool { return n.images[t] && t != n.Input }

// Size returns the input size the network's layers are listed and checked
// at: the profile's InputSize, else the size the model's input declares,
// else 224x224.
func (n *Network) Size() (w, h int) { return n.w, n.h }

func (n *Network) size() (w, h int) {
	if s := n.InputSize; s > 0 {
		return s, s
	}
	if d := n.Model.Inputs()[0].Dims; len(d) == 4 && d[2].Value > 0 && d[3].Value > 0 {
		return int(d[3].Value), int(d[2].Value)
	}
	return 224, 224
}

// dreamable keeps the tensors that have channels and an extent of more
// than one pixel at the network's size.
func (n *Network) dreamable(tensors []string) []string {
	var out []string
	for _, t := range tensors {
		if s := n.shapes[t]; n.isLayer(t) && len(s) == 4 && s[2] > 1 && s[3] > 1 {
			out = append(out, t)
		}
	}
	return out
}

// friendly returns the alias naming tensor t (the first in sort order when
// several do), else t.
func (n *Network) friendly(t string) string {
	name := t
	for alias, target := range n.Aliases {
		if target == t && (name == t || alias < name) {
			name = alias
		}
	}
	return name
}

// chooseDefault picks the layer a profile without a default layer dreams:
// the output of the block at about two thirds of the network's depth, deep
// enough for dreams of object parts rather than strokes, as the registry's
// defaults are (ResNet-50's stage 3 of 4, SqueezeNet's fire7 of fire2 to
// fire9; the notebook's inception_4c is block 5 of 9); without blocks, the
// tensor at two thirds of those the engine can compute.
func (n *Network) chooseDefault(blocks []string) (layer, how string) {
	what := "block"
	if len(blocks) == 0 {
		blocks, what = n.dreamable(n.Model.Tensors()), "layer"
	}
	if len(blocks) == 0 {
		return "", ""
	}
	k := (2*len(blocks)+2)/3 - 1 // ceil(2n/3), from 1
	if what == "block" {
		how = fmt.Sprintf("the output of block %d of %d, about two thirds of the way through the network", k+1, len(blocks))
	} else {
		how = fmt.Sprintf("layer %d of the %d with an extent the engine can compute at %dx%d, about two thirds of the way", k+1, len(blocks), n.w, n.h)
	}
	return n.friendly(blocks[k]), how
}

// LayerInfo is a layer of the network with its shape for one input size.
type LayerInfo struct {
	Tensor string
	Alias  string // the friendly name that maps to Tensor, "" if none
	Shape  graph.Shape
	Main   bool // one of the network's MainLayers
}

// Dreamable reports whether the tensor has channels and a spatial extent
// (N, C, H, W), which is what a dream layer needs.
func (l LayerInfo) Dreamable() bool { return len(l.Shape) == 4 }

// Name returns the layer's friendly name, else its tensor name.
func (l LayerInfo) Name() string { return cmp.Or(l.Alias, l.Tensor) }

// Listing is what Layers finds at one input size.
type Listing struct {
	// Layers are the tensors that change with the image (neither the
	// input, weights nor constants) and can be computed at this size, in
	// graph order.
	Layers []LayerInfo
	// Failed counts the tensors that change with the image but cannot be
	// computed at this size; Causes are the nodes where computing stops
	// (each a *graph.NodeError): operators the engine lacks, or nodes
	// that cannot take this size (a classifier made for another one).
	Failed int
	Causes []error
}

// Layers lists the network's layers with their shapes for a w x h image.
func (n *Network) Layers(w, h int) (Listing, error) {
	shapes, failed, err := n.Model.InferShapes([]graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, h, w}}})
	if err != nil {
		return Listing{}, fmt.Errorf("dream: %s%w", where(n.Model), err)
	}
	var out Listing
	for _, t := range n.Model.Tensors() {
		if !n.isLayer(t) {
			continue
		}
		if _, bad := failed[t]; bad {
			out.Failed++
			continue
		}
		alias := n.friendly(t)
		if alias == t {
			alias = ""
		}
		main := slices.Contains(n.MainLayers, t) || alias != "" && slices.Contains(n.MainLayers, alias)
		out.Layers = append(out.Layers, LayerInfo{Tensor: t, Alias: alias, Shape: shapes[t], Main: main})
	}
	for _, node := range n.Model.Graph.Nodes {
		if len(node.Outputs) == 0 || failed[node.Outputs[0]] == nil {
			continue
		}
		if !slices.ContainsFunc(node.Inputs, func(in string) bool { return failed[in] != nil }) {
			out.Causes = append(out.Causes, failed[node.Outputs[0]])
		}
	}
	return out, nil
}

// where names the model file in an error message ("x.onnx: "), or
// nothing for a model built in memory. The base name is enough to know the
// file by, and the studio shows these messages to its visitors, who are
// not to learn its directories.
func where(m *graph.Model) string {
	if m.File == "" {
		return ""
	}
	return filepath.Base(m.File) + ": "
}
