package imageio

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// An EXIF block is a TIFF structure: an 8-byte header (the byte order,
// 42, the offset of IFD0), then IFDs and the values too large for an
// entry, all at offsets from the header's start. An IFD is a count, that
// many 12-byte entries (tag, type, count, the value itself when it fits in
// 4 bytes, else its offset) and the offset of the next IFD. IFD0
// describes the image and links to the Exif IFD (tag 0x8769) and, as its
// next IFD, to IFD1, the thumbnail's.
//
// uprightEXIF edits a block in place rather than with go-exif's
// IfdBuilder: that writer lays the block out again, which moves the maker
// notes and breaks the offsets inside them (a camera's own format), and
// it reads every value first, allocating what count fields claim (see
// exifOrientation). In place, every byte but the few edited stays where
// it was, and nothing is read beyond the entries edited.

const (
	tagImageWidth      = 0x0100
	tagImageLength     = 0x0101
	tagThumbOffset     = 0x0201 // JPEGInterchangeFormat, in IFD1
	tagThumbLength     = 0x0202 // JPEGInterchangeFormatLength, in IFD1
	tagExifIFD         = 0x8769
	tagPixelXDimension = 0xA002
	tagPixelYDimension = 0xA003

	tiffShort = 3
	tiffLong  = 4
	tiffIFD   = 13 // a LONG that is an IFD's offset
)

// uprightEXIF returns a copy of the EXIF block tiff made true of an
// upright w x h image: orientation 1 (tag 0x0112 of IFD0), the pixel
// dimensions w and h where IFD0 (ImageWidth, ImageLength) or the Exif IFD
// (PixelXDimension, PixelYDimension) gives them, and no IFD1, whose
// thumbnail shows the photo, not the dream: it is unlinked and its bytes
// zeroed. Everything else is kept byte for byte. A block whose header,
// IFD0 or Exif IFD cannot be read, or whose IFDs overlap, is refused: its
// dimensions could not be made true. The block is read before any edit,
// so whether it is refused does not depend on w and h.
func uprightEXIF(tiff []byte, w, h int) ([]byte, error) {
	if w < 0 || h < 0 || uint64(w) > 1<<32-1 || uint64(h) > 1<<32-1 {
		return nil, fmt.Errorf("EXIF: image size %dx%d", w, h)
	}
	t := exifBlock{b: bytes.Clone(tiff)}
	off0, err := t.header()
	if err != nil {
		return nil, err
	}
	ifd0, err := t.ifd(off0, "IFD0")
	if err != nil {
		return nil, err
	}
	tables := []ifd{{start: 0, end: 8}, ifd0} // the header too: nothing may overlap it
	for _, e := range ifd0.entries {
		if t.tag(e) != tagExifIFD {
			continue
		}
		off, ok := t.value(e)
		if !ok {
			return nil, fmt.Errorf("EXIF: IFD0's Exif IFD pointer (the entry at offset %d) is not one LONG", e)
		}
		sub, err := t.ifd(off, "the Exif IFD")
		if err != nil {
			return nil, err
		}
		for _, d := range tables {
			if sub.start < d.end && d.start < sub.end {
				return nil, fmt.Errorf("EXIF: the Exif IFD at offset %d overlaps bytes %d to %d", off, d.start, d.end)
			}
		}
		tables = append(tables, sub)
	}
	// The tables are apart: an edit of one cannot change what another says.
	for _, e := range ifd0.entries {
		switch t.tag(e) {
		case tagOrientation:
			t.put(e, tiffShort, 1)
		case tagImageWidth:
			t.putSize(e, uint32(w))
		case tagImageLength:
			t.putSize(e, uint32(h))
		}
	}
	for _, sub := range tables[2:] {
		for _, e := range sub.entries {
			switch t.tag(e) {
			case tagPixelXDimension:
				t.putSize(e, uint32(w))
			case tagPixelYDimension:
				t.putSize(e, uint32(h))
			}
		}
	}
	if ifd0.next != 0 {
		t.zeroThumbnail(t.order.Uint32(t.b[ifd0.next:]), tables)
		t.order.PutUint32(t.b[ifd0.next:], 0)
	}
	return t.b, nil
}

// exifBlock is an EXIF block being read and edited.
type exifBlock struct {
	b     []byte
	order binary.ByteOrder
}

