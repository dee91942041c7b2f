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
	// Background shows through the photo's transparency in a JPEG dream
	// (nil: white); a PNG dream keeps the transparency.
	Background color.Color
}

// DreamPhoto is the whole path from a photo file to a dream file, the one
// the command line and the studio both take: it decodes src (refusing more
// than p.MaxPixels before decoding, applying the EXIF orientation), dreams
// it as rec.Request asks, gives the dream the photo's transparency, and
// encodes it in p.Format with rec embedded (a JPEG shows p.Background
// through the transparency). The record names the layers
// dreamed (Resolve), and the sha256 of the images (masks, guide)
// rec.Request.Images holds. A request that names an image it does not
// hold fails before the photo is decoded. It returns the encoded file and the dream.
func (n *Network) DreamPhoto(ctx context.Context, src io.Reader, p Photo, rec Record, progress func(Progress)) ([]byte, image.Image, error) {
	if _, err := n.Resolve(&rec.Request); err != nil {
		return nil, nil, err
	}
	if err := rec.Request.checkImages(); err != nil {
		return nil, nil, err
	}
	img, info, err := imageio.DecodeInfo(src, p.MaxPixels)
	if err != nil {
		if p.Name != "" {
			err = fmt.Errorf("%s: %w", p.Name, err)
		}
		return nil, nil, err
	}
	var out image.Image
	if out, err = n.Dream(ctx, img, rec.Request, progress); err != nil {
		return nil, nil, err
	}
	if info.HasAlpha {
		out = imageio.ApplyAlpha(out, info.Alpha)
	}
	var buf bytes.Buffer
	if err := imageio.Encode(&buf, out, p.Format, imageio.EncodeOptions{Quality: p.Quality, Metadata: rec.String(), Background: p.Background}); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), out, nil
}
