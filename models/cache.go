package models

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deepdream-go/deepdream/internal/atomicfile"
)

// EnvDir is the environment variable that overrides the cache directory.
const EnvDir = "DEEPDREAM_MODELS"

// CacheDir returns where downloaded models live: $DEEPDREAM_MODELS, else
// deepdream/models under the user cache directory.
func CacheDir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("models: no cache directory (set %s): %w", EnvDir, err)
	}
	return filepath.Join(d, "deepdream", "models"), nil
}

// Options says where Resolve and Pull look and how they download.
type Options struct {
	// Dir is the cache directory; "" means CacheDir().
	Dir string
	// Entries is the registry to resolve names in; nil means Registry().
	Entries []Entry
	// NoDownload makes a missing model an error instead of a download.
	NoDownload bool
	// Verify makes Pull hash a cached file of the right size, and download
	// it again when it does not match; without it the size alone is
	// checked (hashing half a gigabyte on every run would cost more than
	// it protects).
	Verify bool
	// Client makes the requests; nil means one whose connections time out
	// after Timeout.
	Client *http.Client
	// Timeout bounds every wait of a download: for the connection and the
	// response's headers, then for each piece of the body, so that a
	// stalled server or proxy fails the download instead of hanging it;
	// 0 means DefaultTimeout.
	Timeout time.Duration
	// Progress, if not nil, is called as a download advances: first with
	// Done 0 before the request is sent, then as bytes arrive.
	Progress func(DownloadProgress)
}

// DefaultTimeout is the longest a download waits for the server.
const DefaultTimeout = 30 * time.Second

// DownloadProgress reports a download: Done of Total bytes from URL.
type DownloadProgress struct {
	Entry       *Entry
	URL         string
	Done, Total int64
}

// CacheDir returns o.Dir, or the default cache directory.
func (o *Options) CacheDir() (string, error) {
	if o.Dir != "" {
		return o.Dir, nil
	}
	return CacheDir()
}

// Lookup returns the entry called name in o.Entries, or in the registry.
func (o *Options) Lookup(name string) (*Entry, error) {
	return lookupIn(o.entries(), name)
}

func (o *Options) entries() []Entry {
	if o.Entries == nil {
		return registry
	}
	return o.Entries
}

// Resolve turns a --model value into a model file. An existing file is used
// as is (entry nil: the caller takes its preprocessing from FileEntry); a
// registry name resolves to its file in the cache, downloaded first if it
// is missing and opts allow it.
func Resolve(ctx context.Context, nameOrFile string, opts Options) (path string, entry *Entry, err error) {
	st, statErr := os.Stat(nameOrFile)
	if statErr == nil && st.Mode().IsRegular() {
		if st.Size() == 0 {
			return "", nil, fmt.Errorf("models: the model file %s is empty", nameOrFile)
		}
		return nameOrFile, nil, nil
	}
	e, err := opts.Lookup(nameOrFile)
	if err != nil {
		switch {
		case statErr == nil:
			return "", nil, fmt.Errorf("models: %s is not a regular file", nameOrFile)
		case !errors.Is(statErr, fs.ErrNotExist):
			return "", nil, fmt.Errorf("models: %w", statErr)
		}
		return "", nil, fmt.Errorf("models: %q is neither a file nor a known model (known: %s)", nameOrFile, names(opts.entries()))
	}
	path, err = Pull(ctx, e, opts)
	return path, e, err
}

// Path returns where e lives in the cache directory dir.
func (e *Entry) Path(dir string) string { return filepath.Join(dir, e.File) }

