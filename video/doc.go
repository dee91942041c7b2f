// Package video reads and writes the frames of animations and videos for
// the dreams that move (dream.Zoom, dream.Video): video files through the
// ffmpeg and ffprobe programs, directories of numbered images, and
// animated GIFs, encoded here in pure Go.
//
// Video files go in and out as raw frames, 8-bit RGB (ffmpeg's rgb24),
// row by row, over the programs' standard input and output: no cgo, and
// any container and codec that Debian's ffmpeg package reads. Without the
// programs (ErrNoFFmpeg says which package to install), directories and
// GIFs still work. Open reads a video file or a directory of frames
// (image files sorted by name, numbers by value: frame-2.png before
// frame-10.png); Probe describes one. Every frame read is an
// *image.NRGBA at the origin, opaque, of the size Info gives.
//
// Create writes, by the output's name: an MP4 (H.264, 4:2:0, CRF 18,
// its index at the front so that a browser plays it while it loads) or a
// WebM (VP9) through ffmpeg, with the audio stream of another file copied
// in (re-encoded only where the container cannot hold its codec); an
// animated GIF (Floyd-Steinberg dithering from the standard library's
// image/draw onto one palette for the whole animation, chosen by median
// cut: a palette per frame would flicker); or a directory of PNG frames.
// Each carries a comment, the record of how it was made: the container's
// comment tag, a GIF comment extension, each PNG's text chunk. Nothing is
// at the output's path until Close: files and directories are written
// under a temporary name (internal/atomicfile), and Abort, or a cancelled
// context, leaves nothing.
package video
