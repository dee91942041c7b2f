package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{}, {3}, {1, 3, 2, 2}, {0, 4}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(i) - 1.5
		}
		var buf bytes.Buffer
		if err := WriteFloat32(&buf, shape, data); err != nil {
			t.Fatal(err)
		}
		if (buf.Len()-4*n)%64 != 0 {
			t.Errorf("shape %v: data does not start on a 64-byte boundary", shape)
		}
		a, err := Decode(buf.Bytes())
		if err != nil {
			t.Fatalf("shape %v: %v", shape, err)
		}
		if len(a.Shape) != len(shape) || len(a.F32) != n {
			t.Fatalf("shape %v: got shape %v, %d elements", shape, a.Shape, len(a.F32))
		}
		for i := range data {
			if a.F32[i] != data[i] {
				t.Fatalf("element %d = %v, want %v", i, a.F32[i], data[i])
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := func() []byte {
		var buf bytes.Buffer
		_ = WriteFloat32(&buf, []int{2, 2}, []float32{1, 2, 3, 4})
		return buf.Bytes()
	}
	cases := map[string]struct {
		data []byte
		want string
	}{
		"magic":     {[]byte("hello world"), "bad magic"},
		"truncated": {good()[:len(good())-1], "needs 16 bytes"},
		"huge":      {bytes.Replace(good(), []byte("(2, 2)"), []byte("(99999, 99999)"), 1), "too large"},
		"dtype":     {bytes.Replace(good(), []byte("<f4"), []byte("<i8"), 1), "unsupported dtype"},
		"fortran":   {bytes.Replace(good(), []byte("False"), []byte("True "), 1), "C-order"},
		"version":   {append(append([]byte{}, good()[:6]...), append([]byte{9, 0}, good()[8:]...)...), "version 9"},
	}
	for name, c := range cases {
		_, err := Decode(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, c.want)
		}
	}
}

// The shared fixtures hold float64 scalars and uint8 images, as NumPy writes them.
func TestSharedFixtures(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "fixtures")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("needs ../shared/fixtures (present in CI):", err)
	}
	obj, err := ReadFile(filepath.Join(dir, "dog_224_objective_4c.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(obj.Shape) != 0 || len(obj.F64) != 1 || obj.F64[0] < 2.19e7 || obj.F64[0] > 2.191e7 {
		t.Errorf("objective = %v %v", obj.Shape, obj.F64)
	}
	rgb, err := ReadFile(filepath.Join(dir, "dog_224_rgb_u8.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rgb.U8) != 224*224*3 {
		t.Errorf("rgb has %d elements", len(rgb.U8))
	}
}

func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteFloat32(&buf, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	f.Add(buf.Bytes())
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Decode(data)
		if err != nil {
			return
		}
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if got := len(a.Float32s()); got != n {
			t.Fatalf("shape %v but %d elements", a.Shape, got)
		}
	})
}
