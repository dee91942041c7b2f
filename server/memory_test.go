package server

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// setBudget gives the queue a budget of n bytes for photos and dreams.
func setBudget(s *studio, n int64) {
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	s.q.budget = n
}

// TestMemoryBudgetRefusesAndOffersAFit submits a photo whose dream at full
// size is estimated over the budget: it is refused before it is queued,
// with the largest max size that fits, which then dreams.
func TestMemoryBudgetRefusesAndOffersAFit(t *testing.T) {
	s := newStudio(t, Config{MaxUpload: 1 << 20})
	setBudget(s, 12<<20) // the fixed part of a peak, 8 MB, and some 60000 pixels of tinynet's dream (dream.Estimate's)
	photo := pngPhoto(t, 320, 240)
	res, v := s.submit(t, photo, small...)
	msg, _ := v["error"].(string)
	fit, _ := v["fit_max_size"].(float64)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "this 320×240 photo needs about") ||
		!strings.Contains(msg, "budget of 12 MB") || !strings.Contains(msg, fmt.Sprintf("fits at a max size of %d or less", int(fit))) {
		t.Fatalf("full size over the budget: %s %v, want 413 offering a max size", res.Status, v)
	}
	if fit < 16 || fit >= 320 {
		t.Fatalf("offered max size %v, want one from 16 to 319", fit)
	}
	if res, v := s.submit(t, photo, append(small, fmt.Sprintf("max_size=%d", int(fit)+1))...); res.StatusCode != http.StatusRequestEntityTooLarge ||
		!strings.Contains(v["error"].(string), fmt.Sprintf("at a max size of %d,", int(fit)+1)) {
		t.Errorf("one above the offered max size: %s %v, want 413", res.Status, v)
	}
	st := s.mustSubmit(t, photo, append(small, fmt.Sprintf("max_size=%d", int(fit)))...)
	if end := s.wait(t, st.ID); end.State != stateDone || max(end.Width, end.Height) != int(fit) {
		t.Errorf("at the offered max size: %+v, want done at %v pixels", end, fit)
	}
	setBudget(s, 2<<20)
	if res, v := s.submit(t, photo, append(small, "max_size=16")...); res.StatusCode != http.StatusRequestEntityTooLarge ||
		!strings.Contains(v["error"].(string), "even at the smallest max size") || v["fit_max_size"] != nil {
		t.Errorf("a budget that holds no dream: %s %v, want 413 without an offer", res.Status, v)
	}
}

// TestMemoryBudgetRunsBigDreamsOneAtATime has two workers and a budget
// that holds one dream: the second waits for the first to end.
func TestMemoryBudgetRunsBigDreamsOneAtATime(t *testing.T) {
	s := newStudio(t, Config{Workers: 2, MaxUpload: 4 << 10})
	h := holdJobs(s)
	photo := pngPhoto(t, 32, 32)
	a := s.mustSubmit(t, photo, small...)
	<-h.started
	peak := s.q.get(a.ID).peak
	// Room for a's photo and dream, and an upload: not for two dreams.
	setBudget(s, int64(len(photo))+4<<10+peak+peak/2)
	b := s.mustSubmit(t, photo, small...)
	select {
	case id := <-h.started:
		t.Fatalf("job %s started beside %s, beyond the budget", id, a.ID)
	case <-time.After(300 * time.Millisecond):
	}
	var st Status
	if s.get(t, "/api/jobs/"+b.ID, &st); st.State != stateQueued || st.Position != 1 {
		t.Errorf("the second dream is %s at %d, want queued at 1", st.State, st.Position)
	}
	h.release <- struct{}{}
	if id := <-h.started; id != b.ID {
		t.Errorf("started %s, want %s", id, b.ID)
	}
	h.release <- struct{}{}
	for _, id := range []string{a.ID, b.ID} {
		if end := s.wait(t, id); end.State != stateDone {
			t.Errorf("job %s ended %s %q", id, end.State, end.Error)
		}
	}
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	if s.q.held != 0 || len(s.q.running) != 0 {
		t.Errorf("after the dreams the queue holds %d bytes and %d running jobs, want none", s.q.held, len(s.q.running))
	}
}

