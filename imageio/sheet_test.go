package imageio

import (
	"image"
	"image/color"
	"image/draw"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
)

func solid(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Rect, image.NewUniform(c), image.Point{}, draw.Src)
	return img
}

// ink returns the pixels of r in img that differ from the background bg.
func ink(img *image.RGBA, r image.Rectangle, bg color.Color) []image.Point {
	want := color.RGBAModel.Convert(bg).(color.RGBA)
	var pts []image.Point
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.RGBAAt(x, y) != want {
				pts = append(pts, image.Pt(x, y).Sub(r.Min))
			}
		}
	}
	return pts
}

// TestSheetDrawsCellsAndLabels draws a 2x3 sheet whose images are solid
// colours, one of them smaller than the others, with a column label
// longer than a cell: each cell holds its image (the small one scaled to
// fill its cell), each label's band holds drawn text, different labels
// draw different text, and nothing else is drawn: every other pixel is
// the background.
func TestSheetDrawsCellsAndLabels(t *testing.T) {
	colours := [][]color.NRGBA{
		{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}},
		{{255, 255, 0, 255}, {0, 255, 255, 255}, {255, 0, 255, 255}},
	}
	s := &Sheet{
		ColLabels: []string{"layer=inception_3b/output", "layer=inception_4c/output", "layer=inception_5b/output+inception_3a/output"},
		RowLabels: []string{"iterations=10", "iterations=100"},
	}
	for r, row := range colours {
		var cells []image.Image
		for c, col := range row {
			w, h := 90, 60
			if r == 1 && c == 2 {
				w, h = 45, 30
			}
			cells = append(cells, solid(w, h, col))
		}
		s.Cells = append(s.Cells, cells)
	}
	l, err := s.Layout()
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.Draw()
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != l.Bounds || l.Cell != image.Pt(90, 60) {
		t.Fatalf("drawn %v, layout %v with cells %v; want cells of the largest image, 90x60", img.Bounds(), l.Bounds, l.Cell)
	}
	// The sheet is the grid: cells, labels, and no more than margins.
	if w := l.Bounds.Dx(); w < 3*90+l.RowLabels[0].Dx() || w > 3*90+l.RowLabels[0].Dx()+6*l.FontSize {
		t.Errorf("width %d for 3 cells of 90 and row labels of %d", w, l.RowLabels[0].Dx())
	}
	if h := l.Bounds.Dy(); h < 2*60+l.ColLabels[0].Dy() || h > 2*60+l.ColLabels[0].Dy()+6*l.FontSize {
		t.Errorf("height %d for 2 cells of 60 and column labels of %d", h, l.ColLabels[0].Dy())
	}
	if got := l.ColLabels[0].Dy() / l.FontSize; got < 2 {
		t.Errorf("the column labels' band is %d pixels high at %d pixels per em: the long label was not wrapped", l.ColLabels[0].Dy(), l.FontSize)
	}
	drawn := image.NewAlpha(l.Bounds) // what should be there
	for r, row := range colours {
		for c, want := range row {
			cell := l.Cells[r][c]
			draw.Draw(drawn, cell, image.Opaque, image.Point{}, draw.Src)
			for _, p := range []image.Point{cell.Min, cell.Max.Sub(image.Pt(1, 1)), cell.Min.Add(cell.Size().Div(2))} {
				if got := color.NRGBAModel.Convert(img.At(p.X, p.Y)); got != want {
					t.Errorf("cell (%d, %d) at %v is %v, want %v", r, c, p, got, want)
				}
			}
		}
	}
	var marks [][]image.Point
	for _, band := range append(append([]image.Rectangle(nil), l.ColLabels...), l.RowLabels...) {
		draw.Draw(drawn, band, image.Opaque, image.Point{}, draw.Src)
		m := ink(img, band, color.White)
		if len(m) < 20 {
			t.Errorf("the label band %v has %d drawn pixels: no text", band, len(m))
		}
		for i, other := range marks {
			if slices.Equal(m, other) {
				t.Errorf("the label band %v draws what label %d draws", band, i)
			}
		}
		marks = append(marks, m)
	}
	for y := range l.Bounds.Dy() {
		for x := range l.Bounds.Dx() {
			if drawn.AlphaAt(x, y).A == 0 && img.RGBAAt(x, y) != (color.RGBA{255, 255, 255, 255}) {
				t.Fatalf("pixel (%d, %d) outside the cells and labels is %v, not the background", x, y, img.RGBAAt(x, y))
			}
		}
	}
}

