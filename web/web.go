// Package web is the web studio's page: plain HTML, CSS and JavaScript
// with no build step, embedded in the binary. Package server serves it and
// its API; the page talks to nothing else.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Files are the page's files: index.html, style.css, its scripts (app.js,
// controls.js, form.js, picture.js, jobs.js, grids.js, motion.js) and the
// presets' thumbnails.
var Files = func() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	return sub
}()
