package graph

import (
	"sync"

	"github.com/deepdream-go/deepdream/ops"
)

// Memory lends plans their large buffers (tensors, gradients, scratch) out
// of chunks it keeps, so that plans made one after another, such as a
// dream's octaves, share one set of memory pages instead of each faulting
// in fresh ones: on a virtual machine a page fault costs about as much as
// the memory traffic of a whole step over that page, and the first step of
// a plan ran up to twice as long as the next ones.
//
// A plan made with Spec.Memory takes its buffers from the chunks' free
// ends, zeroed, and adds chunks when none has room. Reset gives all chunks
// back; the plans that used them must not run again. Planning the largest
// size first makes the later, smaller plans fit in its chunks. The zero
// Memory is ready to use; it is safe for concurrent use.
type Memory struct {
	mu     sync.Mutex
	chunks []*memChunk
}

type memChunk struct {
	buf []float32
	// used is how much of buf is lent; dirty how much was ever lent (and
	// must be cleared before it is lent again).
	used, dirty int
}

// memAlign is the alignment, in floats, of every buffer Memory lends: a
// cache line, which also lets a saved buffer be viewed as uint64s.
const memAlign = 16

// alloc lends n zeroed floats: the first chunk with room, else a new one.
// Each buffer starts memAlign floats from a chunk's start (chunks are
// allocated whole, so at least 8-byte aligned).
func (m *Memory) alloc(n int) []float32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	size := (n + memAlign - 1) / memAlign * memAlign
	for _, c := range m.chunks {
		if len(c.buf)-c.used < size {
			continue
		}
		b := c.buf[c.used : c.used+n]
		if c.used < c.dirty {
			ops.Clear(b[:min(n, c.dirty-c.used)])
		}
		c.used += size
		c.dirty = max(c.dirty, c.used)
		return b
	}
	c := &memChunk{buf: make([]float32, size), used: size, dirty: size}
	m.chunks = append(m.chunks, c)
	return c.buf[:n]
}

// Reset takes back everything lent. The plans made with m must not run
// again (their buffers are lent anew).
func (m *Memory) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.chunks {
		c.used = 0
	}
}

// Size is the number of floats m holds.
func (m *Memory) Size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.chunks {
		n += len(c.buf)
	}
	return n
}
