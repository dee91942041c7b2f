package onnx

import (
	"bytes"
	"errors"
	"testing"
)

func fuzzSeeds() [][]byte {
	ir3 := convReluModel()
	ir3.IRVersion = 3
	ir3.Graph.Inputs = append(ir3.Graph.Inputs, &ValueInfo{Name: "W", ElemType: Float})
	external := convReluModel()
	external.Graph.Initializers[0] = &Tensor{Name: "W", DataType: Float, Dims: []int64{2, 1, 3, 3},
		External: &ExternalData{Location: "weights.bin", Offset: 4096, Length: 72}}
	return [][]byte{Encode(convReluModel()), Encode(ir3), Encode(external)}
}

// FuzzDecode checks that Decode never panics, that its errors are
// *DecodeError, that what it decodes re-encodes to bytes that decode again
// and encode identically, and that the tensor accessors survive any tensor.
func FuzzDecode(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is %T, want *DecodeError", err, err)
			}
			return
		}
		for _, init := range m.Graph.Initializers {
			readAny(init)
		}
		first := Encode(m)
		m2, err := Decode(first)
		if err != nil {
			t.Fatalf("re-encoded model does not decode: %v", err)
		}
		if second := Encode(m2); !bytes.Equal(first, second) {
			t.Fatalf("encoding is not stable:\n%x\n%x", first, second)
		}
	})
}

func FuzzDecodeTensor(f *testing.F) {
	m := convReluModel()
	for _, tensor := range m.Graph.Initializers {
		f.Add(EncodeTensor(tensor))
	}
	for _, a := range m.Graph.Nodes[0].Attrs {
		for _, tensor := range append(a.Tensors, a.T) {
			if tensor != nil {
				f.Add(EncodeTensor(tensor))
			}
		}
	}
	f.Add(EncodeTensor(&Tensor{Name: "f16", DataType: Float16, Dims: []int64{2}, Raw: []byte{0, 0x3c, 1, 0}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		tensor, err := DecodeTensor(data)
		if err != nil {
			return
		}
		readAny(tensor)
		first := EncodeTensor(tensor)
		again, err := DecodeTensor(first)
		if err != nil {
			t.Fatalf("re-encoded tensor does not decode: %v", err)
		}
		if second := EncodeTensor(again); !bytes.Equal(first, second) {
			t.Fatalf("encoding is not stable:\n%x\n%x", first, second)
		}
	})
}

// readAny calls every accessor; only panics matter, errors are expected.
func readAny(t *Tensor) {
	t.NumElements()
	t.Float32s()
	t.Int64s()
}
