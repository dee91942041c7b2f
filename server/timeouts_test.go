package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// serveWith serves s again with other timeouts.
func serveWith(t *testing.T, s *studio, tm timeouts) string {
	s.timeouts = tm
	hs := httptest.NewUnstartedServer(s.Server)
	hs.Config = s.HTTPServer()
	hs.Start()
	t.Cleanup(hs.Close)
	return hs.URL
}

// trickle sends a request's head, then the first bytes of its body one
// every 50 ms, then nothing more, like a client on a connection that
// stalls; it returns the answer and its body, waiting up to 20 s for it.
// (It stops sending before the server can have given up: bytes sent to a
// closed connection would reset it, losing the answer.) An error is the
// answer's: the connection closed without one, or none in 20 s.
func trickle(t *testing.T, u, head string, body []byte) (*http.Response, []byte, error) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(u, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%sContent-Length: %d\r\n\r\n", head, len(body))
	for _, b := range body[:2] {
		time.Sleep(50 * time.Millisecond)
		conn.Write([]byte{b})
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, err
	}
	msg, _ := io.ReadAll(res.Body)
	return res, msg, nil
}

// TestSlowUploadIsCutOff sends an upload far below the pace the studio
// asks for: it is answered 408 instead of holding the connection.
func TestSlowUploadIsCutOff(t *testing.T) {
	s := newStudio(t, Config{})
	u := serveWith(t, s, timeouts{header: time.Second, request: 30 * time.Second, idle: time.Minute, ping: 10 * time.Second, grace: 200 * time.Millisecond, minRate: 1000})
	ctype, body := multipartBody(t, pngPhoto(t, 16, 16), small...)
	res, msg, err := trickle(t, u, "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "+ctype+"\r\n", body)
	if err != nil {
		t.Fatalf("no answer to a slow upload: %v", err)
	}
	if res.StatusCode != http.StatusRequestTimeout || !bytes.Contains(msg, []byte("too slowly")) {
		t.Errorf("slow upload: %s %s, want 408", res.Status, msg)
	}
}

// TestSlowRequestIsCutOff sends a request that takes no photo with a body
// that stalls: the server, which reads a small body it was sent before it
// answers, lets the connection go at the request timeout (its answer's
// time is up too: the client gets the connection closed).
func TestSlowRequestIsCutOff(t *testing.T) {
	s := newStudio(t, Config{})
	u := serveWith(t, s, timeouts{header: time.Second, request: 300 * time.Millisecond, idle: time.Minute, ping: 10 * time.Second, grace: time.Minute, minRate: 1})
	_, _, err := trickle(t, u, "DELETE /api/jobs/0123456789abcdef HTTP/1.1\r\nHost: 127.0.0.1\r\n", bytes.Repeat([]byte{'x'}, 1000))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("a request whose body stalls held its connection: %v", err)
	}
}

// TestUploadAtPaceOutlastsTheRequestTimeout sends an upload that takes
// longer than the request timeout at a good pace: it is taken whole.
func TestUploadAtPaceOutlastsTheRequestTimeout(t *testing.T) {
	s := newStudio(t, Config{})
	u := serveWith(t, s, timeouts{header: time.Second, request: 300 * time.Millisecond, idle: time.Minute, ping: 10 * time.Second, grace: 500 * time.Millisecond, minRate: 20 << 10})
	photo := pngPhoto(t, 200, 200)
	ctype, body := multipartBody(t, photo, small...)
	pr, pw := io.Pipe()
	go func() {
		for chunk := range slices.Chunk(body, len(body)/10+1) {
			time.Sleep(100 * time.Millisecond)
			pw.Write(chunk)
		}
		pw.Close()
	}()
	res, err := http.Post(u+"/api/jobs", ctype, pr)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	json.NewDecoder(res.Body).Decode(&v)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Errorf("an upload of %d bytes at about %d KB/s: %s %v, want 202", len(body), len(body)/1024, res.Status, v)
	}
}

// TestEventStreamOutlivesTheTimeouts watches a dream that lasts longer
// than the request timeout: the stream still brings its end.
func TestEventStreamOutlivesTheTimeouts(t *testing.T) {
	s := newStudio(t, Config{})
	u := serveWith(t, s, timeouts{header: time.Second, request: 200 * time.Millisecond, idle: time.Minute, ping: 10 * time.Second, grace: time.Second, minRate: 1 << 20})
	h := holdJobs(s)
	st := s.mustSubmit(t, pngPhoto(t, 16, 16), small...)
	<-h.started
	res, err := http.Get(u + "/api/jobs/" + st.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	time.Sleep(time.Second) // past the read and write timeouts
	h.release <- struct{}{}
	var last Status
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			json.Unmarshal([]byte(data), &last)
		}
	}
	if last.State != stateDone {
		t.Errorf("the stream ended at %+v (%v), want the dream done", last, sc.Err())
	}
}
