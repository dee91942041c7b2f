package dream

import (
	"github.com/deepdream-go/deepdream/graph"
)

// LayerInfo is a tensor of the network with its shape for one input size.
type LayerInfo struct {
	Tensor string
	Alias  string // the friendly name that maps to Tensor, "" if none
	Shape  graph.Shape
}

// Dreamable reports whether the tensor has channels and a spatial extent
// (N, C, H, W), which is what a dream layer needs.
func (l LayerInfo) Dreamable() bool { return len(l.Shape) == 4 }

// Layers lists the tensors of the network, in graph order, with their
// shapes for a w x h image; aliases (friendly name -> tensor) name them.
// Tensors whose shape cannot be computed at that size (e.g. a classifier
// made for another size) are left out and counted in failed.
func (n *Network) Layers(w, h int, aliases map[string]string) (layers []LayerInfo, failed int, err error) {
	shapes, bad, err := n.Model.InferShapes([]graph.InputSpec{{Name: n.Input, Shape: graph.Shape{1, 3, h, w}}})
	if err != nil {
		return nil, 0, err
	}
	friendly := make(map[string]string, len(aliases))
	for alias, t := range aliases {
		if old, ok := friendly[t]; !ok || alias < old { // deterministic when two aliases name one tensor
			friendly[t] = alias
		}
	}
	for _, t := range n.Model.Tensors() {
		if s, ok := shapes[t]; ok {
			layers = append(layers, LayerInfo{Tensor: t, Alias: friendly[t], Shape: s})
		}
	}
	return layers, len(bad), nil
}
