package imageio

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Sheet is a contact sheet: images in a grid, with a label above each
// column and left of each row, drawn in the Go font at a size that
// follows the cells'. Every cell is as large as the largest image; an
// image of another size is scaled to fit its cell, keeping its aspect
// ratio, and centred in it.
type Sheet struct {
	Cells     [][]image.Image // rows of images, each as long as ColLabels
	ColLabels []string        // above each column; none: no column labels
	RowLabels []string        // left of each row; none: no row labels
	// Background fills the margins, the gaps and the labels' bands, and
	// shows through transparent images; nil: white. The labels are black
	// on a light background, white on a dark one.
	Background color.Color
}

// SheetLayout is where a Sheet's Draw puts everything.
type SheetLayout struct {
	Bounds    image.Rectangle     // the whole sheet, at the origin
	Cell      image.Point         // the size of every cell
	Cells     [][]image.Rectangle // each cell, as Sheet.Cells
	ColLabels []image.Rectangle   // the band each column label is drawn in
	RowLabels []image.Rectangle   // the band each row label is drawn in
	FontSize  int                 // in pixels per em
}

// goRegular is the Go font, parsed once.
var goRegular = sync.OnceValues(func() (*opentype.Font, error) { return opentype.Parse(goregular.TTF) })

// Layout returns where Draw puts the cells and labels.
func (s *Sheet) Layout() (SheetLayout, error) {
	l, face, _, _, err := s.layout()
	if face != nil {
		face.Close()
	}
	return l, err
}

// layout returns the layout with the face it was measured in and the
// labels' lines, wrapped to their bands. The caller closes the face.
func (s *Sheet) layout() (l SheetLayout, face font.Face, cols, rows [][]string, err error) {
	nRows := len(s.Cells)
	if nRows == 0 || len(s.Cells[0]) == 0 {
		return l, nil, nil, nil, errors.New("imageio: a sheet needs at least one image")
	}
	nCols := len(s.Cells[0])
	for r, row := range s.Cells {
		if len(row) != nCols {
			return l, nil, nil, nil, fmt.Errorf("imageio: sheet row %d has %d images, row 0 has %d", r, len(row), nCols)
		}
		for c, img := range row {
			if img == nil || img.Bounds().Empty() {
				return l, nil, nil, nil, fmt.Errorf("imageio: sheet cell (row %d, column %d) has no image", r, c)
			}
			l.Cell.X, l.Cell.Y = max(l.Cell.X, img.Bounds().Dx()), max(l.Cell.Y, img.Bounds().Dy())
		}
	}
	if n := len(s.ColLabels); n != 0 && n != nCols {
		return l, nil, nil, nil, fmt.Errorf("imageio: sheet has %d columns and %d column labels", nCols, n)
	}
	if n := len(s.RowLabels); n != 0 && n != nRows {
		return l, nil, nil, nil, fmt.Errorf("imageio: sheet has %d rows and %d row labels", nRows, n)
	}

	// The text is about a fourteenth of a cell high: legible beside a
	// thumbnail, small beside a full-size dream.
	l.FontSize = min(max(min(l.Cell.X, l.Cell.Y)/14, 12), 48)
	f, err := goRegular()
	if err != nil {
		return l, nil, nil, nil, fmt.Errorf("imageio: the Go font: %w", err)
	}
	if face, err = opentype.NewFace(f, &opentype.FaceOptions{Size: float64(l.FontSize), DPI: 72, Hinting: font.HintingFull}); err != nil {
		return l, nil, nil, nil, fmt.Errorf("imageio: the Go font: %w", err)
	}
	pad, gap := l.FontSize/2, max(2, l.FontSize/4)

	colBand := 0
	for _, label := range s.ColLabels {
		lines := wrap(face, label, l.Cell.X)
		cols = append(cols, lines)
		colBand = max(colBand, textHeight(face, len(lines)))
	}
	rowBand := 0
	for _, label := range s.RowLabels {
		lines := wrap(face, label, max(l.Cell.X, 12*l.FontSize))
		rows = append(rows, lines)
		for _, line := range lines {
			rowBand = max(rowBand, font.MeasureString(face, line).Ceil())
		}
	}

	x0, y0 := pad, pad
	if rowBand > 0 {
		x0 += rowBand + pad
	}
	if colBand > 0 {
		y0 += colBand + pad
	}
	l.Bounds = image.Rect(0, 0, x0+nCols*l.Cell.X+(nCols-1)*gap+pad, y0+nRows*l.Cell.Y+(nRows-1)*gap+pad)
	for r := range nRows {
		var row []image.Rectangle
		for c := range nCols {
			at := image.Pt(x0+c*(l.Cell.X+gap), y0+r*(l.Cell.Y+gap))
			row = append(row, image.Rectangle{at, at.Add(l.Cell)})
		}
		l.Cells = append(l.Cells, row)
	}
	for c := range s.ColLabels {
		cell := l.Cells[0][c]
		l.ColLabels = append(l.ColLabels, image.Rect(cell.Min.X, pad, cell.Max.X, pad+colBand))
	}
	for r := range s.RowLabels {
		cell := l.Cells[r][0]
		l.RowLabels = append(l.RowLabels, image.Rect(pad, cell.Min.Y, pad+rowBand, cell.Max.Y))
	}
	return l, face, cols, rows, nil
}

