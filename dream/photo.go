package dream

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"io"

	"github.com/deepdream-go/deepdream/imageio"
)

// Photo says how DreamPhoto reads a photo and writes its dream.
type Photo struct {
	Name      string // names the photo in errors (its file name); may be empty
	MaxPixels int    // refuse photos with more pixels (0: imageio.DefaultMaxPixels)
	Format    string // of the dream: "png" or "jpeg"
	Quality   int    // JPEG quality, 1 to 100 (0: imageio.DefaultQuality)
	// Depth is the bits a sample of a PNG dream: 8 (or 0, so that a Photo
	// that does not say writes what it always did), 16, or DepthOfPhoto:
	// 16 for a photo of 16 bits a sample (a 16-bit PNG), else 8. A JPEG
	// dream has 8: 16 is refused for it, DepthOfPhoto gives 8.
	Depth int
	// Background shows through the photo's transparency in a JPEG dream
	// (nil: white); a PNG dream keeps the transparency.
	Background color.Color
	// Note, if not nil, is told what the photo held that its dream does
	// not carry, and why (imageio.Info.Notes: a malformed ICC profile, say).
	Note func(string)
}

// DepthOfPhoto, as Photo.Depth, gives a PNG dream the depth of its photo.
const DepthOfPhoto = -1

// DreamPhoto is the whole path from a photo file to a dream file, the one
// the command line and the studio both take: it decodes src (refusing more
// than p.MaxPixels before decoding, applying the EXIF orientation), dreams
// it as rec.Request asks, at p.Depth, gives the dream the photo's
// transparency, and encodes it in p.Format with rec embedded and the
// photo's ICC profile and EXIF carried (the EXIF made true of the dream:
// orientation 1, its size, no thumbnail; see imageio.EncodeOptions). A
// JPEG shows p.Background through the transparency. The record names
// the layers dreamed (Resolve), the tile the dream used if it was tiled
// (a request of 0 has it chosen: see Estimate), and the sha256 of the images (masks,
// guide) rec.Request.Images holds. A request that names an image it does
// not hold, or a depth the format cannot have, fails before the photo is
// decoded. It returns the encoded file and the dream.
//
// A 16-bit dream keeps the fractions of a level that the steps make,
// which an 8-bit one rounds away: the 16-bit dream of an 8-bit photo is
// its 8-bit dream unrounded. The 8-bit dream of a 16-bit photo dreams the
// photo as an 8-bit decode gives it, as before there were 16-bit dreams.
func (n *Network) DreamPhoto(ctx context.Context, src io.Reader, p Photo, rec Record, progress func(Progress)) ([]byte, image.Image, error) {
	if _, err := n.Resolve(&rec.Request); err != nil {
		return nil, nil, err
	}
	if err := rec.Request.checkImages(); err != nil {
		return nil, nil, err
	}
	switch {
	case p.Depth != 0 && p.Depth != 8 && p.Depth != 16 && p.Depth != DepthOfPhoto:
		return nil, nil, fmt.Errorf("dream: a depth of %d bits a sample; want 8 or 16", p.Depth)
	case p.Depth == 16 && p.Format != "png":
		return nil, nil, fmt.Errorf("dream: a %s dream has 8 bits a sample, not 16 (a PNG dream can have 16)", p.Format)
	}
	var img image.Image
	var info imageio.Info
	var err error
	if p.Format == "png" && (p.Depth == 16 || p.Depth == DepthOfPhoto) {
		img, info, err = imageio.DecodeDeep(src, p.MaxPixels)
	} else {
		img, info, err = imageio.DecodeInfo(src, p.MaxPixels)
	}
	if err != nil {
		if p.Name != "" {
			err = fmt.Errorf("%s: %w", p.Name, err)
		}
		return nil, nil, err
	}
	if p.Depth == 16 {
		img = imageio.NRGBA64(img) // an 8-bit photo, exactly: its dream keeps the fractions
	}
	if p.Note != nil {
		for _, note := range info.Notes {
			p.Note(note)
		}
	}
	out, est, err := n.dreamTiled(ctx, img, rec.Request, progress)
	if err != nil {
		return nil, nil, err
	}
	if est.Tiled() {
		rec.Request.Tile = est.Tile // the tile it used: the record makes the same dream
	}
	if info.HasAlpha {
		out = imageio.ApplyAlpha(out, info.Alpha)
	}
	var buf bytes.Buffer
	opts := imageio.EncodeOptions{Quality: p.Quality, Metadata: rec.String(), Background: p.Background, ICC: info.ICC, EXIF: info.EXIF}
	if err := imageio.Encode(&buf, out, p.Format, opts); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), out, nil
}
