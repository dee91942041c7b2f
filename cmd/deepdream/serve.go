package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/models"
	"github.com/deepdream-go/deepdream/queue"
	"github.com/deepdream-go/deepdream/server"
)

type serveOptions struct {
	addr       string
	data       string
	model      modelFlags
	modelsDir  string
	workers    int
	queue      int
	maxUpload  int64
	maxPixels  int
	jobTimeout time.Duration
	mem        memoryFlag // --max-memory
	allowHosts []string
	onShutdown string
	nats       string // "": embedded; "off": no NATS; else a URL
	natsListen string
	natsToken  string
	// natsCA is --nats-ca (an external --nats's CA); natsCert and
	// natsKey the embedded server's TLS certificate and key.
	natsCA, natsCert, natsKey string
	ackWait                   time.Duration
	replicas                  int
	// ready, if set, is called with the page's host:port once listening
	// (tests).
	ready func(addr string)
}

func newServeCmd() *cobra.Command { return newServeCmdFor(&serveOptions{}) }

func newServeCmdFor(o *serveOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080] [--data DIR] [--model NAME|FILE] [--models DIR]",
		Short: "Start the web studio: dream in the browser",
		Long: `serve starts the DeepDream web studio, a page where you drop a photo, choose a
model, a layer and the parameters, watch the dream grow step by step, and keep the
results in a gallery on disk (--data). Dreams wait in a queue and run --workers at a
time; a job whose page was closed keeps running into the gallery.

The page offers --model (the default, downloaded if needed as for 'dream'), the
registry models already in the cache, and the .onnx files of --models DIR (registry
files there count as those models; others take their settings from a sidecar
MODEL.onnx.json: without one, GoogLeNet's preprocessing and a default layer
chosen from the graph). The page only ever names a model, never a path.

Each dream's peak memory is estimated before it is queued: one that does not fit
in --max-memory is refused with the largest max size that fits, and dreams run
together only while their estimates fit beside each other.

It listens on 127.0.0.1 unless --addr says otherwise, and answers only requests
for localhost, IP addresses, --addr's host name and the names of --allow-host
(another name may be a site's page made to reach this machine: DNS rebinding).

The jobs go through a NATS JetStream server that serve runs in its own process
(data under --data), listening for workers on --nats-listen (it prints the URL;
beyond loopback it requires a token, generated and printed unless --nats-token
gives one). 'deepdream worker --nats URL' dreams them on other machines; --workers
is the number of workers in this process (0: only remote ones). --nats URL uses an
external NATS server or cluster instead, --nats off no NATS at all. A job whose
worker goes silent goes to another after --ack-wait. At start the studio takes
back the jobs it left on the queue (stopped, killed or crashed): those done
meanwhile go to the gallery, the others are followed as before. See
docs/deploy.md.

On SIGINT or SIGTERM it stops taking dreams (those waiting in the studio, not yet
sent to the queue, are cancelled) and, per --on-shutdown, leaves the dreams sent
to the queue there for its next start (leave: workers elsewhere go on with them,
its own give theirs back; with --nats off, as cancel), cancels them (cancel:
nothing of them is written), or lets them finish into the gallery (finish; a
second signal then leaves or cancels them as leave would).`,
		Example: `  deepdream serve
  deepdream serve --data ~/dreams --workers 2
  deepdream serve --models ./onnx --model vgg16 --on-shutdown finish
  deepdream serve --max-memory 4G
  deepdream serve --nats-listen 0.0.0.0:4222 --workers 0           # dreams by 'deepdream worker's elsewhere
  deepdream serve --addr 0.0.0.0:8080 --allow-host studio.lan   # reachable from the network: say so to no one you don't trust`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&o.data, "data", "", "directory of the gallery (default: deepdream/studio under the user data directory)")
	o.model.register(f)
	f.StringVar(&o.modelsDir, "models", "", "directory of further .onnx models to offer")
	f.IntVar(&o.workers, "workers", server.DefaultWorkers, "dreams run at once in this process (0: only by 'deepdream worker's)")
	f.IntVar(&o.queue, "queue", server.DefaultQueue, "dreams that may wait; beyond, the page is told the studio is busy")
	f.Int64Var(&o.maxUpload, "max-upload", server.DefaultMaxUpload, "largest photo accepted, in bytes")
	f.IntVar(&o.maxPixels, "max-pixels", imageio.DefaultMaxPixels, "refuse photos with more pixels than this")
	f.DurationVar(&o.jobTimeout, "job-timeout", server.DefaultJobTimeout, "time limit of one dream")
	f.StringVar(&o.mem.value, "max-memory", "auto", "memory budget of the dreams, e.g. 4G or 512M (auto: half the RAM, or of the cgroup's limit, at most 3/4 of what is available)")
	f.StringArrayVar(&o.allowHosts, "allow-host", nil, "a host name the page may be opened by besides localhost, IP addresses and --addr's host, repeatable")
	f.StringVar(&o.onShutdown, "on-shutdown", "leave", "what a shutdown does to the dreams sent to the queue: leave (for the next start), cancel or finish")
	f.StringVar(&o.nats, "nats", "", "URL of a NATS server or cluster (comma-separated) to queue the jobs on instead of the embedded one; off: no NATS, dream in this process only")
	f.StringVar(&o.natsListen, "nats-listen", "127.0.0.1:4222", "address the embedded NATS server listens on for workers")
	f.StringVar(&o.natsToken, "nats-token", "", "token workers must give (default: none on loopback, a generated one beyond; $DEEPDREAM_NATS_TOKEN)")
	f.StringVar(&o.natsCert, "nats-tls-cert", "", "PEM `FILE` of the TLS certificate of the embedded NATS server: workers then connect over TLS (tls://), checking it")
	f.StringVar(&o.natsKey, "nats-tls-key", "", "PEM `FILE` of the key of --nats-tls-cert")
	f.StringVar(&o.natsCA, "nats-ca", "", natsCAHelp+"; with --nats")
	f.IntVar(&o.replicas, "nats-replicas", 1, "servers of a NATS cluster (--nats) that keep each job, e.g. 3 for a cluster of three")
	f.DurationVar(&o.ackWait, "ack-wait", queue.DefaultAckWait, "how long a job whose worker went silent (killed, cut off) waits before it goes to another")
	return cmd
}