// ifd is where an IFD lies in a block: its first and past-last bytes, the
// offsets of its entries, and that of its next-IFD field (0 when the IFD
// ends the block without one).
type ifd struct {
	start, end int
	entries    []int
	next       int
}

// header reads the byte order and returns the offset of IFD0.
func (t *exifBlock) header() (uint32, error) {
	if len(t.b) < 8 {
		return 0, fmt.Errorf("EXIF: %d bytes, shorter than a TIFF header", len(t.b))
	}
	switch string(t.b[:4]) {
	case "II*\x00":
		t.order = binary.LittleEndian
	case "MM\x00*":
		t.order = binary.BigEndian
	default:
		return 0, fmt.Errorf("EXIF: no TIFF header (it starts % x)", t.b[:4])
	}
	return t.order.Uint32(t.b[4:8]), nil
}

// ifd reads the IFD at offset off, named name in errors.
func (t *exifBlock) ifd(off uint32, name string) (ifd, error) {
	start := int64(off)
	if start < 8 || start+2 > int64(len(t.b)) {
		return ifd{}, fmt.Errorf("EXIF: %s at offset %d lies outside the %d-byte block", name, off, len(t.b))
	}
	n := int64(t.order.Uint16(t.b[start:]))
	end := start + 2 + 12*n
	if end > int64(len(t.b)) {
		return ifd{}, fmt.Errorf("EXIF: %s at offset %d: its %d entries run past the end of the %d-byte block", name, off, n, len(t.b))
	}
	d := ifd{start: int(start), end: int(end), entries: make([]int, n)}
	for i := range d.entries {
		d.entries[i] = int(start) + 2 + 12*i
	}
	if end+4 <= int64(len(t.b)) {
		d.next = int(end)
		d.end += 4
	}
	return d, nil
}

func (t *exifBlock) tag(e int) uint16 { return t.order.Uint16(t.b[e:]) }

// value returns the value of the entry at e if it is one SHORT, LONG or
// IFD offset.
func (t *exifBlock) value(e int) (uint32, bool) {
	if t.order.Uint32(t.b[e+4:]) != 1 {
		return 0, false
	}
	switch t.order.Uint16(t.b[e+2:]) {
	case tiffShort:
		return uint32(t.order.Uint16(t.b[e+8:])), true
	case tiffLong, tiffIFD:
		return t.order.Uint32(t.b[e+8:]), true
	}
	return 0, false
}

// put makes the entry at e one value v of type typ (SHORT or LONG), held
// in the entry itself, left-justified as TIFF has it.
func (t *exifBlock) put(e int, typ uint16, v uint32) {
	t.order.PutUint16(t.b[e+2:], typ)
	t.order.PutUint32(t.b[e+4:], 1)
	clear(t.b[e+8 : e+12])
	if typ == tiffShort {
		t.order.PutUint16(t.b[e+8:], uint16(v))
	} else {
		t.order.PutUint32(t.b[e+8:], v)
	}
}

// putSize makes the entry at e the dimension v: a SHORT if it was one and
// v fits, else a LONG (the tags of dimensions take either).
func (t *exifBlock) putSize(e int, v uint32) {
	typ := uint16(tiffLong)
	if t.order.Uint16(t.b[e+2:]) == tiffShort && v <= 0xFFFF {
		typ = tiffShort
	}
	t.put(e, typ, v)
}

// zeroThumbnail zeroes the JPEG thumbnail that the IFD1 at off points to,
// if it can be found and lies clear of the header and the tables being
// edited. A broken IFD1 is left alone: it is unlinked all the same.
func (t *exifBlock) zeroThumbnail(off uint32, tables []ifd) {
	ifd1, err := t.ifd(off, "IFD1")
	if err != nil {
		return
	}
	var at, n uint32
	var found int
	for _, e := range ifd1.entries {
		switch t.tag(e) {
		case tagThumbOffset:
			at, _ = t.value(e)
			found |= 1
		case tagThumbLength:
			n, _ = t.value(e)
			found |= 2
		}
	}
	start, end := int64(at), int64(at)+int64(n)
	if found != 3 || start < 8 || end > int64(len(t.b)) {
		return
	}
	for _, d := range tables {
		if start < int64(d.end) && int64(d.start) < end {
			return
		}
	}
	clear(t.b[start:end])
}