// startUpload sends the head of a multipart upload of a declared size and
// leaves it unfinished; finish sends the rest, answer reads the answer
// (within 10 s).
func startUpload(t *testing.T, s *studio, size int) (finish func(), answer func() (*http.Response, error)) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctype, body := multipartBody(t, bytes.Repeat([]byte{'x'}, size))
	fmt.Fprintf(conn, "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ctype, len(body))
	conn.Write(body[:100])
	finish = func() { conn.Write(body[100:]) }
	answer = func() (*http.Response, error) {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil {
			res.Body.Close()
		}
		return res, err
	}
	return finish, answer
}

// TestUploadsReserveTheirMemory starts uploads that stay unfinished: each
// holds the upload limit of the budget, so the third is refused at once,
// before the rest of it is sent.
func TestUploadsReserveTheirMemory(t *testing.T) {
	const maxUpload = 20 << 20
	s := newStudio(t, Config{MaxUpload: maxUpload})
	setBudget(s, 2*maxUpload+100) // two uploads, or an upload and a small dream
	// Over 256 KB each: the server answers without reading the rest of a
	// body that large (it reads a smaller one first, to keep the
	// connection).
	const size = 300 << 10
	finish, answer := startUpload(t, s, size)
	startUpload(t, s, size)
	deadline := time.Now().Add(10 * time.Second)
	for { // until both uploads have reserved their memory
		s.q.mu.Lock()
		held := s.q.held
		s.q.mu.Unlock()
		if held == 2*maxUpload {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the uploads hold %d bytes, want %d", held, 2*maxUpload)
		}
		time.Sleep(time.Millisecond)
	}
	_, third := startUpload(t, s, size)
	if res, err := third(); err != nil || res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a third upload, unfinished: %v %v, want 429 for memory at once", res, err)
	}
	finish()
	if res, err := answer(); err != nil || res.StatusCode != http.StatusUnsupportedMediaType { // x's are no photo
		t.Errorf("the first upload, finished: %v %v, want 415", res, err)
	}
	if res, v := s.submit(t, pngPhoto(t, 16, 16), small...); res.StatusCode != http.StatusAccepted {
		t.Errorf("an upload once the first has ended: %s %v, want 202", res.Status, v)
	}
}

// TestPhotoIsDecodedOnlyByItsJob sends a PNG whose header is whole and
// whose pixels are cut off: the submission reads only the header and
// queues it; its job finds the rest missing and says so.
func TestPhotoIsDecodedOnlyByItsJob(t *testing.T) {
	s := newStudio(t, Config{})
	photo := pngPhoto(t, 40, 30)
	st := s.mustSubmit(t, photo[:len(photo)-40], small...)
	if end := s.wait(t, st.ID); end.State != stateFailed || !strings.HasPrefix(end.Error, "the photo cannot be read: ") {
		t.Errorf("ended %s %q, want failed: the photo cannot be read", end.State, end.Error)
	}
	res, v := s.submit(t, photo[:20], small...) // inside the header
	if res.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(v["error"].(string), "cannot be read") {
		t.Errorf("a photo cut inside its header: %s %v, want 415", res.Status, v)
	}
}

// TestResultsKeptWithinTheirBudget dreams more explorer tiles than the
// results budget holds: the oldest results are dropped, and say so.
func TestResultsKeptWithinTheirBudget(t *testing.T) {
	s := newStudio(t, Config{})
	var ids []string
	var size int64
	for i := range 4 {
		st := s.mustSubmit(t, pngPhoto(t, 24, 24), append(small, "gallery=0", fmt.Sprintf("seed=%d", i))...)
		s.wait(t, st.ID)
		ids = append(ids, st.ID)
		if i == 0 {
			j := s.q.get(st.ID)
			j.mu.Lock()
			size = int64(len(j.result))
			j.mu.Unlock()
			s.q.mu.Lock()
			s.q.resultsBudget = 2*size + size/2 // two results
			s.q.mu.Unlock()
		}
	}
	for i, id := range ids {
		want := http.StatusOK
		if i < 2 {
			want = http.StatusGone
		}
		if res := s.do(t, "GET", "/api/jobs/"+id+"/result"); res.StatusCode != want {
			t.Errorf("result %d of 4: %s, want %d", i+1, res.Status, want)
		}
	}
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	if s.q.resultBytes > s.q.resultsBudget {
		t.Errorf("%d bytes of results kept, over the budget of %d", s.q.resultBytes, s.q.resultsBudget)
	}
}
