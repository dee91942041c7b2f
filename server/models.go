package server

import (
	"slices"
	"sync"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/models"
)

// Model is one network the page may choose, by Name. The operator's flags
// make the list (NewModel, OpenModel); the page only ever sends a Name
// back, never a path.
type Model struct {
	Name  string
	Entry *models.Entry

	once   sync.Once
	path   string // of the file to open on first use ("": net is given)
	net    *dream.Network
	layers []Layer
	err    error
}

// Layer is a dreamable tensor as the page lists it.
type Layer struct {
	Name     string `json:"name"`   // what the page sends back: the alias, else the tensor
	Tensor   string `json:"tensor"` // the tensor in the model
	Channels int    `json:"channels"`
	Main     bool   `json:"main,omitempty"` // one of the network's main layers
}

// ModelOf returns the model of catalog that dreams rec: the one of its
// model's sha256 (a model without one: of its name), or nil.
func ModelOf(catalog []*Model, rec dream.Record) *Model {
	for _, m := range catalog {
		if m.Entry.SHA256 == rec.ModelSHA256 && (rec.ModelSHA256 != "" || m.Name == rec.Model) {
			return m
		}
	}
	return nil
}

// NewModel wraps an already loaded network (tests, and the --model the
// command loaded at start).
func NewModel(name string, e *models.Entry, net *dream.Network) *Model {
	return &Model{Name: name, Entry: e, net: net}
}

// OpenModel describes the model file at path, opened on first use (with
// models.Entry.Open, as the command line opens models).
func OpenModel(name string, e *models.Entry, path string) *Model {
	return &Model{Name: name, Entry: e, path: path}
}

// load opens the model once and lists its layers at the network's size;
// what had to be assumed about the file goes to logf.
func (m *Model) load(logf func(string, ...any)) (*dream.Network, []Layer, error) {
	m.once.Do(func() {
		if m.net == nil {
			var note string
			if m.net, note, m.err = m.Entry.Open(m.path); m.err != nil {
				return
			}
			if note != "" {
				logf("%s", note)
			}
		}
		m.layers, m.err = m.listLayers()
	})
	return m.net, m.layers, m.err
}

// Open opens the model on first use (as the studio does) and returns its
// network: the studio's in-process workers dream with it.
func (m *Model) Open(logf func(string, ...any)) (*dream.Network, error) {
	net, _, err := m.load(logf)
	return net, err
}

// listLayers lists the main layers first, shallow to deep, then every other
// dreamable tensor in graph order.
func (m *Model) listLayers() ([]Layer, error) {
	list, err := m.net.Layers(m.net.Size())
	if err != nil {
		return nil, err
	}
	var main, rest []Layer
	for _, li := range list.Layers {
		if !li.Dreamable() {
			continue
		}
		l := Layer{Name: li.Name(), Tensor: li.Tensor, Channels: li.Shape[1], Main: li.Main}
		if l.Main {
			main = append(main, l)
		} else {
			rest = append(rest, l)
		}
	}
	order := m.net.MainLayers
	slices.SortStableFunc(main, func(a, b Layer) int {
		return index(order, a) - index(order, b)
	})
	return append(main, rest...), nil
}

// index is the place of l among the main layers, named by alias or tensor.
func index(main []string, l Layer) int {
	if i := slices.Index(main, l.Name); i >= 0 {
		return i
	}
	return slices.Index(main, l.Tensor)
}
