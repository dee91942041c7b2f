package onnx

import (
	"bytes"
	"runtime"
	"testing"
)

// TestDecodeMemoryBound decodes inputs crafted to make the most objects per
// input byte (empty messages, two bytes each) and checks memory stays within
// the constant multiple of the input size doc.go promises: nothing is sized
// from a declared count.
func TestDecodeMemoryBound(t *testing.T) {
	const n = 1 << 16
	repeat := func(w wire) wire { return bytes.Repeat(w, n) }
	emptyNode := wire{}.bytes(1, nil)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty nodes", wire{}.bytes(7, repeat(emptyNode))},
		{"empty node inputs", wire{}.bytes(7, wire{}.bytes(1, repeat(wire{}.bytes(1, nil))))},
		{"empty attributes", wire{}.bytes(7, wire{}.bytes(1, repeat(wire{}.bytes(5, nil))))},
		{"empty attribute tensors", wire{}.bytes(7, wire{}.bytes(1, wire{}.bytes(5, repeat(wire{}.bytes(10, nil)))))},
		{"empty initializers", wire{}.bytes(7, repeat(wire{}.bytes(5, nil)))},
		{"empty inputs", wire{}.bytes(7, repeat(wire{}.bytes(11, nil)))},
		{"empty dims", wire{}.bytes(7, wire{}.bytes(11, wire{}.bytes(2, wire{}.bytes(1, wire{}.bytes(2, repeat(wire{}.bytes(1, nil)))))))},
		{"packed ints", wire{}.bytes(7, wire{}.bytes(1, wire{}.bytes(5, wire{}.bytes(8, make([]byte, n)))))},
		{"external entries", wire{}.bytes(7, wire{}.bytes(5, repeat(wire{}.bytes(13, nil))))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Decode(tc.data)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			ratio := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(tc.data))
			t.Logf("%.1f bytes allocated per input byte", ratio)
			if ratio > 256 {
				t.Errorf("allocated %.1f bytes per input byte, want at most 256", ratio)
			}
		})
	}
}