// Pull returns the cached file of e, downloading it first when it is
// missing, has the wrong size, or (with opts.Verify) the wrong sha256.
func Pull(ctx context.Context, e *Entry, opts Options) (string, error) {
	dir, err := opts.CacheDir()
	if err != nil {
		return "", err
	}
	path := e.Path(dir)
	if st, err := os.Stat(path); err == nil && st.Size() == e.Size {
		if !opts.Verify {
			return path, nil
		}
		if c, err := Verify(e, dir); err != nil || c.State == OK {
			return path, err
		}
	}
	if opts.NoDownload {
		return "", &FetchError{Entry: e, Path: path}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("models: %w", err)
	}
	var attempts []error
	for _, url := range e.URLs {
		err := fetch(ctx, e, url, path, &opts)
		if err == nil {
			return path, nil
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("models: downloading %s: %w", e.Name, ctx.Err())
		}
		attempts = append(attempts, err)
	}
	return "", &FetchError{Entry: e, Path: path, Attempts: attempts}
}

// fetch downloads url into path through a temporary file in the same
// directory, which is removed unless the whole file matches e. Every wait
// for the server (the connection, the headers, each read of the body)
// fails after opts.Timeout.
func fetch(ctx context.Context, e *Entry, url, path string, opts *Options) error {
	timeout := cmp.Or(opts.Timeout, DefaultTimeout)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := time.AfterFunc(timeout, func() {
		cancel(fmt.Errorf("GET %s: the server sent nothing for %v", url, timeout))
	})
	defer stalled.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := opts.Client
	if client == nil {
		client = newClient(timeout)
	}
	var progress func(int64)
	if opts.Progress != nil {
		progress = func(done int64) {
			opts.Progress(DownloadProgress{Entry: e, URL: url, Done: done, Total: e.Size})
		}
		progress(0) // before the request: a slow server is then seen to be waited for
	}
	resp, err := client.Do(req)
	if err != nil {
		return causeOf(ctx, err)
	}
	defer resp.Body.Close()
	stalled.Reset(timeout)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %s", url, resp.Status)
	}
	if resp.ContentLength >= 0 && resp.ContentLength != e.Size {
		return &ChecksumError{Model: e.Name, Source: url, Size: resp.ContentLength, WantSize: e.Size, WantSHA256: e.SHA256}
	}
	body := &countingReader{r: resp.Body, progress: func(int64) { stalled.Reset(timeout) }}
	err = atomicfile.Write(path, func(w io.Writer) error {
		return copyVerified(w, body, e, url, progress)
	})
	return causeOf(ctx, err)
}

// causeOf returns why ctx was cancelled in place of err, when it was.
func causeOf(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return cause
		}
	}
	return err
}

// newClient returns an HTTP client (with the environment's proxy) whose
// connections time out after timeout. (fetch's own timer bounds the
// waits for the headers and the body, with a clearer message.)
func newClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: t}
}

