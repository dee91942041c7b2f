// Package npy reads and writes NumPy .npy files (format versions 1 to 3):
// little-endian float32, float64 and uint8 arrays in C order, which is what
// the probe command writes and the test fixtures hold.
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Array is a decoded array. Exactly one of F32, F64, U8 is set.
type Array struct {
	Shape []int
	F32   []float32
	F64   []float64
	U8    []uint8
}

// Float32s returns the elements as float32, converting float64 and uint8.
func (a *Array) Float32s() []float32 {
	switch {
	case a.F32 != nil:
		return a.F32
	case a.F64 != nil:
		out := make([]float32, len(a.F64))
		for i, v := range a.F64 {
			out[i] = float32(v)
		}
		return out
	}
	out := make([]float32, len(a.U8))
	for i, v := range a.U8 {
		out[i] = float32(v)
	}
	return out
}

// Float64s returns the elements as float64.
func (a *Array) Float64s() []float64 {
	if a.F64 != nil {
		return a.F64
	}
	f := a.Float32s()
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = float64(v)
	}
	return out
}

// Dtype names the array's element type as NumPy does: "float32",
// "float64" or "uint8".
func (a *Array) Dtype() string {
	switch {
	case a.F32 != nil:
		return "float32"
	case a.F64 != nil:
		return "float64"
	}
	return "uint8"
}

var magic = []byte("\x93NUMPY")

// maxHeader bounds the header length a file may claim.
const maxHeader = 1 << 16

var (
	descrRe   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	fortranRe = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	shapeRe   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// Decode parses a whole .npy file.
func Decode(data []byte) (*Array, error) {
	if len(data) == 0 {
		return nil, errors.New("npy: the file is empty")
	}
	if len(data) < 10 || !bytes.Equal(data[:6], magic) {
		return nil, errors.New("npy: not a .npy file (bad magic)")
	}
	major := data[6]
	var hlen, off int
	switch major {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(data[8:10])), 10
	case 2, 3:
		if len(data) < 12 {
			return nil, errors.New("npy: truncated header")
		}
		h := binary.LittleEndian.Uint32(data[8:12])
		if h > maxHeader {
			return nil, fmt.Errorf("npy: header length %d is too large", h)
		}
		hlen, off = int(h), 12
	default:
		return nil, fmt.Errorf("npy: unsupported format version %d", major)
	}
	if off+hlen > len(data) {
		return nil, fmt.Errorf("npy: header of %d bytes runs past the end of the file (%d bytes)", hlen, len(data))
	}
	header := string(data[off : off+hlen])
	body := data[off+hlen:]

	m := descrRe.FindStringSubmatch(header)
	if m == nil {
		return nil, fmt.Errorf("npy: header has no descr: %q", header)
	}
	descr := m[1]
	if f := fortranRe.FindStringSubmatch(header); f == nil || f[1] != "False" {
		return nil, errors.New("npy: only C-order arrays are supported (fortran_order must be False)")
	}
	s := shapeRe.FindStringSubmatch(header)
	if s == nil {
		return nil, fmt.Errorf("npy: header has no shape: %q", header)
	}
	shape, n, err := parseShape(s[1])
	if err != nil {
		return nil, err
	}
	var size int
	switch descr {
	case "<f4":
		size = 4
	case "<f8":
		size = 8
	case "|u1", "<u1":
		size = 1
	default:
		return nil, fmt.Errorf("npy: unsupported dtype %q (want <f4, <f8 or |u1)", descr)
	}
	// n is bounded by the file size before anything is allocated.
	if n > len(body)/size {
		return nil, fmt.Errorf("npy: shape %v needs %d bytes of data, the file has %d", shape, n*size, len(body))
	}
	if n*size != len(body) {
		return nil, fmt.Errorf("npy: shape %v needs %d bytes of data, the file has %d", shape, n*size, len(body))
	}
	a := &Array{Shape: shape}
	switch size {
	case 4:
		a.F32 = make([]float32, n)
		for i := range a.F32 {
			a.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
		}
	case 8:
		a.F64 = make([]float64, n)
		for i := range a.F64 {
			a.F64[i] = math.Float64frombits(binary.LittleEndian.Uint64(body[8*i:]))
		}
	case 1:
		a.U8 = append([]uint8{}, body...)
	}
	return a, nil
}

func parseShape(s string) ([]int, int, error) {
	shape := []int{}
	n := 1
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := strconv.Atoi(strings.TrimSuffix(part, "L"))
		if err != nil || d < 0 {
			return nil, 0, fmt.Errorf("npy: bad dimension %q in shape (%s)", part, s)
		}
		if d > 0 && n > math.MaxInt32/d {
			return nil, 0, fmt.Errorf("npy: shape (%s) is too large", s)
		}
		n *= d
		shape = append(shape, d)
	}
	return shape, n, nil
}

// ReadFile reads and decodes a .npy file; errors name the file.
func ReadFile(path string) (*Array, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	a, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// WriteFloat32 writes a float32 array in format version 1.
func WriteFloat32(w io.Writer, shape []int, data []float32) error {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("npy: %d elements for shape %v", len(data), shape)
	}
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	sh := strings.Join(dims, ", ")
	if len(shape) == 1 {
		sh += ","
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", sh)
	// Pad so that the data starts on a 64-byte boundary, ending in '\n'.
	total := len(magic) + 4 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	buf := make([]byte, 0, len(magic)+4+len(header)+4*n)
	buf = append(buf, magic...)
	buf = append(buf, 1, 0)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(header)))
	buf = append(buf, header...)
	for _, v := range data {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	_, err := w.Write(buf)
	return err
}
