package graph

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/deepdream-go/deepdream/internal/edit"
	"github.com/deepdream-go/deepdream/onnx"
)

// Model is an ONNX graph ready to be planned: initializers decoded, every
// tensor's producer known. It is immutable and safe for concurrent Plan calls.
type Model struct {
	File   string // for error messages; may be empty
	Graph  *onnx.Graph
	Opset  int64
	consts map[string]*Value
	// producer maps a tensor name to the index of the node that writes it.
	producer map[string]int
	nodes    []*Node
}

// Open reads an ONNX file (external data resolved beside it) and loads it.
func Open(path string) (*Model, error) {
	m, err := onnx.ReadFile(path)
	if err != nil {
		return nil, err
	}
	g, err := Load(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	g.File = path
	releaseFile(m)
	return g, nil
}

// releaseFile lets the bytes of the model file go: Load has converted the
// initializers, and the few tensors in node attributes (decoded as views of
// the file) get copies of their own. A 550 MB VGG file would otherwise stay
// in memory beside its converted weights.
func releaseFile(m *onnx.Model) {
	m.Graph.Initializers = nil
	for _, n := range m.Graph.Nodes {
		for _, a := range n.Attrs {
			for _, t := range append([]*onnx.Tensor{a.T}, a.Tensors...) {
				if t != nil {
					t.Raw = bytes.Clone(t.Raw)
				}
			}
		}
	}
}

// Load prepares a decoded ONNX model.
func Load(m *onnx.Model) (*Model, error) {
	if m.Graph == nil {
		return nil, fmt.Errorf("graph: model has no graph")
	}
	g := &Model{
		Graph:    m.Graph,
		Opset:    m.Opset(),
		consts:   make(map[string]*Value, len(m.Graph.Initializers)),
		producer: make(map[string]int, len(m.Graph.Nodes)),
	}
	if g.Opset == 0 {
		g.Opset = 1 // ONNX: a model importing no default-domain opset is at version 1
	}
	for _, t := range m.Graph.Initializers {
		v, err := ValueOf(t)
		if err != nil {
			return nil, fmt.Errorf("graph: initializer %q: %w", t.Name, err)
		}
		g.consts[t.Name] = v
	}
	for i, n := range m.Graph.Nodes {
		opset := g.Opset
		if n.Domain != "" && n.Domain != "ai.onnx" {
			opset = m.Opsets[n.Domain]
		}
		node := &Node{Node: n, Opset: opset}
		node.Index = i
		g.nodes = append(g.nodes, node)
		for _, out := range n.Outputs {
			if out == "" {
				continue
			}
			if _, dup := g.producer[out]; dup {
				return nil, node.Errorf("tensor %q is written by two nodes", out)
			}
			if _, isConst := g.consts[out]; isConst {
				return nil, node.Errorf("tensor %q is both an initializer and a node output", out)
			}
			g.producer[out] = i
		}
	}
	return g, nil
}

// ValueOf converts an ONNX tensor into a Value: float types to F, integer
// and boolean types to I.
func ValueOf(t *onnx.Tensor) (*Value, error) {
	shape := make(Shape, len(t.Dims))
	for i, d := range t.Dims {
		if d < 0 || d > 1<<31 {
			return nil, fmt.Errorf("dimension %d is %d", i, d)
		}
		shape[i] = int(d)
	}
	switch t.DataType {
	case onnx.Float, onnx.Double, onnx.Float16, onnx.BFloat16:
		f, err := t.Float32s()
		if err != nil {
			return nil, err
		}
		if len(f) != shape.Size() {
			return nil, fmt.Errorf("%d elements for shape %v", len(f), shape)
		}
		return &Value{Shape: shape, F: f}, nil
	case onnx.Int64, onnx.Int32, onnx.Int16, onnx.Int8, onnx.Uint8, onnx.Uint16, onnx.Uint32, onnx.Uint64, onnx.Bool:
		v, err := t.Int64s()
		if err != nil {
			return nil, err
		}
		if len(v) != shape.Size() {
			return nil, fmt.Errorf("%d elements for shape %v", len(v), shape)
		}
		return &Value{Shape: shape, Int: true, I: v}, nil
	}
	return nil, fmt.Errorf("unsupported element type %d", t.DataType)
}

// Inputs returns the graph's real inputs (initializers excluded).
func (m *Model) Inputs() []*onnx.ValueInfo { return m.Graph.Inputs }

// Const returns an initializer's value, or nil.
func (m *Model) Const(name string) *Value { return m.consts[name] }

// Tensors lists every tensor a node writes, in graph order.
func (m *Model) Tensors() []string {
	var names []string
	for _, n := range m.nodes {
		for _, out := range n.Outputs {
			if out != "" {
				names = append(names, out)
			}
		}
	}
	return names
}

// Producer returns the node that writes tensor name, or nil for inputs,
// initializers and unknown names.
func (m *Model) Producer(name string) *Node {
	if i, ok := m.producer[name]; ok {
		return m.nodes[i]
	}
	return nil
}

func (m *Model) isInput(name string) bool {
	return slices.ContainsFunc(m.Graph.Inputs, func(v *onnx.ValueInfo) bool { return v.Name == name })
}

// UnknownTensorError is returned for a tensor name the model does not have.
type UnknownTensorError struct {
	Name    string
	Closest []string
}

func (e *UnknownTensorError) Error() string {
	return fmt.Sprintf("graph: no tensor %q in the model; closest: %s", e.Name, strings.Join(e.Closest, ", "))
}

// Closest returns up to k tensor names nearest to name by edit distance,
// ignoring case, nearest first.
func (m *Model) Closest(name string, k int) []string {
	names := m.Tensors()
	for _, in := range m.Graph.Inputs {
		names = append(names, in.Name)
	}
	type scored struct {
		name string
		d    int
	}
	lname := strings.ToLower(name)
	all := make([]scored, len(names))
	for i, n := range names {
		d := edit.Distance(lname, strings.ToLower(n))
		// A name that merely adds a suffix (inception_4c/output ->
		// inception_4c/output_1) is what the user meant more often than not.
		if strings.HasPrefix(strings.ToLower(n), lname) {
			d = min(d, 1)
		}
		all[i] = scored{n, d}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].d < all[j].d })
	out := make([]string, 0, k)
	for _, s := range all[:min(k, len(all))] {
		out = append(out, s.name)
	}
	return out
}