// copyVerified copies src to dst, checking that it is e's file: no more
// than e.Size bytes are read, so a wrong file cannot fill the disk.
func copyVerified(dst io.Writer, src io.Reader, e *Entry, source string, progress func(done int64)) error {
	h := sha256.New()
	r := &countingReader{r: io.LimitReader(src, e.Size+1), progress: progress}
	n, err := io.Copy(io.MultiWriter(dst, h), r)
	if err != nil {
		return err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if n != e.Size || sum != e.SHA256 {
		return &ChecksumError{Model: e.Name, Source: source, Size: n, Over: n > e.Size, SHA256: sum, WantSize: e.Size, WantSHA256: e.SHA256}
	}
	return nil
}

type countingReader struct {
	r        io.Reader
	done     int64
	progress func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.done += int64(n)
	if c.progress != nil && n > 0 {
		c.progress(c.done)
	}
	return n, err
}

// Import copies the file src into the cache directory dir as e's file,
// atomically, after checking its size and sha256: the way to install a
// model on a machine without internet.
func Import(e *Entry, src, dir string) (string, error) {
	f, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("models: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return "", fmt.Errorf("models: %w", err)
	} else if st.Size() != e.Size {
		// Checked before copying so that a wrong file costs nothing.
		return "", &ChecksumError{Model: e.Name, Source: src, File: true, Size: st.Size(), WantSize: e.Size, WantSHA256: e.SHA256}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("models: %w", err)
	}
	path := e.Path(dir)
	if err := atomicfile.Write(path, func(w io.Writer) error { return copyVerified(w, f, e, src, nil) }); err != nil {
		var ce *ChecksumError
		if errors.As(err, &ce) {
			ce.File = true
			return "", err
		}
		return "", fmt.Errorf("models: importing %s into %s: %w", src, path, err)
	}
	return path, nil
}

// State is what Verify found in the cache.
type State int

const (
	Missing State = iota
	OK
	Mismatch
)

func (s State) String() string {
	switch s {
	case OK:
		return "OK"
	case Mismatch:
		return "MISMATCH"
	}
	return "missing"
}

// Check is the result of Verify: State, and for a present file its path,
// size and sha256.
type Check struct {
	State  State
	Path   string
	Size   int64
	SHA256 string
}

// Verify hashes e's file in the cache directory dir.
func Verify(e *Entry, dir string) (Check, error) {
	c := Check{Path: e.Path(dir)}
	f, err := os.Open(c.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("models: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if c.Size, err = io.Copy(h, f); err != nil {
		return c, fmt.Errorf("models: reading %s: %w", c.Path, err)
	}
	c.SHA256 = hex.EncodeToString(h.Sum(nil))
	c.State = Mismatch
	if c.Size == e.Size && c.SHA256 == e.SHA256 {
		c.State = OK
	}
	return c, nil
}

// ChecksumError says that Source (a URL, or a file when File) did not
// hold Model's file. SHA256 is empty when the size alone gave it away.
type ChecksumError struct {
	Model, Source string
	File          bool  // Source is a file (models import), not a URL
	Size          int64 // bytes, or at least this many when Over
	Over          bool  // reading stopped one byte past WantSize
	SHA256        string
	WantSize      int64
	WantSHA256    string
}

func (e *ChecksumError) Error() string {
	got := fmt.Sprintf("%d bytes", e.Size)
	switch {
	case e.Over:
		got = fmt.Sprintf("more than %d bytes", e.WantSize)
	case e.Size == 0:
		got = "empty"
	case e.SHA256 != "":
		got += ", sha256 " + e.SHA256
	}
	if e.File {
		return fmt.Sprintf("models: %s is %s, not the file of %s (%d bytes, sha256 %s); to dream with it as it is, pass --model %s",
			e.Source, got, e.Model, e.WantSize, e.WantSHA256, e.Source)
	}
	if e.Size == 0 && !e.Over {
		got = "an empty file"
	}
	return fmt.Sprintf("models: %s served %s for %s; want %d bytes, sha256 %s", e.Source, got, e.Model, e.WantSize, e.WantSHA256)
}

// FetchError says that a model is not in the cache and could not be
// downloaded, why for each URL (none when downloads were disabled), and how
// to install it by hand.
type FetchError struct {
	Entry    *Entry
	Path     string // where the file belongs
	Attempts []error
}

func (e *FetchError) Unwrap() []error { return e.Attempts }

func (e *FetchError) Error() string {
	m := e.Entry
	var b strings.Builder
	if len(e.Attempts) == 0 {
		fmt.Fprintf(&b, "models: %s (%s) is not in the cache and downloads are disabled.\n", m.Name, m.File)
	} else {
		fmt.Fprintf(&b, "models: %s (%s) is not in the cache and could not be downloaded:\n", m.Name, m.File)
		for _, err := range e.Attempts {
			fmt.Fprintf(&b, "  %v\n", err)
		}
	}
	fmt.Fprintf(&b, "To install it by hand, download %s (%d bytes, sha256 %s) from one of\n", m.File, m.Size, m.SHA256)
	for _, u := range m.URLs {
		fmt.Fprintf(&b, "  %s\n", u)
	}
	fmt.Fprintf(&b, "then run\n  deepdream models import %s PATH/TO/%s\n", m.Name, m.File)
	fmt.Fprintf(&b, "or copy the file to\n  %s", e.Path)
	return b.String()
}
