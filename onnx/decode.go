package onnx

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Decode decodes a serialized ModelProto. Tensor.Raw slices alias data, so
// data must not be modified while the model is in use. External tensor data
// is left unresolved (see ReadFile). Errors are *DecodeError.
func Decode(data []byte) (*Model, error) {
	m := &Model{}
	opsets := 0
	err := eachField(data, func(f field) error {
		var err error
		switch f.num {
		case 1:
			m.IRVersion, err = f.int64("ir_version")
		case 2:
			m.ProducerName, err = f.string("producer_name")
		case 3:
			m.ProducerVersion, err = f.string("producer_version")
		case 7:
			var b []byte
			if b, err = f.bytes("graph"); err != nil {
				return err
			}
			m.Graph, err = decodeGraph(b)
			return within("graph", err)
		case 8:
			var b []byte
			if b, err = f.bytes("opset_import"); err != nil {
				return err
			}
			domain, version, err := decodeOpset(b)
			if err != nil {
				return within(seg("opset_import", opsets, domain), err)
			}
			opsets++
			if m.Opsets == nil {
				m.Opsets = make(map[string]int64)
			}
			m.Opsets[domain] = version
		}
		return err
	})
	if err == nil && m.Graph == nil {
		err = errors.New("model has no graph")
	}
	if err != nil {
		return nil, within("", err)
	}
	return m, nil
}

// DecodeTensor decodes a serialized TensorProto, such as the input_0.pb and
// output_0.pb files of the ONNX backend tests. Raw aliases data.
func DecodeTensor(data []byte) (*Tensor, error) {
	t, err := decodeTensor(data)
	if err != nil {
		path := "tensor"
		if t.Name != "" {
			path = fmt.Sprintf("tensor %q", t.Name)
		}
		return nil, within(path, err)
	}
	return t, nil
}

func decodeOpset(b []byte) (domain string, version int64, err error) {
	err = eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			domain, err = f.string("domain")
		case 2:
			version, err = f.int64("version")
		}
		return err
	})
	return domain, version, err
}

func decodeGraph(b []byte) (*Graph, error) {
	g := &Graph{}
	var inputs []*ValueInfo
	err := eachField(b, func(f field) error {
		switch f.num {
		case 2:
			var err error
			g.Name, err = f.string("name")
			return err
		case 1:
			msg, err := f.bytes("node")
			if err != nil {
				return err
			}
			n, err := decodeNode(msg)
			n.Index = len(g.Nodes)
			g.Nodes = append(g.Nodes, n)
			return within(seg("node", n.Index, n.Name), err)
		case 5:
			msg, err := f.bytes("initializer")
			if err != nil {
				return err
			}
			t, err := decodeTensor(msg)
			g.Initializers = append(g.Initializers, t)
			return within(seg("initializer", len(g.Initializers)-1, t.Name), err)
		case 11:
			return appendValueInfoField(&inputs, f, "input")
		case 12:
			return appendValueInfoField(&g.Outputs, f, "output")
		case 13:
			return appendValueInfoField(&g.ValueInfo, f, "value_info")
		case 15:
			return fmt.Errorf("sparse_initializer (field 15): %w", ErrUnsupported)
		}
		return nil
	})
	if err != nil {
		return g, err
	}
	constant := make(map[string]bool, len(g.Initializers))
	for _, t := range g.Initializers {
		constant[t.Name] = true
	}
	for _, vi := range inputs {
		if !constant[vi.Name] {
			g.Inputs = append(g.Inputs, vi)
		}
	}
	return g, nil
}

func decodeNode(b []byte) (*Node, error) {
	n := &Node{}
	err := eachField(b, func(f field) error {
		var err error
		var s string
		switch f.num {
		case 1:
			s, err = f.string("input")
			n.Inputs = append(n.Inputs, s)
		case 2:
			s, err = f.string("output")
			n.Outputs = append(n.Outputs, s)
		case 3:
			n.Name, err = f.string("name")
		case 4:
			n.OpType, err = f.string("op_type")
		case 7:
			n.Domain, err = f.string("domain")
		case 5:
			var msg []byte
			if msg, err = f.bytes("attribute"); err != nil {
				return err
			}
			a, err := decodeAttribute(msg)
			n.Attrs = append(n.Attrs, a)
			return within(seg("attribute", len(n.Attrs)-1, a.Name), err)
		}
		return err
	})
	return n, err
}

func decodeAttribute(b []byte) (*Attribute, error) {
	a := &Attribute{}
	// IR version 1 files have no type field; the value field present decides.
	var seen AttrType
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			a.Name, err = f.string("name")
		case 20:
			var v int32
			v, err = f.int32("type")
			a.Type = AttrType(v)
		case 2:
			a.F, err = f.float32("f")
			seen = AttrFloat
		case 3:
			a.I, err = f.int64("i")
			seen = AttrInt
		case 4:
			a.S, err = f.string("s")
			seen = AttrString
		case 6:
			_, err = f.bytes("g")
			seen = AttrGraph
		case 7:
			a.Floats, err = appendFixed(a.Floats, f, "floats", 4, float32FromBits)
			seen = AttrFloats
		case 8:
			a.Ints, err = appendVarints(a.Ints, f, "ints")
			seen = AttrInts
		case 9:
			var s string
			s, err = f.string("strings")
			a.Strings = append(a.Strings, s)
			seen = AttrStrings
		case 11:
			_, err = f.bytes("graphs")
			seen = AttrGraphs
		case 5:
			var msg []byte
			if msg, err = f.bytes("t"); err != nil {
				return err
			}
			seen = AttrTensor
			a.T, err = decodeTensor(msg)
			return within("t", err)
		case 10:
			var msg []byte
			if msg, err = f.bytes("tensors"); err != nil {
				return err
			}
			seen = AttrTensors
			t, err := decodeTensor(msg)
			a.Tensors = append(a.Tensors, t)
			return within(seg("tensors", len(a.Tensors)-1, t.Name), err)
		}
		return err
	})
	if a.Type == AttrUndefined {
		a.Type = seen
	}
	return a, err
}