func runServe(ctx context.Context, stderr io.Writer, o *serveOptions) error {
	stderr = &lockedWriter{w: stderr} // the log of the jobs and workers, and the command's own lines
	switch {
	case o.onShutdown != "leave" && o.onShutdown != "cancel" && o.onShutdown != "finish":
		return usagef("serve: --on-shutdown %q: want leave, cancel or finish", o.onShutdown)
	case o.workers < 0 || o.workers < 1 && o.nats == "off":
		return usagef("serve: --workers %d: want at least 1 (0 only with NATS: workers elsewhere)", o.workers)
	case o.replicas < 1 || o.replicas > 5:
		return usagef("serve: --nats-replicas %d: want 1 to 5", o.replicas)
	case o.ackWait < time.Second:
		return usagef("serve: --ack-wait %s: want at least 1s", o.ackWait)
	case (o.natsCert == "") != (o.natsKey == ""):
		return usagef("serve: --nats-tls-cert and --nats-tls-key go together")
	case o.natsCert != "" && o.nats != "":
		return usagef("serve: --nats-tls-cert is the embedded NATS server's: with --nats %s, configure TLS in that server", o.nats)
	case o.natsCA != "" && (o.nats == "" || o.nats == "off"):
		return usagef("serve: --nats-ca is the CA of an external --nats server's certificate")
	case o.queue < 1:
		return usagef("serve: --queue %d: want at least 1", o.queue)
	case o.maxUpload < 1:
		return usagef("serve: --max-upload %d: want at least 1 byte", o.maxUpload)
	case o.maxPixels < 1:
		return usagef("serve: --max-pixels %d: want at least 1", o.maxPixels)
	case o.jobTimeout <= 0:
		return usagef("serve: --job-timeout %s: want a positive duration", o.jobTimeout)
	}
	if err := o.mem.resolve("serve"); err != nil {
		return err
	}
	maxMemory, how := o.mem.bytes, o.mem.how
	for _, h := range o.allowHosts {
		if h == "" || strings.ContainsAny(h, ":/[] ") {
			return usagef("serve: --allow-host %q: want a host name, without a port", h)
		}
	}
	hosts := o.allowHosts
	if host, _, err := net.SplitHostPort(o.addr); err == nil && host != "" && net.ParseIP(host) == nil {
		hosts = append(hosts, host) // IP addresses are answered anyway
	}
	if o.data == "" {
		d, err := defaultDataDir()
		if err != nil {
			return err
		}
		o.data = d
	}
	catalog, err := studioModels(ctx, stderr, o)
	if err != nil {
		return err
	}
	logger := log.New(stderr, "deepdream: ", log.LstdFlags)
	var remote *queue.Client
	if o.nats != "off" {
		q, err := startQueue(ctx, stderr, o, catalog, maxMemory, logger.Printf)
		if err != nil {
			return err
		}
		defer q.close()
		remote = q.client
	}
	studio, err := server.New(server.Config{
		DataDir: o.data, Models: catalog, Workers: o.workers, Queue: o.queue,
		MaxUpload: o.maxUpload, MaxPixels: o.maxPixels, JobTimeout: o.jobTimeout,
		MaxMemory: maxMemory, Hosts: hosts, Version: version, Logf: logger.Printf, Remote: remote,
		CancelRemote: o.onShutdown == "cancel",
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		studio.Close(false)
		return fmt.Errorf("serve: %w", err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	names := make([]string, len(catalog))
	for i, m := range catalog {
		names[i] = m.Name
	}
	fmt.Fprintf(stderr, "deepdream: studio at http://%s/ (models: %s; gallery in %s; memory for dreams %.1f GB, %s; Ctrl-C stops it)\n",
		pageHost(addr), strings.Join(names, ", "), o.data, float64(maxMemory)/(1<<30), how)
	if !addr.IP.IsLoopback() {
		fmt.Fprintf(stderr, "deepdream: WARNING: listening on %s, beyond this machine: anyone who can reach it can dream here and see and delete the gallery\n", addr)
	}
	if o.ready != nil {
		o.ready(pageHost(addr))
	}
	hs := studio.HTTPServer()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		studio.Close(false)
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return shutdown(stderr, hs, studio, o.onShutdown, remote != nil)
}

// lockedWriter serialises the writes of goroutines to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// shutdown stops listening at once, ends the dreams as onShutdown asks
// (a second signal leaves or cancels those being finished), then waits
// for the connections. queued says the dreams go to a NATS queue.
func shutdown(stderr io.Writer, hs *http.Server, studio *server.Server, onShutdown string, queued bool) error {
	closed := make(chan error, 1)
	go func() { closed <- hs.Shutdown(context.Background()) }() // closes the listener now
	finish := onShutdown == "finish"
	if n := studio.Running(); n > 0 {
		switch {
		case finish && queued:
			fmt.Fprintf(stderr, "deepdream: stopping: finishing %d dream(s) into the gallery (interrupt again to leave them on the queue for the next start)\n", n)
		case finish:
			fmt.Fprintf(stderr, "deepdream: stopping: finishing %d running dream(s) into the gallery (interrupt again to cancel them)\n", n)
		case onShutdown == "leave" && queued:
			fmt.Fprintf(stderr, "deepdream: stopping: leaving %d dream(s) on the queue for the next start\n", n)
		default:
			fmt.Fprintf(stderr, "deepdream: stopping: cancelling %d running dream(s)\n", n)
		}
	}
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	done := make(chan struct{})
	go func() {
		select {
		case <-again:
			studio.CancelRunning()
		case <-done:
		}
	}()
	studio.Close(finish)
	close(done)
	select {
	case err := <-closed:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	case <-time.After(5 * time.Second):
		hs.Close()
	}
	fmt.Fprintln(stderr, "deepdream: studio stopped")
	return nil
}

// byteCount is a number of bytes with an optional unit.
var byteCount = regexp.MustCompile(`^(?i)\s*([0-9]*\.?[0-9]+)\s*(?:([KMGT])(?:i?B)?|B)?\s*$`)

// parseBytes reads a byte count with an optional unit: 4G, 4GB and 4GiB
// are all 4<<30 bytes; K, M, G and T go by 1024.
func parseBytes(s string) (int64, error) {
	m := byteCount.FindStringSubmatch(s)
	if m == nil {
		return 0, errors.New("want a size such as 4G, 512M or a number of bytes")
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	if m[2] != "" {
		f *= float64(int64(1) << (10 * (1 + strings.Index("KMGT", strings.ToUpper(m[2])))))
	}
	if !(f >= 1) || f >= 1<<62 {
		return 0, errors.New("want a size from 1 byte up")
	}
	return int64(f), nil
}

// pageHost is the host:port to print for the page: the loopback name
// rather than the unspecified address.
func pageHost(a *net.TCPAddr) string {
	if a.IP.IsUnspecified() {
		return fmt.Sprintf("127.0.0.1:%d", a.Port)
	}
	return a.String()
}

// defaultDataDir is deepdream/studio under $XDG_DATA_HOME (~/.local/share)
// on Unix, under the user config directory elsewhere.
func defaultDataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "deepdream", "studio"), nil
	}
	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, ".local", "share", "deepdream", "studio"), nil
		}
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("serve: no data directory; pass --data DIR: %w", err)
	}
	return filepath.Join(d, "deepdream", "studio"), nil
}

