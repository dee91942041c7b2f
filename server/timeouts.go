package server

import (
	"io"
	"net/http"
	"time"
)

// timeouts bound how long a client may hold a connection. Every request
// must be read, and its answer written, within request; an upload, a
// download and an event stream set their own deadlines, per request
// (http.ResponseController), from their size and pace.
type timeouts struct {
	header  time.Duration // to read a request's header
	request time.Duration // to read a request and write its answer; an event stream's each event
	idle    time.Duration // between the requests of a kept-alive connection
	// ping is the time between an event stream's keep-alives, by which
	// the page knows the server is still there.
	ping time.Duration
	// An upload must arrive, and a file download be taken, at minRate
	// bytes a second on average after grace: a client sending one byte
	// every few seconds is cut off, a 25 MB photo has minutes.
	grace   time.Duration
	minRate int64
}

var defaultTimeouts = timeouts{
	header:  10 * time.Second,
	request: 30 * time.Second,
	idle:    2 * time.Minute,
	ping:    10 * time.Second,
	grace:   10 * time.Second,
	minRate: 64 << 10,
}

// HTTPServer returns an http.Server serving s with the studio's timeouts.
func (s *Server) HTTPServer() *http.Server {
	t := s.timeouts
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: t.header,
		ReadTimeout:       t.request,
		WriteTimeout:      t.request,
		IdleTimeout:       t.idle,
	}
}

// paced returns an upload's body whose read deadline moves on with the
// bytes received: grace, plus the time they take at minRate.
func (t timeouts) paced(w http.ResponseWriter, body io.ReadCloser) io.ReadCloser {
	return &pacedBody{ReadCloser: body, rc: http.NewResponseController(w), start: time.Now(), t: t}
}

type pacedBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	n     int64
	t     timeouts
}

func (b *pacedBody) Read(p []byte) (int, error) {
	_ = b.rc.SetReadDeadline(b.start.Add(b.t.forBytes(b.n))) // unsupported: the server's ReadTimeout stands
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// forBytes is the time allowed to send or receive n bytes.
func (t timeouts) forBytes(n int64) time.Duration {
	return t.grace + time.Duration(float64(n)/float64(t.minRate)*float64(time.Second))
}
