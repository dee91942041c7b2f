package server

import (
	"fmt"
	"net/http"

	"github.com/deepdream-go/deepdream/dream"
)

// The memory of a dream, estimated before it is queued so that the studio
// never starts more than its budget (Config.MaxMemory) holds: its peak
// (dream.Network.PhotoPeak, the figure a job sent to the workers of a
// queue carries too), and beside it the files' bytes, held from the
// upload to the job's end.

// dreamMemory is what a job's memory is estimated from: its files'
// headers and its model's network.
type dreamMemory struct {
	photo  dream.FileHeader
	images []*upload // the request's images, their headers read
	net    *dream.Network
}

// fileBytes are the bytes of the files uploaded, held from the upload to
// the job's end.
func (m dreamMemory) fileBytes() int64 {
	n := m.photo.Bytes
	for _, u := range m.images {
		n += u.header.Bytes
	}
	return n
}

// peak estimates the memory a job takes while it runs, beyond its files'
// bytes, which the queue counts from the submission on.
func (m dreamMemory) peak(req dream.Request) (int64, error) {
	images := map[string]dream.FileHeader{}
	for _, u := range m.images {
		images[u.name()] = u.header
	}
	return m.net.PhotoPeak(m.photo, images, req)
}

// admit checks that a job of these files and request can ever run within
// the budget, and returns its peak. If it cannot, the refusal says the
// largest max size that fits, found by bisection (the peak grows with the
// max size), in its message and as fitMaxSize for the page to offer.
//
// A max size at which the photo is too small for the layers is taken as
// fitting by the bisection, below the sizes that do, and never offered.
func (s *Server) admit(m dreamMemory, req dream.Request) (int64, error) {
	budget := s.q.memoryBudget()
	need := func(maxSize int) (int64, error) {
		r := req
		r.MaxSize = maxSize
		peak, err := m.peak(r)
		return peak + m.fileBytes(), err
	}
	fits := func(maxSize int) bool {
		n, err := need(maxSize)
		return err != nil || n <= budget
	}
	asked, err := need(req.MaxSize)
	if err != nil {
		return 0, requestError(err)
	}
	if asked <= budget {
		return asked - m.fileBytes(), nil
	}
	p := m.photo
	longer := max(p.Width, p.Height)
	size := "at full size"
	if req.MaxSize > 0 && req.MaxSize < longer {
		longer, size = req.MaxSize, fmt.Sprintf("at a max size of %d", req.MaxSize)
	}
	msg := fmt.Sprintf("this %d×%d photo needs about %s of memory to dream %s, more than the studio's budget of %s",
		p.Width, p.Height, byteSize(asked), size, byteSize(budget))
	// fits(lo), or lo is the least; not fits(hi)
	lo, hi := smallestMaxSize, longer
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	if n, err := need(lo); lo >= hi || err != nil || n > budget {
		return 0, errorf(http.StatusRequestEntityTooLarge, "%s, even at the smallest max size: use a smaller photo", msg)
	}
	return 0, &httpError{code: http.StatusRequestEntityTooLarge, fitMaxSize: lo,
		msg: fmt.Sprintf("%s; it fits at a max size of %d or less", msg, lo)}
}

// smallestMaxSize is the smallest max size a request may ask for.
var smallestMaxSize = func() int {
	for _, f := range dream.Fields() {
		if f.Key == "max_size" {
			return int(f.Min)
		}
	}
	panic("server: the dream request has no max_size field")
}()
