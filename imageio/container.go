package imageio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The walkers below step over the segments of a JPEG and the chunks of a
// PNG without decoding pixels. They serve both EXIF lookup (on bytes already
// in memory) and ReadMetadata (on a stream), so neither trusts a length
// field for more than a bounded read.

const (
	jpegSOI  = 0xD8
	jpegEOI  = 0xD9
	jpegSOS  = 0xDA
	jpegAPP1 = 0xE1
	jpegCOM  = 0xFE
)

var (
	pngSignature = []byte("\x89PNG\r\n\x1a\n")
	errNotJPEG   = errors.New("not a JPEG file (no SOI marker)")
	errNotPNG    = errors.New("not a PNG file (bad signature)")
)

// walkJPEG calls visit with the marker and payload of each segment before
// the first scan, until visit returns true or an error. Whatever visit leaves
// unread of a payload is skipped.
func walkJPEG(r io.Reader, visit func(marker byte, payload *io.LimitedReader) (bool, error)) error {
	br := bufio.NewReader(r)
	var soi [2]byte
	if _, err := io.ReadFull(br, soi[:]); err != nil || soi[0] != 0xFF || soi[1] != jpegSOI {
		return errNotJPEG
	}
	for {
		b, err := br.ReadByte()
		if err != nil {
			return fmt.Errorf("JPEG: reading a marker: %w", noEOF(err))
		}
		if b != 0xFF {
			return fmt.Errorf("JPEG: byte %#02x where a marker should start", b)
		}
		marker := byte(0xFF)
		for marker == 0xFF { // fill bytes may precede a marker
			if marker, err = br.ReadByte(); err != nil {
				return fmt.Errorf("JPEG: reading a marker: %w", noEOF(err))
			}
		}
		switch {
		case marker == jpegSOS || marker == jpegEOI:
			return nil
		case marker == 0x01 || marker >= 0xD0 && marker <= 0xD7: // no payload
			continue
		}
		var size [2]byte
		if _, err := io.ReadFull(br, size[:]); err != nil {
			return fmt.Errorf("JPEG: segment %#02x: reading its length: %w", marker, noEOF(err))
		}
		n := int64(binary.BigEndian.Uint16(size[:])) - 2
		if n < 0 {
			return fmt.Errorf("JPEG: segment %#02x declares length %d, under the minimum 2", marker, n+2)
		}
		payload := &io.LimitedReader{R: br, N: n}
		stop, err := visit(marker, payload)
		if err != nil || stop {
			return err
		}
		if err := skip(payload); err != nil {
			return fmt.Errorf("JPEG: segment %#02x of %d bytes: %w", marker, n, err)
		}
	}
}

// walkPNG calls visit with the type and data of each chunk up to IEND, until
// visit returns true or an error. Whatever visit leaves unread of a chunk is
// skipped; CRCs are not checked (the image decoder does that).
func walkPNG(r io.Reader, visit func(typ string, data *io.LimitedReader) (bool, error)) error {
	br := bufio.NewReader(r)
	sig := make([]byte, len(pngSignature))
	if _, err := io.ReadFull(br, sig); err != nil || string(sig) != string(pngSignature) {
		return errNotPNG
	}
	for {
		var head [8]byte
		if _, err := io.ReadFull(br, head[:]); err != nil {
			return fmt.Errorf("PNG: reading a chunk header: %w", noEOF(err))
		}
		n := binary.BigEndian.Uint32(head[:4])
		typ := string(head[4:])
		if n > 1<<31-1 {
			return fmt.Errorf("PNG: chunk %q declares length %d, over the PNG maximum 2^31-1", typ, n)
		}
		data := &io.LimitedReader{R: br, N: int64(n)}
		stop, err := visit(typ, data)
		if err != nil || stop {
			return err
		}
		if err = skip(data); err == nil {
			err = skip(&io.LimitedReader{R: br, N: 4}) // CRC
		}
		if err != nil {
			return fmt.Errorf("PNG: chunk %q of %d bytes: %w", typ, n, err)
		}
		if typ == "IEND" {
			return nil
		}
	}
}

// skip discards the rest of r.
func skip(r *io.LimitedReader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	if r.N > 0 {
		return fmt.Errorf("%d bytes missing: %w", r.N, io.ErrUnexpectedEOF)
	}
	return nil
}

// readAll reads the rest of r, refusing more than max bytes before allocating.
func readAll(r *io.LimitedReader, max int64) ([]byte, error) {
	if r.N > max {
		return nil, fmt.Errorf("%d bytes, over the %d-byte limit", r.N, max)
	}
	b := make([]byte, r.N)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, noEOF(err)
	}
	return b, nil
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF: inside a container, running
// out of input is always a truncation.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
