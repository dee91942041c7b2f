package onnx

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// ReadFile reads and decodes the model file at path, then loads the data of
// every tensor stored externally (initializers and attribute tensors) into
// Tensor.Raw and clears Tensor.External. External locations must name files
// inside the model's directory. Errors are *DecodeError with File set, or
// wrap the *os.PathError from reading path itself.
func ReadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	m, err := Decode(data)
	if err == nil {
		err = loadExternal(m.Graph, filepath.Dir(path))
	}
	if err != nil {
		de := err.(*DecodeError)
		de.File = path
		return nil, de
	}
	return m, nil
}

// loadExternal resolves the external data of every tensor in g. The files
// are opened through an os.Root so that neither ".." nor a symbolic link can
// reach outside dir.
func loadExternal(g *Graph, dir string) error {
	var root *os.Root
	files := map[string]*os.File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
		if root != nil {
			root.Close()
		}
	}()
	load := func(t *Tensor) error {
		x := t.External
		if x == nil {
			return nil
		}
		name := filepath.FromSlash(x.Location)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("external data %q: location must be a relative path inside the model's directory", x.Location)
		}
		f := files[x.Location]
		if f == nil {
			var err error
			if root == nil {
				if root, err = os.OpenRoot(dir); err != nil {
					return fmt.Errorf("external data: %w", err)
				}
			}
			// Checked before opening: opening a FIFO would block.
			fi, err := root.Stat(name)
			if err != nil {
				return fmt.Errorf("external data: %w", err)
			}
			if !fi.Mode().IsRegular() {
				return fmt.Errorf("external data %q: not a regular file", x.Location)
			}
			if f, err = root.Open(name); err != nil {
				return fmt.Errorf("external data: %w", err)
			}
			files[x.Location] = f
		}
		raw, err := readRange(f, x.Offset, x.Length)
		if err != nil {
			return fmt.Errorf("external data %q: %w", x.Location, err)
		}
		t.Raw, t.External = raw, nil
		return nil
	}
	for i, t := range g.Initializers {
		if err := load(t); err != nil {
			return within("graph."+seg("initializer", i, t.Name), err)
		}
	}
	for _, n := range g.Nodes {
		for j, a := range n.Attrs {
			at := func() string { return "graph." + seg("node", n.Index, n.Name) + "." + seg("attribute", j, a.Name) }
			if a.T != nil {
				if err := load(a.T); err != nil {
					return within(at()+".t", err)
				}
			}
			for k, t := range a.Tensors {
				if err := load(t); err != nil {
					return within(at()+"."+seg("tensors", k, t.Name), err)
				}
			}
		}
	}
	return nil
}

// readRange reads length bytes (to the end when length is -1) at offset,
// checking the range against the file size before allocating.
func readRange(f *os.File, offset, length int64) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if offset > size {
		return nil, fmt.Errorf("offset %d is past the end of the file (%d bytes)", offset, size)
	}
	if length < 0 {
		length = size - offset
	}
	if length > size-offset {
		return nil, fmt.Errorf("offset %d + length %d is past the end of the file (%d bytes)", offset, length, size)
	}
	if length > math.MaxInt {
		return nil, errors.New("length does not fit in memory")
	}
	buf := make([]byte, length)
	if _, err := f.ReadAt(buf, offset); err != nil {
		return nil, err
	}
	return buf, nil
}