// dataLocationExternal is TensorProto.DataLocation EXTERNAL.
const dataLocationExternal = 1

func decodeTensor(b []byte) (*Tensor, error) {
	t := &Tensor{}
	var location int32
	var entries [][2]string
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			t.Dims, err = appendVarints(t.Dims, f, "dims")
		case 2:
			var v int32
			v, err = f.int32("data_type")
			t.DataType = DataType(v)
		case 3:
			return fmt.Errorf("segment (field 3): %w", ErrUnsupported)
		case 4:
			t.FloatData, err = appendFixed(t.FloatData, f, "float_data", 4, float32FromBits)
		case 5:
			t.Int32Data, err = appendVarints(t.Int32Data, f, "int32_data")
		case 7:
			t.Int64Data, err = appendVarints(t.Int64Data, f, "int64_data")
		case 8:
			t.Name, err = f.string("name")
		case 9:
			var raw []byte
			raw, err = f.bytes("raw_data")
			// The cap stops an append to Raw from overwriting the input.
			t.Raw = raw[:len(raw):len(raw)]
		case 10:
			t.DoubleData, err = appendFixed(t.DoubleData, f, "double_data", 8, math.Float64frombits)
		case 11:
			t.Uint64Data, err = appendVarints(t.Uint64Data, f, "uint64_data")
		case 13:
			var msg []byte
			if msg, err = f.bytes("external_data"); err != nil {
				return err
			}
			var kv [2]string
			kv, err = decodeStringEntry(msg)
			entries = append(entries, kv)
			return within(seg("external_data", len(entries)-1, kv[0]), err)
		case 14:
			location, err = f.int32("data_location")
		}
		return err
	})
	if err != nil {
		return t, err
	}
	switch location {
	case 0:
	case dataLocationExternal:
		t.External, err = parseExternal(entries)
	default:
		err = fmt.Errorf("data_location %d: want 0 (default) or 1 (external)", location)
	}
	return t, err
}

func decodeStringEntry(b []byte) (kv [2]string, err error) {
	err = eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			kv[0], err = f.string("key")
		case 2:
			kv[1], err = f.string("value")
		}
		return err
	})
	return kv, err
}

func parseExternal(entries [][2]string) (*ExternalData, error) {
	x := &ExternalData{Length: -1}
	for _, kv := range entries {
		var err error
		switch kv[0] {
		case "location":
			x.Location = kv[1]
		case "offset":
			x.Offset, err = parseSize(kv[1])
		case "length":
			x.Length, err = parseSize(kv[1])
		}
		if err != nil {
			return nil, fmt.Errorf("external_data %q = %q: %w", kv[0], kv[1], err)
		}
	}
	if x.Location == "" {
		return nil, errors.New(`data_location is external but external_data has no "location"`)
	}
	return x, nil
}

func parseSize(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err == nil && v < 0 {
		err = errors.New("negative")
	}
	return v, err
}

func appendValueInfoField(dst *[]*ValueInfo, f field, name string) error {
	msg, err := f.bytes(name)
	if err != nil {
		return err
	}
	vi := &ValueInfo{}
	err = eachField(msg, func(f field) error {
		var err error
		switch f.num {
		case 1:
			vi.Name, err = f.string("name")
		case 2:
			var b []byte
			if b, err = f.bytes("type"); err != nil {
				return err
			}
			err = decodeType(b, vi)
		}
		return err
	})
	*dst = append(*dst, vi)
	return within(seg(name, len(*dst)-1, vi.Name), err)
}

// decodeType reads TypeProto.tensor_type into vi; other kinds of type
// (sequence, map, optional) leave vi's type unknown.
func decodeType(b []byte, vi *ValueInfo) error {
	return eachField(b, func(f field) error {
		if f.num != 1 {
			return nil
		}
		msg, err := f.bytes("tensor_type")
		if err != nil {
			return err
		}
		return eachField(msg, func(f field) error {
			var err error
			switch f.num {
			case 1:
				var v int32
				v, err = f.int32("elem_type")
				vi.ElemType = DataType(v)
			case 2:
				var shape []byte
				if shape, err = f.bytes("shape"); err != nil {
					return err
				}
				vi.Dims, err = decodeShape(shape)
			}
			return err
		})
	})
}

func decodeShape(b []byte) ([]Dim, error) {
	dims := []Dim{}
	err := eachField(b, func(f field) error {
		if f.num != 1 {
			return nil
		}
		msg, err := f.bytes("dim")
		if err != nil {
			return err
		}
		d := Dim{Value: -1}
		err = eachField(msg, func(f field) error {
			var err error
			// dim_value and dim_param are a oneof: the last one wins.
			switch f.num {
			case 1:
				d.Value, err = f.int64("dim_value")
				d.Param = ""
			case 2:
				d.Param, err = f.string("dim_param")
				d.Value = -1
			}
			return err
		})
		dims = append(dims, d)
		return within(seg("dim", len(dims)-1, ""), err)
	})
	return dims, err
}
