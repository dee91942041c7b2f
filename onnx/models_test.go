package onnx

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestGoogLeNet(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "models", "googlenet-bvlc.onnx")
	if _, err := os.Stat(path); err != nil {
		t.Skip("needs ../shared/models/googlenet-bvlc.onnx (present in CI):", err)
	}
	m, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g := m.Graph
	if m.IRVersion != 3 || m.Opset() != 7 {
		t.Errorf("IR %d opset %d, want IR 3 opset 7", m.IRVersion, m.Opset())
	}
	if len(g.Nodes) != 143 {
		t.Errorf("%d nodes, want 143", len(g.Nodes))
	}
	if len(g.Inputs) != 1 || g.Inputs[0].Name != "data_0" {
		t.Errorf("inputs %+v, want only data_0", g.Inputs)
	}
	if len(g.Initializers) != 117 {
		t.Errorf("%d initializers, want 117", len(g.Initializers))
	}
	params := 0
	for _, init := range g.Initializers {
		if init.DataType != Float {
			continue
		}
		w, err := init.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		params += len(w)
	}
	if params != 6_998_552 {
		t.Errorf("%d float parameters, want 6998552", params)
	}
	found := false
	for _, n := range g.Nodes {
		for _, out := range n.Outputs {
			if out == "inception_4c/output_1" {
				found = true
				if n.OpType != "Concat" {
					t.Errorf("inception_4c/output_1 comes from a %s node, want Concat", n.OpType)
				}
			}
		}
	}
	if !found {
		t.Error("no node outputs inception_4c/output_1")
	}
}

// TestONNXBackendTestData decodes the ONNX project's own test files: every
// model.onnx and every TensorProto in test_data_set_*.
func TestONNXBackendTestData(t *testing.T) {
	const root = "/usr/share/libonnx-testdata/data"
	if _, err := os.Stat(filepath.Join(root, "node")); err != nil {
		t.Skip("needs the Debian package libonnx-testdata:", err)
	}
	models, tensors := 0, 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case d.Name() == "model.onnx":
			models++
			m, err := ReadFile(path)
			if err != nil {
				t.Error(err)
				return nil
			}
			for _, init := range m.Graph.Initializers {
				if err := readElements(init); err != nil {
					t.Errorf("%s: %v", path, err)
				}
			}
		case strings.HasSuffix(path, ".pb") && strings.HasPrefix(filepath.Base(filepath.Dir(path)), "test_data_set_"):
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if declaredNonTensor(path) {
				return nil
			}
			tensors++
			tensor, err := DecodeTensor(data)
			if err == nil {
				err = readElements(tensor)
			}
			if err != nil {
				t.Errorf("%s: %v", path, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("decoded %d models and %d tensors", models, tensors)
	if models < 900 || tensors < 2500 {
		t.Errorf("found only %d models and %d tensors under %s", models, tensors, root)
	}
}

// declaredNonTensor reports whether the model a test data file belongs to
// declares that input or output as a sequence or optional: such files hold
// a SequenceProto or OptionalProto, not a TensorProto.
func declaredNonTensor(path string) bool {
	m, err := ReadFile(filepath.Join(filepath.Dir(filepath.Dir(path)), "model.onnx"))
	if err != nil {
		return false
	}
	list := m.Graph.Inputs
	index, ok := strings.CutPrefix(filepath.Base(path), "input_")
	if !ok {
		list = m.Graph.Outputs
		index, _ = strings.CutPrefix(filepath.Base(path), "output_")
	}
	i, err := strconv.Atoi(strings.TrimSuffix(index, ".pb"))
	if err != nil || i < 0 || i >= len(list) {
		return false
	}
	return list[i].ElemType == Undefined && list[i].Dims == nil
}

// readElements reads t with whichever accessor suits its type, so that the
// element counts and conversions are checked against real files.
func readElements(t *Tensor) error {
	var err error
	switch t.DataType {
	case Float, Double, Float16, BFloat16:
		_, err = t.Float32s()
	case Int8, Uint8, Int16, Uint16, Int32, Uint32, Int64, Uint64, Bool:
		_, err = t.Int64s()
	}
	return err
}