func TestSheetWithoutLabelsOnDarkBackground(t *testing.T) {
	s := &Sheet{Cells: [][]image.Image{{solid(50, 40, color.NRGBA{200, 10, 10, 255}), solid(50, 40, color.NRGBA{10, 200, 10, 128})}}, Background: color.Black}
	l, err := s.Layout()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.ColLabels) != 0 || len(l.RowLabels) != 0 || l.Cells[0][0].Min.X != l.Cells[0][0].Min.Y {
		t.Errorf("layout %+v: want no label bands, the first cell in the corner's margin", l)
	}
	img, err := s.Draw()
	if err != nil {
		t.Fatal(err)
	}
	// The translucent image is drawn over the background.
	c := l.Cells[0][1].Min
	if got := img.RGBAAt(c.X, c.Y); got.R > 5 || got.G < 95 || got.G > 105 {
		t.Errorf("a half-transparent green over black is %v", got)
	}

	// Labels on a dark background are white.
	s.ColLabels = []string{"a", "b"}
	if img, err = s.Draw(); err != nil {
		t.Fatal(err)
	}
	l, _ = s.Layout()
	white := 0
	for _, p := range ink(img, l.ColLabels[0], color.Black) {
		if y, _, _, _ := img.At(l.ColLabels[0].Min.X+p.X, l.ColLabels[0].Min.Y+p.Y).RGBA(); y > 0xc000 {
			white++
		}
	}
	if white == 0 {
		t.Error("the label on black has no light pixels")
	}
}

func TestSheetRefusesMalformedGrids(t *testing.T) {
	a := solid(4, 4, color.NRGBA{A: 255})
	for _, c := range []struct {
		s    Sheet
		want string
	}{
		{Sheet{}, "at least one image"},
		{Sheet{Cells: [][]image.Image{{a, a}, {a}}}, "row 1 has 1 images, row 0 has 2"},
		{Sheet{Cells: [][]image.Image{{a, nil}}}, "column 1) has no image"},
		{Sheet{Cells: [][]image.Image{{a, a}}, ColLabels: []string{"x"}}, "2 columns and 1 column labels"},
		{Sheet{Cells: [][]image.Image{{a, a}}, RowLabels: []string{"x", "y"}}, "1 rows and 2 row labels"},
	} {
		if _, err := c.s.Draw(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error saying %q", c.s, err, c.want)
		}
	}
}

func TestWrapBreaksAfterSeparators(t *testing.T) {
	f, err := goRegular()
	if err != nil {
		t.Fatal(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 12, DPI: 72})
	if err != nil {
		t.Fatal(err)
	}
	defer face.Close()
	width := font.MeasureString(face, "inception_4c/").Ceil()
	for _, c := range []struct {
		text string
		want []string
	}{
		{"inception_4c/output", []string{"inception_4c/", "output"}},
		{"short", []string{"short"}},
		{"", nil},
		{"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz", nil}, // no separator: broken where it must, checked below
		{"\xff\xfe layer", nil},
	} {
		got := wrap(face, c.text, width)
		if c.want != nil && strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("wrap(%q) = %q, want %q", c.text, got, c.want)
		}
		if strings.Join(got, "") != strings.ReplaceAll(c.text, " ", "") && strings.Join(got, " ") != c.text {
			t.Errorf("wrap(%q) = %q loses text", c.text, got)
		}
		for _, line := range got {
			if w := font.MeasureString(face, line).Ceil(); w > width && len([]rune(line)) > 1 {
				t.Errorf("wrap(%q): line %q is %d wide, over %d", c.text, line, w, width)
			}
		}
	}
	if got := wrap(face, "mmmm", 1); len(got) != 4 {
		t.Errorf("wrap to 1 pixel = %q, want a character a line", got)
	}
}
