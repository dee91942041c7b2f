package models

import (
	"fmt"
	"maps"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/graph"
)

// Open loads the model file at path and makes it ready to dream with e's
// profile: the one way the command line and the studio open a model.
//
// When e names no default layer (a model file whose sidecar names none),
// a file with GoogLeNet's nine inception modules gets GoogLeNet's layer
// names and default layer; any other file gets the layer dream.NewNetwork
// chooses from its graph. The note then says which, for the caller to show
// where the default layer is used; it is empty when e names the default.
// A profile without class names gets ImageNet's, which a classifier of
// 1000 classes uses for the class specs of a request.
func (e *Entry) Open(path string) (net *dream.Network, note string, err error) {
	g, err := graph.Open(path)
	if err != nil {
		return nil, "", err
	}
	p := e.Profile
	if p.Classes == nil {
		p.Classes = ImageNetClasses()
	}
	if p.DefaultLayer == "" && hasGoogLeNetModules(g) {
		google := registry[0].Profile
		p.DefaultLayer, p.MainLayers = google.DefaultLayer, google.MainLayers
		p.Aliases = maps.Clone(google.Aliases) // a sidecar's own aliases take precedence
		maps.Copy(p.Aliases, e.Aliases)
		note = fmt.Sprintf("%s: no default layer set by %s; the model has GoogLeNet's inception modules: assuming GoogLeNet's layer names and default layer %s",
			path, SidecarPath(path), p.DefaultLayer)
	}
	if net, err = dream.NewNetwork(g, p); err != nil {
		return nil, "", err
	}
	if net.Chosen != "" {
		note = fmt.Sprintf("%s: no default layer set by %s; dreaming %s, %s", path, SidecarPath(path), net.DefaultLayer, net.Chosen)
	}
	return net, note, nil
}

// hasGoogLeNetModules reports whether g has the tensors GoogLeNet's main
// layers (its nine inception outputs) name.
func hasGoogLeNetModules(g *graph.Model) bool {
	google := &registry[0]
	for _, l := range google.MainLayers {
		if g.Producer(google.Aliases[l]) == nil {
			return false
		}
	}
	return true
}