// studioModels lists the models the page may choose: --model first (loaded
// now, downloaded if needed), then the registry models whose file is in
// --models DIR or the cache, then the other .onnx files of --models DIR.
func studioModels(ctx context.Context, stderr io.Writer, o *serveOptions) ([]*server.Model, error) {
	if err := defaultFromDir(stderr, o); err != nil {
		return nil, err
	}
	lm, err := o.model.load(ctx, stderr, false, use{preprocess: true, defaultLayer: true})
	if err != nil {
		return nil, err
	}
	net := lm.net
	list := []*server.Model{server.NewModel(lm.entry.Name, lm.entry, net)}
	seen := map[string]bool{lm.entry.Name: true, filepath.Clean(lm.path): true}
	cache, _ := models.CacheDir() // no cache directory: only --models DIR
	registryFiles := map[string]bool{}
	for _, e := range models.Registry() {
		registryFiles[e.File] = true
		for _, dir := range []string{o.modelsDir, cache} {
			if dir == "" || seen[e.Name] {
				continue
			}
			p := e.Path(dir)
			if st, err := os.Stat(p); err == nil && st.Size() == e.Size {
				list = append(list, server.OpenModel(e.Name, &e, p))
				seen[e.Name], seen[filepath.Clean(p)] = true, true
			}
		}
	}
	if o.modelsDir == "" {
		return list, nil
	}
	files, err := filepath.Glob(filepath.Join(o.modelsDir, "*.onnx"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		if _, err := os.Stat(o.modelsDir); err != nil {
			return nil, fmt.Errorf("serve: --models: %w", err)
		}
	}
	for _, p := range files {
		if registryFiles[filepath.Base(p)] || seen[filepath.Clean(p)] || seen[filepath.Base(p)] {
			continue
		}
		e, note, err := models.FileEntry(p, models.Override{})
		if err != nil {
			return nil, err
		}
		if note != "" {
			fmt.Fprintln(stderr, "deepdream:", note)
		}
		list = append(list, server.OpenModel(e.Name, e, p))
		seen[e.Name] = true
	}
	return list, nil
}

// defaultFromDir chooses the studio's default model when --model is not
// given and --models DIR is: the registry's default if its file is in DIR
// or the cache (nothing to download), else the first registry model whose
// file is in DIR, else DIR's first other .onnx file by name. It says which.
// Without a usable file in DIR the registry's default stays, downloaded if
// needed.
func defaultFromDir(stderr io.Writer, o *serveOptions) error {
	if o.modelsDir == "" || o.model.fs.Changed("model") {
		return nil
	}
	cache, _ := models.CacheDir()
	has := func(e *models.Entry, dir string) bool {
		st, err := os.Stat(e.Path(dir))
		return dir != "" && err == nil && st.Size() == e.Size
	}
	def, err := models.Lookup(models.DefaultName)
	if err != nil {
		return err
	}
	if has(def, o.modelsDir) || has(def, cache) {
		return nil
	}
	choice := ""
	for _, e := range models.Registry() {
		if has(&e, o.modelsDir) {
			choice, o.model.dir = e.Name, o.modelsDir
			break
		}
	}
	if choice == "" {
		files, err := filepath.Glob(filepath.Join(o.modelsDir, "*.onnx"))
		if err != nil {
			return err
		}
		registry := map[string]bool{}
		for _, e := range models.Registry() {
			registry[e.File] = true
		}
		for _, f := range files { // sorted by Glob
			if !registry[filepath.Base(f)] {
				choice = f
				break
			}
		}
	}
	if choice == "" {
		return nil
	}
	o.model.name = choice
	fmt.Fprintf(stderr, "deepdream: serve: no --model given and %s is not in %s or the cache: the studio starts with %s\n", models.DefaultName, o.modelsDir, choice)
	return nil
}
