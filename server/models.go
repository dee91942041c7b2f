package server

import (
	"fmt"
	"slices"
	"sync"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/models"
)

// Model is one network the page may choose, by Name. The operator's flags
// make the list (NewModel, OpenModel); the page only ever sends a Name
// back, never a path.
type Model struct {
	Name  string
	Entry *models.Entry

	once   sync.Once
	open   func() (*graph.Model, error)
	net    *dream.Network
	layers []Layer
	err    error
}

// Layer is a dreamable tensor as the page lists it.
type Layer struct {
	Name     string `json:"name"`   // what the page sends back: the alias, else the tensor
	Tensor   string `json:"tensor"` // the tensor in the model
	Channels int    `json:"channels"`
	Main     bool   `json:"main,omitempty"` // one of the entry's MainLayers
}

// NewModel wraps an already loaded network (tests, and the --model the
// command loaded at start).
func NewModel(name string, e *models.Entry, net *dream.Network) *Model {
	return &Model{Name: name, Entry: e, net: net}
}

// OpenModel describes the model file at path, opened on first use.
func OpenModel(name string, e *models.Entry, path string) *Model {
	return &Model{Name: name, Entry: e, open: func() (*graph.Model, error) { return graph.Open(path) }}
}

// load opens the model once and lists its layers at the entry's input size.
func (m *Model) load() (*dream.Network, []Layer, error) {
	m.once.Do(func() {
		if m.net == nil {
			g, err := m.open()
			if err != nil {
				m.err = err
				return
			}
			if m.net, err = dream.NewNetwork(g, m.Entry.Preprocess); err != nil {
				m.err = err
				return
			}
		}
		m.layers, m.err = m.listLayers()
	})
	return m.net, m.layers, m.err
}

// listLayers lists the main layers first, shallow to deep, then every other
// dreamable tensor in graph order.
func (m *Model) listLayers() ([]Layer, error) {
	size := m.Entry.InputSize
	if size == 0 {
		size = 224
	}
	infos, _, err := m.net.Layers(size, size, m.Entry.Aliases)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	var main, rest []Layer
	for _, li := range infos {
		if !li.Dreamable() || li.Tensor == m.net.Input {
			continue
		}
		l := Layer{Name: li.Tensor, Tensor: li.Tensor, Channels: li.Shape[1]}
		if li.Alias != "" {
			l.Name = li.Alias
		}
		if l.Main = slices.Contains(m.Entry.MainLayers, l.Name); l.Main {
			main = append(main, l)
		} else {
			rest = append(rest, l)
		}
	}
	slices.SortStableFunc(main, func(a, b Layer) int {
		return slices.Index(m.Entry.MainLayers, a.Name) - slices.Index(m.Entry.MainLayers, b.Name)
	})
	return append(main, rest...), nil
}

// resolveLayers parses the page's layer specs and maps their names to
// tensors of the model.
func (m *Model) resolveLayers(specs []string) ([]dream.Layer, error) {
	_, layers, err := m.load()
	if err != nil {
		return nil, err
	}
	var out []dream.Layer
	for _, s := range specs {
		l, err := dream.ParseLayer(s)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(layers, func(x Layer) bool { return x.Name == l.Name || x.Tensor == l.Name })
		if i < 0 {
			return nil, fmt.Errorf("model %s has no dreamable layer %q", m.Name, l.Name)
		}
		for _, c := range l.Channels {
			if c >= layers[i].Channels {
				return nil, fmt.Errorf("layer %s has %d channels (0 to %d); channel %d does not exist", l.Name, layers[i].Channels, layers[i].Channels-1, c)
			}
		}
		l.Name = layers[i].Tensor
		out = append(out, l)
	}
	return out, nil
}
