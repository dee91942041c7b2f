package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeExternalModel writes model.onnx with initializer "W" and a Constant
// node's tensor stored in weights.bin, and returns the model's path.
func writeExternalModel(t *testing.T, w, c *ExternalData) string {
	t.Helper()
	dir := t.TempDir()
	// 16 bytes of padding, W = [1 2 3], C = [-1].
	bin := append(make([]byte, 16), le32(1, 2, 3, -1)...)
	if err := os.WriteFile(filepath.Join(dir, "weights.bin"), bin, 0o644); err != nil {
		t.Fatal(err)
	}
	m := &Model{IRVersion: 8, Opsets: map[string]int64{"": 17}, Graph: &Graph{
		Nodes: []*Node{{Name: "const", OpType: "Constant", Outputs: []string{"c"}, Attrs: []*Attribute{
			{Name: "value", Type: AttrTensor, T: &Tensor{Name: "C", DataType: Float, Dims: []int64{1}, External: c}},
		}}},
		Initializers: []*Tensor{{Name: "W", DataType: Float, Dims: []int64{3}, External: w}},
	}}
	path := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(path, Encode(m), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadFileExternalData(t *testing.T) {
	path := writeExternalModel(t,
		&ExternalData{Location: "weights.bin", Offset: 16, Length: 12},
		&ExternalData{Location: "./weights.bin", Offset: 28, Length: -1})
	m, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w := m.Graph.Initializers[0]
	if w.External != nil {
		t.Error("External still set after ReadFile")
	}
	if got, err := w.Float32s(); err != nil || !reflect.DeepEqual(got, []float32{1, 2, 3}) {
		t.Errorf("W = %v, %v; want [1 2 3]", got, err)
	}
	c := m.Graph.Nodes[0].Attrs[0].T
	if got, err := c.Float32s(); err != nil || !reflect.DeepEqual(got, []float32{-1}) {
		t.Errorf("C = %v, %v; want [-1]", got, err)
	}
}

func TestReadFileExternalDataErrors(t *testing.T) {
	const w, c = `graph.initializer[0] ("W")`, `graph.node[0] ("const").attribute[0] ("value").t`
	tests := []struct {
		name string
		w, c ExternalData
		want string
	}{
		{"parent", ExternalData{Location: "../weights.bin", Length: -1}, ExternalData{Location: "weights.bin", Length: -1},
			w + `: external data "../weights.bin": location must be a relative path inside the model's directory`},
		{"absolute", ExternalData{Location: "weights.bin", Length: -1}, ExternalData{Location: "/etc/passwd", Length: -1},
			c + `: external data "/etc/passwd": location must be a relative path inside the model's directory`},
		{"inner parent", ExternalData{Location: "a/../../weights.bin", Length: -1}, ExternalData{Location: "weights.bin", Length: -1},
			w + `: external data "a/../../weights.bin": location must be a relative path`},
		{"past end", ExternalData{Location: "weights.bin", Offset: 20, Length: 13}, ExternalData{Location: "weights.bin", Length: -1},
			w + `: external data "weights.bin": offset 20 + length 13 is past the end of the file (32 bytes)`},
		{"huge length", ExternalData{Location: "weights.bin", Offset: 1, Length: 1 << 62}, ExternalData{Location: "weights.bin", Length: -1},
			w + `: external data "weights.bin": offset 1 + length 4611686018427387904 is past the end of the file (32 bytes)`},
		{"offset past end", ExternalData{Location: "weights.bin", Offset: 1 << 62, Length: -1}, ExternalData{Location: "weights.bin", Length: -1},
			w + `: external data "weights.bin": offset 4611686018427387904 is past the end of the file (32 bytes)`},
		{"missing file", ExternalData{Location: "weights.bin", Length: -1}, ExternalData{Location: "nothere.bin", Length: -1},
			c + `: external data: `}, // then the os.Root error naming nothere.bin
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeExternalModel(t, &tc.w, &tc.c)
			_, err := ReadFile(path)
			want := "onnx: " + path + ": " + tc.want
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %v\n     want %s", err, want)
			}
			var de *DecodeError
			if !errors.As(err, &de) || de.File != path {
				t.Errorf("error %#v is not a *DecodeError with File %q", err, path)
			}
		})
	}
}

func TestReadFileSymlinkEscape(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.bin")
	if err := os.WriteFile(outside, make([]byte, 12), 0o644); err != nil {
		t.Fatal(err)
	}
	path := writeExternalModel(t, &ExternalData{Location: "link.bin", Length: -1}, &ExternalData{Location: "weights.bin", Length: -1})
	if err := os.Symlink(outside, filepath.Join(filepath.Dir(path), "link.bin")); err != nil {
		t.Skip("cannot make symlinks:", err)
	}
	if _, err := ReadFile(path); err == nil {
		t.Error("read external data through a symlink leading out of the model's directory")
	}
}

func TestReadFileExternalDirectory(t *testing.T) {
	path := writeExternalModel(t, &ExternalData{Location: "sub", Length: -1}, &ExternalData{Location: "weights.bin", Length: -1})
	if err := os.Mkdir(filepath.Join(filepath.Dir(path), "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	if want := `graph.initializer[0] ("W"): external data "sub": not a regular file`; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %v, want one ending %s", err, want)
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadFile(filepath.Join(dir, "none.onnx")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error %v, want one wrapping os.ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.onnx")
	if err := os.WriteFile(bad, []byte{0x3a, 0x05}, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(bad)
	if want := "onnx: " + bad + ": field 7: unexpected EOF"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
