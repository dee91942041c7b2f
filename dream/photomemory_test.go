package dream

import (
	"image/color"
	"testing"
)

// TestPhotoPeak checks what PhotoPeak counts: the dream's own estimate
// (Estimate) for a plain photo; a mask held decoded, its plane and rows
// while it is resized, besides what the mask adds to the dream; a large
// guide's decoding and forward pass, which make the first stage the
// larger; and the request's refusals.
func TestPhotoPeak(t *testing.T) {
	n := tinyNetwork()
	const w, h = 800, 600
	photo := FileHeader{Format: "png", Width: w, Height: h, ColorModel: color.NRGBAModel, Bytes: 1 << 20}
	req := Defaults()
	req.Layers = []string{"r"}
	margin := func(b int64) int64 { return int64(peakMargin*float64(b)) + peakExtra }
	peak := func(images map[string]FileHeader, req Request) int64 {
		t.Helper()
		p, err := n.PhotoPeak(photo, images, req)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	estimate := func(req Request) int64 {
		t.Helper()
		e, err := n.Estimate(w, h, req)
		if err != nil {
			t.Fatal(err)
		}
		return e.Bytes
	}
	near := func(got, want int64) bool { return got >= want-1 && got <= want+1 }

	if got, want := peak(nil, req), margin(estimate(req)); !near(got, want) {
		t.Errorf("a plain photo's peak is %d bytes, want the dream's estimate's %d", got, want)
	}
	masked := req
	masked.Mask = "sky.png"
	if got, want := peak(nil, masked), margin(estimate(masked)); !near(got, want) {
		t.Errorf("with a mask it has no header of: %d bytes, want the dream's %d", got, want)
	}
	mask := map[string]FileHeader{"sky.png": {Format: "png", Width: w, Height: h, ColorModel: color.GrayModel, Bytes: 1 << 10}}
	if got, want := peak(mask, masked), margin(estimate(masked)+8*w*h+4*w*w); !near(got, want) {
		t.Errorf("with a mask of the photo's size: %d bytes, want %d", got, want)
	}

	guided := req
	guided.Guide = "flowers.jpg"
	guide := FileHeader{Format: "jpeg", Width: 6000, Height: 4000, ColorModel: color.YCbCrModel, Bytes: 8 << 20}
	side := max(n.Size())
	forward, err := n.PlanBytes(side, side, guided)
	if err != nil {
		t.Fatal(err)
	}
	decoding := guide.decodeBytes() + photo.decodeBytes() + 4*w*h + forward
	if got, want := peak(map[string]FileHeader{"flowers.jpg": guide}, guided), margin(decoding); !near(got, want) {
		t.Errorf("with a 6000x4000 guide: %d bytes, want its decoding's and forward pass's %d", got, want)
	}

	tiny := req
	tiny.Tile = 8
	if _, err := n.PhotoPeak(photo, nil, tiny); err == nil {
		t.Error("tiles of 8 pixels are not refused")
	}
}
