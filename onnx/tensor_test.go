package onnx

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestFloat32s(t *testing.T) {
	tests := []struct {
		name   string
		tensor *Tensor
		want   []float32
	}{
		{"float_data", NewFloatTensor("f", []int64{2}, []float32{1, -2}), []float32{1, -2}},
		{"float raw", &Tensor{DataType: Float, Dims: []int64{2}, Raw: le32(1.5, -3)}, []float32{1.5, -3}},
		{"scalar", &Tensor{DataType: Float, Raw: le32(7)}, []float32{7}},
		{"empty", &Tensor{DataType: Float, Dims: []int64{0, 3}, Raw: []byte{}}, []float32{}},
		{"double_data", &Tensor{DataType: Double, Dims: []int64{2}, DoubleData: []float64{0.5, -1e3}}, []float32{0.5, -1e3}},
		{"double raw", &Tensor{DataType: Double, Dims: []int64{1}, Raw: []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}}, []float32{1}},
		// 0x3c00 = 1, 0xc000 = -2, 0x0001 = 2^-24 (smallest subnormal), 0x7c00 = +Inf.
		{"float16 raw", &Tensor{DataType: Float16, Dims: []int64{4}, Raw: []byte{0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c}},
			[]float32{1, -2, 1.0 / (1 << 24), float32(math.Inf(1))}},
		{"float16 int32_data", &Tensor{DataType: Float16, Dims: []int64{2}, Int32Data: []int32{0x3800, 0x8000}}, []float32{0.5, float32(math.Copysign(0, -1))}},
		{"bfloat16 raw", &Tensor{DataType: BFloat16, Dims: []int64{1}, Raw: []byte{0x80, 0x3f}}, []float32{1}},
		{"bfloat16 int32_data", &Tensor{DataType: BFloat16, Dims: []int64{1}, Int32Data: []int32{0xc000}}, []float32{-2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.tensor.Float32s()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) || len(got) > 0 && math.Signbit(float64(got[len(got)-1])) != math.Signbit(float64(tc.want[len(got)-1])) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestInt64s(t *testing.T) {
	tests := []struct {
		name   string
		tensor *Tensor
		want   []int64
	}{
		{"int64_data", NewInt64Tensor("s", []int64{3}, []int64{-1, 0, 1 << 40}), []int64{-1, 0, 1 << 40}},
		{"int64 raw", &Tensor{DataType: Int64, Dims: []int64{1}, Raw: []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, []int64{-2}},
		{"int32 raw", &Tensor{DataType: Int32, Dims: []int64{1}, Raw: []byte{0xfe, 0xff, 0xff, 0xff}}, []int64{-2}},
		{"uint32 raw", &Tensor{DataType: Uint32, Dims: []int64{1}, Raw: []byte{0xfe, 0xff, 0xff, 0xff}}, []int64{1<<32 - 2}},
		{"int16 raw", &Tensor{DataType: Int16, Dims: []int64{2}, Raw: []byte{0xff, 0xff, 2, 0}}, []int64{-1, 2}},
		{"uint16 raw", &Tensor{DataType: Uint16, Dims: []int64{1}, Raw: []byte{0xff, 0xff}}, []int64{65535}},
		{"int8 raw", &Tensor{DataType: Int8, Dims: []int64{2}, Raw: []byte{0x80, 1}}, []int64{-128, 1}},
		{"uint8 raw", &Tensor{DataType: Uint8, Dims: []int64{1}, Raw: []byte{0x80}}, []int64{128}},
		{"bool raw", &Tensor{DataType: Bool, Dims: []int64{2}, Raw: []byte{1, 0}}, []int64{1, 0}},
		{"uint64 raw", &Tensor{DataType: Uint64, Dims: []int64{1}, Raw: []byte{1, 0, 0, 0, 0, 0, 0, 0}}, []int64{1}},
		{"int32_data", &Tensor{DataType: Int32, Dims: []int64{2}, Int32Data: []int32{-5, 5}}, []int64{-5, 5}},
		{"bool int32_data", &Tensor{DataType: Bool, Dims: []int64{1}, Int32Data: []int32{1}}, []int64{1}},
		{"uint64_data", &Tensor{DataType: Uint64, Dims: []int64{1}, Uint64Data: []uint64{math.MaxInt64}}, []int64{math.MaxInt64}},
		{"uint32 uint64_data", &Tensor{DataType: Uint32, Dims: []int64{1}, Uint64Data: []uint64{7}}, []int64{7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.tensor.Int64s()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTensorErrors(t *testing.T) {
	tests := []struct {
		name string
		read func() error
		want string
	}{
		{"raw too short", floats(&Tensor{Name: "conv1_w_0", DataType: Float, Dims: []int64{3, 9}, Raw: make([]byte, 100)}),
			`onnx: tensor "conv1_w_0": raw_data has 100 bytes, want 4*27=108`},
		{"raw huge dims", floats(&Tensor{Name: "w", DataType: Float, Dims: []int64{math.MaxInt / 2}, Raw: make([]byte, 4)}),
			fmt.Sprintf(`onnx: tensor "w": raw_data has 4 bytes, want 4*%d`, math.MaxInt/2)},
		{"float_data count", floats(NewFloatTensor("w", []int64{2, 2}, []float32{1})),
			`onnx: tensor "w": float_data has 1 values, want 4 for dims [2 2]`},
		{"negative dim", floats(&Tensor{Name: "w", DataType: Float, Dims: []int64{2, -1}}),
			`onnx: tensor "w": negative dimension in [2 -1]`},
		{"overflow", floats(&Tensor{Name: "w", DataType: Float, Dims: []int64{1 << 32, 1 << 32}}),
			`onnx: tensor "w": dimensions [4294967296 4294967296] overflow int`},
		{"not float", floats(NewInt64Tensor("s", nil, []int64{1})),
			`onnx: tensor "s": data type INT64 is not a floating-point type`},
		{"not int", ints(NewFloatTensor("w", nil, []float32{1})),
			`onnx: tensor "w": data type FLOAT is not an integer type`},
		{"string", ints(&Tensor{Name: "s", DataType: String}),
			`onnx: tensor "s": data type STRING is not an integer type`},
		{"unknown type", ints(&Tensor{Name: "s", DataType: 99}),
			`onnx: tensor "s": data type DataType(99) is not an integer type`},
		{"uint64 overflow", ints(&Tensor{Name: "u", DataType: Uint64, Uint64Data: []uint64{math.MaxUint64}}),
			`onnx: tensor "u": uint64_data[0]: value 18446744073709551615 overflows int64`},
		{"uint64 raw overflow", ints(&Tensor{Name: "u", DataType: Uint64, Raw: []byte{0, 0, 0, 0, 0, 0, 0, 0x80}}),
			`onnx: tensor "u": UINT64 value 9223372036854775808 overflows int64`},
		{"int8 raw count", ints(&Tensor{Name: "b", DataType: Int8, Dims: []int64{3}, Raw: []byte{1}}),
			`onnx: tensor "b": raw_data has 1 bytes, want 1*3=3`},
		{"external", floats(&Tensor{Name: "w", DataType: Float, External: &ExternalData{Location: "w.bin", Length: -1}}),
			`onnx: tensor "w": data is in external file "w.bin", not loaded (use ReadFile)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.read()
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v\n     want %s", err, tc.want)
			}
		})
	}
}

func floats(t *Tensor) func() error {
	return func() error { _, err := t.Float32s(); return err }
}

func ints(t *Tensor) func() error {
	return func() error { _, err := t.Int64s(); return err }
}

func TestNumElements(t *testing.T) {
	for _, tc := range []struct {
		dims []int64
		want int
	}{{nil, 1}, {[]int64{0}, 0}, {[]int64{math.MaxInt / 2, 0, math.MaxInt / 2}, 0}, {[]int64{2, 3, 4}, 24}} {
		n, err := (&Tensor{Dims: tc.dims}).NumElements()
		if err != nil || n != tc.want {
			t.Errorf("NumElements(%v) = %d, %v; want %d", tc.dims, n, err, tc.want)
		}
	}
}

func TestDataTypeString(t *testing.T) {
	if s := BFloat16.String(); s != "BFLOAT16" {
		t.Errorf("BFloat16.String() = %q", s)
	}
	if s := DataType(-3).String(); !strings.Contains(s, "-3") {
		t.Errorf("DataType(-3).String() = %q", s)
	}
}
