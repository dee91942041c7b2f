package graph

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Shape lists a tensor's dimensions, outermost first (NCHW for images).
// An empty Shape is a scalar.
type Shape []int

// Size is the number of elements.
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether s and t have the same dimensions.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

// String formats the shape as 1x512x14x14 (a scalar is "scalar").
func (s Shape) String() string {
	if len(s) == 0 {
		return "scalar"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, "x")
}

// Clone returns a copy that does not share storage with s.
func (s Shape) Clone() Shape { return append(Shape{}, s...) }

// Value is a tensor known when a plan is made: an initializer, a Constant,
// an input fixed by the caller, or anything computed from those alone (such
// as the shape arithmetic of PyTorch exports). Float tensors keep F, integer
// and boolean tensors keep I (widened to int64).
type Value struct {
	Shape Shape
	Int   bool
	F     []float32
	I     []int64

	mu   sync.Mutex
	memo map[string]any // see Memo
}

// Memo returns compute(), run on the first call for key and kept with the
// value: a model's constants outlive its plans, so data derived from a
// weight tensor (Winograd-transformed, packed weights) is computed once
// per model, not once per plan and image size. key must name everything
// besides the value that compute depends on. Safe for concurrent use.
func (v *Value) Memo(key string, compute func() any) any {
	v.mu.Lock()
	defer v.mu.Unlock()
	if d, ok := v.memo[key]; ok {
		return d
	}
	if v.memo == nil {
		v.memo = map[string]any{}
	}
	d := compute()
	v.memo[key] = d
	return d
}

// FloatValue returns a float Value; it panics if len(data) != shape.Size().
func FloatValue(shape Shape, data []float32) *Value {
	if len(data) != shape.Size() {
		panic(fmt.Sprintf("graph: FloatValue: %d elements for shape %v", len(data), shape))
	}
	return &Value{Shape: shape, F: data}
}

// IntValue returns an integer Value; it panics if len(data) != shape.Size().
func IntValue(shape Shape, data []int64) *Value {
	if len(data) != shape.Size() {
		panic(fmt.Sprintf("graph: IntValue: %d elements for shape %v", len(data), shape))
	}
	return &Value{Shape: shape, Int: true, I: data}
}

// Ints returns the value's elements as int64, converting floats.
func (v *Value) Ints() []int64 {
	if v.Int {
		return v.I
	}
	out := make([]int64, len(v.F))
	for i, f := range v.F {
		out[i] = int64(f)
	}
	return out
}

// Floats returns the value's elements as float32, converting integers.
func (v *Value) Floats() []float32 {
	if !v.Int {
		return v.F
	}
	out := make([]float32, len(v.I))
	for i, x := range v.I {
		out[i] = float32(x)
	}
	return out
}
