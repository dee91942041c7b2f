// Package imageio reads photos for dreaming and writes dreams.
//
// Decoding (DecodeInfo and ReadFileInfo; Decode and ReadFile drop the Info)
// accepts JPEG, PNG, GIF (first frame) and WebP. The header is read with
// image.DecodeConfig first and an image declaring more pixels than a limit
// (DefaultMaxPixels unless told) is refused with ErrTooLarge before any pixel
// buffer is allocated, so a decompression bomb costs a few header bytes, not
// gigabytes. The input itself is read whole into memory, capped at a size
// derived from the same limit.
//
// Every decoded image comes back as an *image.NRGBA with its origin at
// (0, 0): grey, CMYK, YCbCr, paletted and 16-bit pixels are converted,
// alpha is kept, and the EXIF orientation (tag 0x0112, values 1-8) found in
// a JPEG APP1 segment, a PNG eXIf chunk or a WebP EXIF chunk has been
// applied, so that pixel (0, 0) is the top-left corner as a viewer shows
// it. A missing or malformed EXIF block means orientation 1; it never fails
// a decode. DecodeDeep does the same but keeps a 16-bit PNG's 16 bits a
// sample, as an *image.NRGBA64 (Depth tells an image's depth; NRGBA64 and
// ResizeDeep are NRGBA and Resize for 16 bits). Info tells what the file
// held (format, stored size and depth, orientation applied, whether any
// pixel is translucent) and carries the alpha channel, which ApplyAlpha
// puts back onto a dreamed image so that a transparent PNG stays
// transparent.
//
// Info also holds what a dream carries from its photo besides the pixels:
// the ICC profile (PNG iCCP, JPEG APP2 "ICC_PROFILE" chunks, WebP ICCP),
// as opaque bytes, and the EXIF block. A profile that is not one by its
// header, chunks that do not join, a profile of other colours than RGB
// (the decoded image's), an EXIF block whose IFDs cannot be read or that
// is over the 64 KB a JPEG holds, are dropped, with a note in Info.Notes;
// they never fail a decode. XMP, IPTC and other segments are
// not kept.
//
// Encoding (Encode, WriteFile) picks PNG or JPEG from the output file's
// extension. PNG keeps the alpha channel and the image's depth (16 bits a
// sample for an NRGBA64, RGBA64 or Gray16 image); JPEG has 8 bits a sample
// and no alpha channel, and shows a background colour (white unless told)
// through transparent pixels. The dream's parameters, a UTF-8 string, travel
// inside the file: as a PNG iTXt chunk with keyword "deepdream" placed
// right after IHDR, or as a JPEG COM segment starting "deepdream: " after
// SOI (and after the EXIF and profile segments, when there are). ReadMetadata
// and ReadMetadataFile get that string back, so a dream can be reproduced
// from its own output. EncodeOptions carries a profile (PNG iCCP after the
// iTXt chunk, JPEG APP2 segments) and an EXIF block (PNG eXIf, JPEG APP1
// right after SOI), the latter edited in place to describe the image
// written: orientation 1, its pixel dimensions, no thumbnail (IFD1 is
// unlinked and its JPEG zeroed); every other byte stays where it was, so
// maker notes keep their offsets. WriteFile writes through
// internal/atomicfile (the target is either untouched or complete), and
// CheckOutput refuses, before any work is done, an output path that names
// the input file or has an unsupported extension (atomicfile.Check finds
// the paths that cannot be written).
//
// A Sheet is a contact sheet: images in a grid with a label above each
// column and left of each row, drawn in the Go font
// (golang.org/x/image/font/gofont) at a size that follows the cells';
// its Layout says where each cell and label band lies. `deepdream sweep`
// draws its grids of dreams with it.
//
// Images returned by this package are freshly allocated and never alias
// their inputs, except NRGBA and NRGBA64, which return their argument when
// it already is an *image.NRGBA (*image.NRGBA64) at the origin. Info's
// ICC and EXIF are copies too.
package imageio
