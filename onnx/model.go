package onnx

// DataType is TensorProto.DataType.
type DataType int32

// The element types the ONNX spec defines (TensorProto.DataType).
const (
	Undefined  DataType = 0
	Float      DataType = 1
	Uint8      DataType = 2
	Int8       DataType = 3
	Uint16     DataType = 4
	Int16      DataType = 5
	Int32      DataType = 6
	Int64      DataType = 7
	String     DataType = 8
	Bool       DataType = 9
	Float16    DataType = 10
	Double     DataType = 11
	Uint32     DataType = 12
	Uint64     DataType = 13
	Complex64  DataType = 14
	Complex128 DataType = 15
	BFloat16   DataType = 16
)

// Model is a decoded ModelProto: only what an inference engine needs.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	// Opsets maps an operator-set domain ("" for the default ai.onnx domain)
	// to its imported version.
	Opsets map[string]int64
	Graph  *Graph
}

// Opset returns the version imported for the default domain ("" or "ai.onnx").
func (m *Model) Opset() int64 {
	if v, ok := m.Opsets[""]; ok {
		return v
	}
	return m.Opsets["ai.onnx"]
}

// Graph is a decoded GraphProto.
type Graph struct {
	Name  string
	Nodes []*Node
	// Initializers holds the graph's constant tensors, in file order.
	Initializers []*Tensor
	// Inputs are the real inputs: graph.input minus any name that is also an
	// initializer (IR < 4 files list every initializer among the inputs).
	Inputs    []*ValueInfo
	Outputs   []*ValueInfo
	ValueInfo []*ValueInfo
}

// ValueInfo is a decoded ValueInfoProto for a tensor type.
type ValueInfo struct {
	Name     string
	ElemType DataType
	// Dims is nil when the shape is unknown; a Dim with Value < 0 is symbolic.
	Dims []Dim
}

// Dim is one dimension of a declared shape: a fixed Value, or a symbolic Param
// (Value is then -1).
type Dim struct {
	Value int64
	Param string
}

// Node is a decoded NodeProto.
type Node struct {
	// Index is the node's position in Graph.Nodes, for error messages.
	Index   int
	Name    string
	OpType  string
	Domain  string
	Inputs  []string // "" marks an omitted optional input
	Outputs []string
	Attrs   []*Attribute
}

// Attr returns the attribute with the given name, or nil.
func (n *Node) Attr(name string) *Attribute {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// AttrType is AttributeProto.AttributeType.
type AttrType int32

// Attribute types (AttributeProto.AttributeType).
const (
	AttrUndefined AttrType = 0
	AttrFloat     AttrType = 1
	AttrInt       AttrType = 2
	AttrString    AttrType = 3
	AttrTensor    AttrType = 4
	AttrGraph     AttrType = 5
	AttrFloats    AttrType = 6
	AttrInts      AttrType = 7
	AttrStrings   AttrType = 8
	AttrTensors   AttrType = 9
	AttrGraphs    AttrType = 10
)

// Attribute is a decoded AttributeProto. Graph-valued attributes are kept
// only as their type (no supported op uses them).
type Attribute struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       string
	T       *Tensor
	Floats  []float32
	Ints    []int64
	Strings []string
	Tensors []*Tensor
}

// Tensor is a decoded TensorProto. Exactly one storage form is set,
// according to how the file stored it; use Float32s / Int64s to read it.
type Tensor struct {
	Name     string
	DataType DataType
	Dims     []int64
	// Raw is raw_data (little-endian), or the bytes read from external data.
	// It may alias the buffer the model was decoded from.
	Raw        []byte
	FloatData  []float32
	DoubleData []float64
	Int32Data  []int32 // also holds bool, int8/16, uint8/16, float16 per the spec
	Int64Data  []int64
	Uint64Data []uint64
	// External is set for data_location = EXTERNAL before it is resolved.
	External *ExternalData
}

// ExternalData locates a tensor's bytes in a file beside the model.
type ExternalData struct {
	Location string
	Offset   int64
	Length   int64 // -1 when not given: to the end of the file
}
