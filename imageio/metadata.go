package imageio

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// MetadataKeyword names the dream parameters in a file: the keyword of the
// PNG text chunk, and the start ("deepdream: ") of the JPEG comment.
const MetadataKeyword = "deepdream"

const (
	jpegCommentPrefix = MetadataKeyword + ": "
	// maxMetadataBytes bounds the text written and the text chunks read.
	maxMetadataBytes = 1 << 20
	// maxJPEGComment is what a COM segment's 16-bit length leaves for text.
	maxJPEGComment = 0xFFFF - 2 - len(jpegCommentPrefix)
)

// ErrNoMetadata is wrapped by ReadMetadata when the file carries no dream
// parameters.
var ErrNoMetadata = errors.New("no " + MetadataKeyword + " metadata")

// pngTextChunk returns an iTXt chunk holding text, uncompressed, under
// MetadataKeyword. iTXt rather than tEXt because the text is UTF-8 (file
// names, for one) and tEXt is Latin-1.
func pngTextChunk(text string) []byte {
	// keyword NUL, compression flag 0, method 0, language "" NUL, translated keyword "" NUL
	return pngChunk("iTXt", []byte(MetadataKeyword+"\x00\x00\x00\x00\x00"+text))
}

// pngChunk returns a complete chunk: length, type, data, CRC.
func pngChunk(typ string, data []byte) []byte {
	chunk := make([]byte, 0, 12+len(data))
	chunk = binary.BigEndian.AppendUint32(chunk, uint32(len(data)))
	chunk = append(chunk, typ...)
	chunk = append(chunk, data...)
	return binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
}

// jpegComment returns a COM segment (marker, length, payload) holding text.
func jpegComment(text string) []byte {
	return jpegSegment(jpegCOM, []byte(jpegCommentPrefix+text))
}

// checkMetadata reports text that cannot be embedded in format.
func checkMetadata(text, format string) error {
	switch {
	case !utf8.ValidString(text):
		return errors.New("imageio: metadata is not valid UTF-8")
	case len(text) > maxMetadataBytes:
		return fmt.Errorf("imageio: metadata is %d bytes, over the %d-byte limit", len(text), maxMetadataBytes)
	case format == "jpeg" && len(text) > maxJPEGComment:
		return fmt.Errorf("imageio: metadata is %d bytes, over the %d bytes a JPEG comment holds", len(text), maxJPEGComment)
	}
	return nil
}

// ReadMetadataFile returns the dream parameters embedded in the PNG or JPEG
// file at path; errors name the file.
func ReadMetadataFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	text, err := ReadMetadata(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return text, nil
}

// ReadMetadata returns the dream parameters embedded by Encode in a PNG
// (tEXt or iTXt chunk, possibly compressed, with keyword MetadataKeyword) or
// JPEG (comment starting "deepdream: ") stream. It reads only up to the
// first scan of a JPEG and skips PNG image data without decoding it. A file
// without them gives an error wrapping ErrNoMetadata.
func ReadMetadata(r io.Reader) (string, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(len(pngSignature))
	if len(head) == 0 {
		return "", errors.New("imageio: the file is empty")
	}
	var (
		text  string
		found bool
		err   error
	)
	switch {
	case bytes.Equal(head, pngSignature):
		err = walkPNG(br, func(typ string, data *io.LimitedReader) (bool, error) {
			if typ != "tEXt" && typ != "iTXt" {
				return false, nil
			}
			b, err := readAll(data, maxMetadataBytes)
			if err != nil {
				return false, nil // too large to be ours: someone else's text
			}
			text, found, err = parsePNGText(typ, b)
			return found, err
		})
	case len(head) >= 2 && head[0] == 0xFF && head[1] == jpegSOI:
		err = walkJPEG(br, func(marker byte, payload *io.LimitedReader) (bool, error) {
			if marker != jpegCOM {
				return false, nil
			}
			b, err := readAll(payload, 0xFFFF)
			if err != nil {
				return false, err
			}
			text, found = strings.CutPrefix(string(b), jpegCommentPrefix)
			return found, nil
		})
	default:
		return "", errors.New("imageio: metadata is read from PNG and JPEG files only, and this is neither")
	}
	switch {
	case err != nil:
		return "", fmt.Errorf("imageio: reading metadata: %w", err)
	case !found:
		return "", fmt.Errorf("imageio: %w (no %q text chunk or comment)", ErrNoMetadata, MetadataKeyword)
	}
	return text, nil
}

// parsePNGText returns the text of a tEXt or iTXt chunk's data if its
// keyword is MetadataKeyword.
func parsePNGText(typ string, data []byte) (string, bool, error) {
	keyword, rest, ok := bytes.Cut(data, []byte{0})
	if !ok || string(keyword) != MetadataKeyword {
		return "", false, nil
	}
	if typ == "tEXt" { // Latin-1
		runes := make([]rune, len(rest))
		for i, c := range rest {
			runes[i] = rune(c)
		}
		return string(runes), true, nil
	}
	// iTXt: compression flag, method, language NUL, translated keyword NUL, text.
	if len(rest) < 2 {
		return "", false, errors.New(`PNG: truncated iTXt chunk "` + MetadataKeyword + `"`)
	}
	compressed, method := rest[0], rest[1]
	_, rest, ok1 := bytes.Cut(rest[2:], []byte{0})
	_, rest, ok2 := bytes.Cut(rest, []byte{0})
	if !ok1 || !ok2 {
		return "", false, errors.New(`PNG: truncated iTXt chunk "` + MetadataKeyword + `"`)
	}
	if compressed == 0 {
		return string(rest), true, nil
	}
	if method != 0 {
		return "", false, fmt.Errorf("PNG: iTXt chunk %q uses compression method %d; only 0 (zlib) exists", MetadataKeyword, method)
	}
	zr, err := zlib.NewReader(bytes.NewReader(rest))
	if err != nil {
		return "", false, fmt.Errorf("PNG: iTXt chunk %q: %w", MetadataKeyword, err)
	}
	text, err := io.ReadAll(io.LimitReader(zr, maxMetadataBytes+1))
	switch {
	case err != nil:
		return "", false, fmt.Errorf("PNG: iTXt chunk %q: %w", MetadataKeyword, err)
	case len(text) > maxMetadataBytes:
		return "", false, fmt.Errorf("PNG: iTXt chunk %q inflates past the %d-byte limit", MetadataKeyword, maxMetadataBytes)
	}
	return string(text), true, nil
}