// Draw draws the sheet.
func (s *Sheet) Draw() (*image.RGBA, error) {
	l, face, cols, rows, err := s.layout()
	if err != nil {
		return nil, err
	}
	defer face.Close()
	bg, ink := s.Background, color.Color(color.Black)
	if bg == nil {
		bg = color.White
	}
	if y, _, _, _ := color.GrayModel.Convert(bg).RGBA(); y < 0x8000 {
		ink = color.White
	}
	dst := image.NewRGBA(l.Bounds)
	draw.Draw(dst, dst.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	for r, row := range s.Cells {
		for c, img := range row {
			drawFitted(dst, l.Cells[r][c], img)
		}
	}
	d := &font.Drawer{Dst: dst, Src: image.NewUniform(ink), Face: face}
	lineHeight, ascent := face.Metrics().Height.Ceil(), face.Metrics().Ascent.Ceil()
	for c, lines := range cols { // centred, just above the column
		band := l.ColLabels[c]
		top := band.Max.Y - textHeight(face, len(lines))
		for i, line := range lines {
			w := d.MeasureString(line).Ceil()
			d.Dot = fixed.P(band.Min.X+(band.Dx()-w)/2, top+i*lineHeight+ascent)
			d.DrawString(line)
		}
	}
	for r, lines := range rows { // right-aligned beside the row, centred on it
		band := l.RowLabels[r]
		top := band.Min.Y + (band.Dy()-textHeight(face, len(lines)))/2
		for i, line := range lines {
			d.Dot = fixed.P(band.Max.X-d.MeasureString(line).Ceil(), top+i*lineHeight+ascent)
			d.DrawString(line)
		}
	}
	return dst, nil
}

// textHeight returns the height of n lines of text in face, from the top
// of the first line's ascent to the bottom of the last line's descent.
func textHeight(face font.Face, n int) int {
	if n == 0 {
		return 0
	}
	m := face.Metrics()
	return (n-1)*m.Height.Ceil() + (m.Ascent + m.Descent).Ceil()
}

// drawFitted draws img over cell, scaled to fit it if its size differs,
// aspect ratio kept, centred.
func drawFitted(dst draw.Image, cell image.Rectangle, img image.Image) {
	b := img.Bounds()
	if b.Size() != cell.Size() {
		f := min(float64(cell.Dx())/float64(b.Dx()), float64(cell.Dy())/float64(b.Dy()))
		img = Resize(img, max(1, int(float64(b.Dx())*f+0.5)), max(1, int(float64(b.Dy())*f+0.5)))
		b = img.Bounds()
	}
	at := cell.Min.Add(cell.Size().Sub(b.Size()).Div(2))
	draw.Draw(dst, image.Rectangle{at, at.Add(b.Size())}, img, b.Min, draw.Over)
}

// wrap breaks text into lines no wider than width: after the last
// separator that lets the line fit (/ , + = : or a space, else _ - or .),
// else where it must; a line holds at least one character.
func wrap(face font.Face, text string, width int) []string {
	var lines []string
	for text != "" {
		n := 0 // bytes of text that fit
		for i := range text {
			_, size := utf8.DecodeRuneInString(text[i:])
			if next := i + size; n == 0 || font.MeasureString(face, text[:next]).Ceil() <= width {
				n = next
				continue
			}
			break
		}
		if n < len(text) {
			if i := strings.LastIndexAny(text[:n], "/,+=: "); i > 0 {
				n = i + 1
			} else if i := strings.LastIndexAny(text[:n], "_-."); i > 0 {
				n = i + 1
			}
		}
		lines = append(lines, strings.TrimRight(text[:n], " "))
		text = text[n:]
	}
	return lines
}
