package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
)

var dataTypeNames = [...]string{
	Undefined: "UNDEFINED", Float: "FLOAT", Uint8: "UINT8", Int8: "INT8",
	Uint16: "UINT16", Int16: "INT16", Int32: "INT32", Int64: "INT64",
	String: "STRING", Bool: "BOOL", Float16: "FLOAT16", Double: "DOUBLE",
	Uint32: "UINT32", Uint64: "UINT64", Complex64: "COMPLEX64",
	Complex128: "COMPLEX128", BFloat16: "BFLOAT16",
}

// String returns the name onnx.proto gives the type, e.g. "FLOAT".
func (d DataType) String() string {
	if d >= 0 && int(d) < len(dataTypeNames) {
		return dataTypeNames[d]
	}
	return fmt.Sprintf("DataType(%d)", int32(d))
}

// NewFloatTensor returns a FLOAT tensor holding data in FloatData. It keeps
// dims and data, not copies.
func NewFloatTensor(name string, dims []int64, data []float32) *Tensor {
	return &Tensor{Name: name, DataType: Float, Dims: dims, FloatData: data}
}

// NewInt64Tensor returns an INT64 tensor holding data in Int64Data. It keeps
// dims and data, not copies.
func NewInt64Tensor(name string, dims []int64, data []int64) *Tensor {
	return &Tensor{Name: name, DataType: Int64, Dims: dims, Int64Data: data}
}

// NumElements returns the product of the dimensions (1 for a scalar).
func (t *Tensor) NumElements() (int, error) {
	n := 1
	for _, d := range t.Dims {
		if d < 0 {
			return 0, fmt.Errorf("onnx: tensor %q: negative dimension in %v", t.Name, t.Dims)
		}
		if d > math.MaxInt || d != 0 && n > math.MaxInt/int(d) {
			return 0, fmt.Errorf("onnx: tensor %q: dimensions %v overflow int", t.Name, t.Dims)
		}
		n *= int(d)
	}
	return n, nil
}

// Float32s returns the elements of a FLOAT, DOUBLE, FLOAT16 or BFLOAT16
// tensor as a new []float32, from whichever storage the file used.
func (t *Tensor) Float32s() ([]float32, error) {
	n, err := t.checkReadable()
	if err != nil {
		return nil, err
	}
	switch t.DataType {
	case Float:
		if t.Raw != nil {
			return fromRaw(t, n, 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) })
		}
		return fromField(t, n, "float_data", t.FloatData, func(v float32) (float32, error) { return v, nil })
	case Double:
		if t.Raw != nil {
			return fromRaw(t, n, 8, func(b []byte) float32 { return float32(math.Float64frombits(binary.LittleEndian.Uint64(b))) })
		}
		return fromField(t, n, "double_data", t.DoubleData, func(v float64) (float32, error) { return float32(v), nil })
	case Float16:
		if t.Raw != nil {
			return fromRaw(t, n, 2, func(b []byte) float32 { return float16to32(binary.LittleEndian.Uint16(b)) })
		}
		return fromField(t, n, "int32_data", t.Int32Data, func(v int32) (float32, error) { return float16to32(uint16(v)), nil })
	case BFloat16:
		if t.Raw != nil {
			return fromRaw(t, n, 2, func(b []byte) float32 { return bfloat16to32(binary.LittleEndian.Uint16(b)) })
		}
		return fromField(t, n, "int32_data", t.Int32Data, func(v int32) (float32, error) { return bfloat16to32(uint16(v)), nil })
	}
	return nil, fmt.Errorf("onnx: tensor %q: data type %v is not a floating-point type", t.Name, t.DataType)
}

