package onnx

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestRoundTrip(t *testing.T) {
	want := convReluModel()
	data := Encode(want)
	got, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decode(Encode(m)) differs from m\n got: %+v\nwant: %+v", got.Graph, want.Graph)
		for i := range want.Graph.Nodes {
			if !reflect.DeepEqual(got.Graph.Nodes[i], want.Graph.Nodes[i]) {
				t.Errorf("node %d:\n got: %+v\nwant: %+v", i, got.Graph.Nodes[i], want.Graph.Nodes[i])
			}
		}
	}
	if again := Encode(got); !bytes.Equal(again, data) {
		t.Errorf("re-encoding gives %d bytes, first encoding %d", len(again), len(data))
	}
	if got.Opset() != 13 {
		t.Errorf("Opset() = %d, want 13", got.Opset())
	}
	if a := got.Graph.Nodes[0].Attr("pads"); a == nil || !reflect.DeepEqual(a.Ints, []int64{1, 1, 1, 1}) {
		t.Errorf(`Attr("pads") = %+v`, a)
	}
}

func TestRawAliasesInput(t *testing.T) {
	data := EncodeTensor(&Tensor{Name: "r", DataType: Uint8, Dims: []int64{3}, Raw: []byte{1, 2, 3}})
	tensor, err := DecodeTensor(data)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte{1, 2, 3})
	if &tensor.Raw[0] != &data[i] {
		t.Error("Raw is a copy, want a slice of the input")
	}
	if cap(tensor.Raw) != len(tensor.Raw) {
		t.Errorf("cap(Raw) = %d, want %d so appends cannot overwrite the input", cap(tensor.Raw), len(tensor.Raw))
	}
}

func TestIR3InputsExcludeInitializers(t *testing.T) {
	m := convReluModel()
	m.IRVersion = 3
	g := m.Graph
	real := g.Inputs
	// IR < 4 exporters list every initializer as a graph input too.
	g.Inputs = []*ValueInfo{{Name: "W", ElemType: Float}, real[0], {Name: "B", ElemType: Float}, {Name: "shape", ElemType: Int64}}
	got, err := Decode(Encode(m))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Graph.Inputs, real) {
		t.Errorf("Inputs = %+v, want only %+v", got.Graph.Inputs, real[0])
	}
}

// TestUnpackedRepeatedFields decodes repeated scalars written one per field,
// as proto2 writers do, and checks they equal the packed form.
func TestUnpackedRepeatedFields(t *testing.T) {
	var tw wire
	tw = tw.varint(1, 2).varint(1, 2).varint(2, uint64(Float)).str(8, "t")
	for _, v := range []float32{1, -2, 3.5, 0} {
		tw = tw.fixed32(4, math.Float32bits(v))
	}
	for _, v := range []int32{-1, 5} {
		tw = tw.varint(5, uint64(v))
	}
	for _, v := range []int64{-1 << 40, 5} {
		tw = tw.varint(7, uint64(v))
	}
	tw = tw.fixed64(10, math.Float64bits(-2.25))
	tw = tw.varint(11, 1<<63)
	// A packed run followed by an unpacked one appends, as protobuf requires.
	tw = tw.bytes(7, protowire.AppendVarint(nil, 9))
	want := &Tensor{Name: "t", DataType: Float, Dims: []int64{2, 2}, FloatData: []float32{1, -2, 3.5, 0},
		Int32Data: []int32{-1, 5}, Int64Data: []int64{-1 << 40, 5, 9}, DoubleData: []float64{-2.25}, Uint64Data: []uint64{1 << 63}}
	got, err := DecodeTensor(tw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unpacked:\n got %+v\nwant %+v", got, want)
	}
	packed, err := DecodeTensor(EncodeTensor(want))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(packed, want) {
		t.Errorf("packed:\n got %+v\nwant %+v", packed, want)
	}

	attr := wire{}.str(1, "a").fixed32(7, math.Float32bits(0.5)).fixed32(7, math.Float32bits(2)).varint(8, 3).varint(8, uint64(1<<64-4))
	node := wire{}.str(3, "n").bytes(5, attr)
	model := wire{}.bytes(7, wire{}.bytes(1, node))
	m, err := Decode(model)
	if err != nil {
		t.Fatal(err)
	}
	a := m.Graph.Nodes[0].Attrs[0]
	if !reflect.DeepEqual(a.Floats, []float32{0.5, 2}) || !reflect.DeepEqual(a.Ints, []int64{3, -4}) {
		t.Errorf("attribute = %+v, want floats [0.5 2], ints [3 -4]", a)
	}
	// No type field (IR version 1): the last value field decides.
	if a.Type != AttrInts {
		t.Errorf("inferred type %d, want AttrInts", a.Type)
	}
}

func TestUnknownFieldsSkipped(t *testing.T) {
	m := convReluModel()
	data := Encode(m)
	// Unknown fields of every wire type, including a group, before and
	// after the known ones.
	var extra wire
	extra = extra.varint(99, 1).fixed32(98, 2).fixed64(97, 3).str(6, "doc string")
	extra = protowire.AppendTag(extra, 96, protowire.StartGroupType)
	extra = extra.varint(1, 1)
	extra = protowire.AppendTag(extra, 96, protowire.EndGroupType)
	data = append(append(append([]byte{}, extra...), data...), extra...)
	got, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Error("unknown fields changed the decoded model")
	}
}

func TestDecodeErrors(t *testing.T) {
	graphWith := func(fields wire) []byte { return wire{}.bytes(7, fields) }
	nodeWith := func(fields wire) []byte { return graphWith(wire{}.bytes(1, fields)) }
	deepGroups := func(depth int) []byte {
		var b []byte
		for range depth {
			b = protowire.AppendTag(b, 50, protowire.StartGroupType)
		}
		for range depth {
			b = protowire.AppendTag(b, 50, protowire.EndGroupType)
		}
		return b
	}
	huge := func(num protowire.Number, n uint64) wire {
		return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.BytesType), n)
	}
	tests := []struct {
		name string
		data []byte
		want string
		is   error
	}{
		{"empty", nil, "onnx: model has no graph", nil},
		{"truncated tag", []byte{0x80}, "onnx: bad field tag: unexpected EOF", nil},
		{"field number zero", []byte{0x00}, "onnx: bad field tag: ", nil}, // protowire words the rest
		{"graph 2^60 bytes", huge(7, 1<<60), "onnx: field 7: unexpected EOF", nil},
		{"packed dims 2^60 bytes", graphWith(wire{}.bytes(5, huge(1, 1<<60))), `onnx: graph.initializer[0]: field 1: unexpected EOF`, nil},
		{"graph wire type", wire{}.varint(7, 1), "onnx: graph (field 7): bad wire type varint, want bytes", nil},
		{"attribute wire type", nodeWith(wire{}.str(3, "inception_4c/3x3").bytes(5, wire{}.str(1, "pads").fixed32(8, 1))),
			`onnx: graph.node[0] ("inception_4c/3x3").attribute[0] ("pads"): ints (field 8): bad wire type fixed32, want varint or bytes`, nil},
		{"packed varint truncated", nodeWith(wire{}.bytes(5, wire{}.bytes(8, []byte{0x80}))),
			`onnx: graph.node[0].attribute[0]: ints (field 8): packed: unexpected EOF`, nil},
		{"packed floats length", graphWith(wire{}.bytes(5, wire{}.str(8, "w").bytes(4, []byte{1, 2, 3}))),
			`onnx: graph.initializer[0] ("w"): float_data (field 4): packed length 3 is not a multiple of 4`, nil},
		{"sparse initializer", graphWith(wire{}.bytes(15, nil)), "onnx: graph: sparse_initializer (field 15): not supported", ErrUnsupported},
		{"segment", graphWith(wire{}.bytes(5, wire{}.str(8, "w").bytes(3, nil))), `onnx: graph.initializer[0] ("w"): segment (field 3): not supported`, ErrUnsupported},
		{"data location", graphWith(wire{}.bytes(5, wire{}.varint(14, 7))), "onnx: graph.initializer[0]: data_location 7: want 0 (default) or 1 (external)", nil},
		{"external without location", graphWith(wire{}.bytes(5, wire{}.varint(14, 1))), `onnx: graph.initializer[0]: data_location is external but external_data has no "location"`, nil},
		{"external bad offset", graphWith(wire{}.bytes(5, wire{}.bytes(13, wire{}.str(1, "offset").str(2, "-4")).varint(14, 1))),
			`onnx: graph.initializer[0]: external_data "offset" = "-4": negative`, nil},
		{"dim wire type", graphWith(wire{}.bytes(11, wire{}.str(1, "x").bytes(2, wire{}.bytes(1, wire{}.bytes(2, wire{}.bytes(1, wire{}.str(1, "n"))))))),
			`onnx: graph.input[0] ("x").dim[0]: dim_value (field 1): bad wire type bytes, want varint`, nil},
		{"opset", wire{}.bytes(8, wire{}.fixed64(2, 1)), "onnx: opset_import[0]: version (field 2): bad wire type fixed64, want varint", nil},
		{"deep groups", graphWith(deepGroups(100_000)), "onnx: graph: field 50: ", nil},
		{"stray end group", graphWith(protowire.AppendTag(nil, 50, protowire.EndGroupType)), "onnx: graph: field 50: ", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			m, err := Decode(tc.data)
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("took %v", elapsed)
			}
			if err == nil {
				t.Fatalf("decoded %+v, want error", m)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %q\n      want %q", err, tc.want)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Errorf("error is %T, want *DecodeError", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error does not wrap %v", tc.is)
			}
		})
	}
}

// TestDeepSubgraphsSkipped checks that graph attributes nested far deeper
// than any real model are skipped in linear time, not recursed into.
func TestDeepSubgraphsSkipped(t *testing.T) {
	var g []byte
	for range 2000 {
		attr := wire{}.str(1, "body").varint(20, uint64(AttrGraph)).bytes(6, g)
		g = wire{}.bytes(1, wire{}.str(4, "Loop").bytes(5, attr))
	}
	m, err := Decode(wire{}.bytes(7, g))
	if err != nil {
		t.Fatal(err)
	}
	if a := m.Graph.Nodes[0].Attrs[0]; a.Type != AttrGraph {
		t.Errorf("attribute type %d, want AttrGraph", a.Type)
	}
}

func TestDecodeTensorErrors(t *testing.T) {
	_, err := DecodeTensor(wire{}.str(8, "x").varint(9, 3))
	want := `onnx: tensor "x": raw_data (field 9): bad wire type varint, want bytes`
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
