package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// DecodeError reports malformed or unsupported content, or external data that
// cannot be read, and says where it is.
type DecodeError struct {
	// File is the model file, set by ReadFile.
	File string
	// Path locates the offending message, e.g.
	// `graph.node[12] ("inception_4c/3x3").attribute[3] ("pads")`; empty for
	// the top-level message.
	Path string
	Err  error
}

func (e *DecodeError) Error() string {
	s := "onnx: "
	if e.File != "" {
		s += e.File + ": "
	}
	if e.Path != "" {
		s += e.Path + ": "
	}
	return s + e.Err.Error()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// ErrUnsupported is wrapped by errors for valid ONNX content this package
// does not decode (sparse initializers, segmented tensors).
var ErrUnsupported = errors.New("not supported")

// within prefixes err's path with the segment of the message it came from.
// Errors are built leaf first, so each enclosing decoder adds its own segment
// on the way out and the leaf never needs to know where it sits.
func within(seg string, err error) error {
	if err == nil {
		return nil
	}
	de, ok := err.(*DecodeError)
	if !ok {
		return &DecodeError{Path: seg, Err: err}
	}
	switch {
	case seg == "":
	case de.Path == "":
		de.Path = seg
	default:
		de.Path = seg + "." + de.Path
	}
	return de
}

// seg names the i-th element of a repeated message field, with its name when
// one was decoded before the error.
func seg(field string, i int, name string) string {
	if name == "" {
		return fmt.Sprintf("%s[%d]", field, i)
	}
	return fmt.Sprintf("%s[%d] (%q)", field, i, name)
}

// field is one decoded key/value of a protobuf message. For BytesType, b
// aliases the input; for the scalar wire types, v holds the value.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	b   []byte
}

// eachField calls fn for every field of msg in order. Group fields, which no
// ONNX message uses, are skipped whole; protowire bounds their nesting.
func eachField(msg []byte, fn func(f field) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return fmt.Errorf("bad field tag: %w", protowire.ParseError(n))
		}
		msg = msg[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(msg)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(msg)
			f.v = uint64(v)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(msg)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(msg)
		default:
			n = protowire.ConsumeFieldValue(num, typ, msg)
		}
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		msg = msg[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

var wireTypeNames = map[protowire.Type]string{
	protowire.VarintType:     "varint",
	protowire.Fixed32Type:    "fixed32",
	protowire.Fixed64Type:    "fixed64",
	protowire.BytesType:      "bytes",
	protowire.StartGroupType: "group",
}

func (f field) wrongType(name, want string) error {
	return fmt.Errorf("%s (field %d): bad wire type %s, want %s", name, f.num, wireTypeNames[f.typ], want)
}

func (f field) varint(name string) (uint64, error) {
	if f.typ != protowire.VarintType {
		return 0, f.wrongType(name, "varint")
	}
	return f.v, nil
}

func (f field) int64(name string) (int64, error) {
	v, err := f.varint(name)
	return int64(v), err
}

// int32 truncates like protobuf does: negative int32 values are written as
// sign-extended 64-bit varints.
func (f field) int32(name string) (int32, error) {
	v, err := f.varint(name)
	return int32(v), err
}

func (f field) float32(name string) (float32, error) {
	if f.typ != protowire.Fixed32Type {
		return 0, f.wrongType(name, "fixed32")
	}
	return math.Float32frombits(uint32(f.v)), nil
}

func (f field) bytes(name string) ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, f.wrongType(name, "bytes")
	}
	return f.b, nil
}

func (f field) string(name string) (string, error) {
	b, err := f.bytes(name)
	return string(b), err
}

// appendVarints decodes a repeated varint field, packed or not. A packed
// run is sized by counting its final bytes (high bit clear), so it costs at
// most 8 bytes of memory per byte present, whatever the file claims.
func appendVarints[T int32 | int64 | uint64](dst []T, f field, name string) ([]T, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, T(f.v)), nil
	case protowire.BytesType:
		n := 0
		for _, c := range f.b {
			if c < 0x80 {
				n++
			}
		}
		dst = slices.Grow(dst, n)
		for b := f.b; len(b) > 0; {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return dst, fmt.Errorf("%s (field %d): packed: %w", name, f.num, protowire.ParseError(n))
			}
			dst = append(dst, T(v))
			b = b[n:]
		}
		return dst, nil
	}
	return dst, f.wrongType(name, "varint or bytes")
}

// appendFixed decodes a repeated fixed32 (width 4) or fixed64 (width 8)
// field, packed or not.
func appendFixed[T float32 | float64](dst []T, f field, name string, width int, conv func(uint64) T) ([]T, error) {
	scalar := protowire.Fixed32Type
	if width == 8 {
		scalar = protowire.Fixed64Type
	}
	switch f.typ {
	case scalar:
		return append(dst, conv(f.v)), nil
	case protowire.BytesType:
		if len(f.b)%width != 0 {
			return dst, fmt.Errorf("%s (field %d): packed length %d is not a multiple of %d", name, f.num, len(f.b), width)
		}
		dst = slices.Grow(dst, len(f.b)/width)
		for b := f.b; len(b) > 0; b = b[width:] {
			if width == 8 {
				dst = append(dst, conv(binary.LittleEndian.Uint64(b)))
			} else {
				dst = append(dst, conv(uint64(binary.LittleEndian.Uint32(b))))
			}
		}
		return dst, nil
	}
	return dst, f.wrongType(name, wireTypeNames[scalar]+" or bytes")
}

func float32FromBits(v uint64) float32 { return math.Float32frombits(uint32(v)) }