// Int64s returns the elements of an integer or BOOL tensor as a new []int64,
// from whichever storage the file used.
func (t *Tensor) Int64s() ([]int64, error) {
	n, err := t.checkReadable()
	if err != nil {
		return nil, err
	}
	size := 0
	switch t.DataType {
	case Int8, Uint8, Bool:
		size = 1
	case Int16, Uint16:
		size = 2
	case Int32, Uint32:
		size = 4
	case Int64, Uint64:
		size = 8
	default:
		return nil, fmt.Errorf("onnx: tensor %q: data type %v is not an integer type", t.Name, t.DataType)
	}
	if t.Raw != nil {
		dt := t.DataType
		v, err := fromRaw(t, n, size, func(b []byte) int64 { return rawInt(dt, b) })
		if err == nil && dt == Uint64 {
			for _, x := range v {
				if x < 0 {
					return nil, fmt.Errorf("onnx: tensor %q: UINT64 value %d overflows int64", t.Name, uint64(x))
				}
			}
		}
		return v, err
	}
	switch t.DataType {
	case Int64:
		return fromField(t, n, "int64_data", t.Int64Data, func(v int64) (int64, error) { return v, nil })
	case Uint32, Uint64:
		return fromField(t, n, "uint64_data", t.Uint64Data, func(v uint64) (int64, error) {
			if v > math.MaxInt64 {
				return 0, fmt.Errorf("value %d overflows int64", v)
			}
			return int64(v), nil
		})
	}
	return fromField(t, n, "int32_data", t.Int32Data, func(v int32) (int64, error) { return int64(v), nil })
}

// checkReadable returns the element count of a tensor whose data is in memory.
func (t *Tensor) checkReadable() (int, error) {
	if t.External != nil {
		return 0, fmt.Errorf("onnx: tensor %q: data is in external file %q, not loaded (use ReadFile)", t.Name, t.External.Location)
	}
	return t.NumElements()
}

// fromRaw converts little-endian raw_data of n elements of size bytes each.
func fromRaw[T any](t *Tensor, n, size int, conv func([]byte) T) ([]T, error) {
	if len(t.Raw)%size != 0 || len(t.Raw)/size != n {
		want := fmt.Sprintf("%d*%d", size, n)
		if n <= math.MaxInt/size {
			want += fmt.Sprintf("=%d", size*n)
		}
		return nil, fmt.Errorf("onnx: tensor %q: raw_data has %d bytes, want %s", t.Name, len(t.Raw), want)
	}
	out := make([]T, n)
	for i := range out {
		out[i] = conv(t.Raw[i*size:])
	}
	return out, nil
}

// fromField converts the n elements of a typed data field.
func fromField[S, T any](t *Tensor, n int, name string, src []S, conv func(S) (T, error)) ([]T, error) {
	if len(src) != n {
		return nil, fmt.Errorf("onnx: tensor %q: %s has %d values, want %d for dims %v", t.Name, name, len(src), n, t.Dims)
	}
	out := make([]T, n)
	for i, v := range src {
		var err error
		if out[i], err = conv(v); err != nil {
			return nil, fmt.Errorf("onnx: tensor %q: %s[%d]: %w", t.Name, name, i, err)
		}
	}
	return out, nil
}

// rawInt decodes one little-endian element of integer type dt; UINT64 values
// above MaxInt64 come out negative for the caller to reject.
func rawInt(dt DataType, b []byte) int64 {
	switch dt {
	case Int8:
		return int64(int8(b[0]))
	case Uint8, Bool:
		return int64(b[0])
	case Int16:
		return int64(int16(binary.LittleEndian.Uint16(b)))
	case Uint16:
		return int64(binary.LittleEndian.Uint16(b))
	case Int32:
		return int64(int32(binary.LittleEndian.Uint32(b)))
	case Uint32:
		return int64(binary.LittleEndian.Uint32(b))
	}
	return int64(binary.LittleEndian.Uint64(b))
}

func float16to32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // rebias 15 -> 127
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
	// Zero or subnormal: mant * 2^-24 is exact in float32.
	f := float32(mant) / (1 << 24)
	if sign != 0 {
		f = -f
	}
	return f
}

func bfloat16to32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }
