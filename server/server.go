package server

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/motion"
	jobqueue "github.com/deepdream-go/deepdream/queue"
	"github.com/deepdream-go/deepdream/web"
)

// Defaults of Config.
const (
	DefaultWorkers    = 1
	DefaultQueue      = 16
	DefaultMaxUpload  = 25 << 20
	DefaultJobTimeout = 30 * time.Minute
)

// maxResultsBytes bounds the results kept in memory (Config.MaxMemory).
const maxResultsBytes = 64 << 20

// Config sets up a Server. Zero fields take the defaults.
type Config struct {
	// DataDir holds the gallery (required).
	DataDir string
	// Models are the networks the page may choose; the first is the
	// default (at least one).
	Models []*Model
	// Workers is how many dreams run at once; Queue how many more may
	// wait, beyond which a submission is answered "busy" (429).
	Workers, Queue int
	// MaxUpload bounds the photo in bytes, MaxPixels its pixel count
	// (checked on the header, before decoding).
	MaxUpload int64
	MaxPixels int
	// JobTimeout bounds one dream.
	JobTimeout time.Duration
	// MaxMemory is the memory budget of the dreams in bytes (0:
	// DefaultMaxMemory): a job whose estimated peak does not fit is
	// refused, and jobs start only when their peak fits beside the
	// running ones. An eighth of it, up to 64 MB, keeps the results of
	// the jobs kept out of the gallery.
	MaxMemory int64
	// Hosts are the host names the studio answers to besides localhost
	// and IP addresses: the names the page may be opened by. A request
	// naming another host (a page of another site whose name was made to
	// resolve to this machine: DNS rebinding) is refused.
	Hosts []string
	// Version is recorded in the dreams' parameters.
	Version string
	// Logf reports jobs and failures; nil means log.Printf.
	Logf func(format string, args ...any)
	// Remote, when set, sends the dreams to the workers of a NATS queue
	// instead of dreaming them here (Workers is then ignored): up to Queue
	// jobs are sent at once, as many more wait here. MaxMemory still
	// bounds the largest dream accepted; the workers' budgets decide
	// which of them takes it. New takes back the jobs a studio on the
	// same data directory left on the queue (takeBack).
	Remote *jobqueue.Client
	// CancelRemote makes Close cancel the jobs sent to Remote, as it
	// cancels its own. By default Close leaves them on the queue: the
	// workers go on dreaming them, and the studio's next start takes
	// them back.
	CancelRemote bool
}

// Server is the web studio: the page, its API, the job queue and the
// gallery. It is an http.Handler.
type Server struct {
	cfg      Config
	hosts    map[string]bool // Config.Hosts, lower case
	timeouts timeouts
	models   map[string]*Model
	q        *queue
	gallery  *gallery
	mux      *http.ServeMux
	// id tells this studio's jobs on a queue other clients share
	// (studioID; with Config.Remote only).
	id string

	jobsCtx    context.Context
	cancelJobs context.CancelFunc
	// others are other clients' jobs on the queue of Config.Remote.
	others    otherJobs
	workers   sync.WaitGroup
	closing   chan struct{} // closed when the event streams must end
	closeOnce sync.Once

	// started, if set, is called as a worker takes a job (tests hold jobs
	// there to look at the queue).
	started func(*job)
}

// New opens the gallery under cfg.DataDir and starts the workers.
func New(cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("server: no data directory")
	}
	if len(cfg.Models) == 0 {
		return nil, errors.New("server: no model to dream with")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Remote != nil {
		cfg.Workers = cfg.Queue // the jobs sent at once
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.MaxPixels <= 0 {
		cfg.MaxPixels = imageio.DefaultMaxPixels
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = DefaultJobTimeout
	}
	if cfg.MaxMemory <= 0 {
		cfg.MaxMemory, _ = DefaultMaxMemory()
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	results := min(maxResultsBytes, cfg.MaxMemory/8)
	if cfg.MaxMemory-results < cfg.MaxUpload {
		return nil, fmt.Errorf("server: a memory budget of %s holds no photo of %s: give the studio more memory or take smaller photos", byteSize(cfg.MaxMemory), byteSize(cfg.MaxUpload))
	}
	s := &Server{
		cfg: cfg, hosts: map[string]bool{"localhost": true}, timeouts: defaultTimeouts,
		models: map[string]*Model{}, q: newQueue(cfg.Queue, cfg.MaxMemory-results, results), closing: make(chan struct{}),
	}
	for _, h := range cfg.Hosts {
		s.hosts[strings.ToLower(h)] = true
	}
	for _, m := range cfg.Models {
		if _, dup := s.models[m.Name]; dup {
			return nil, fmt.Errorf("server: two models are called %q", m.Name)
		}
		s.models[m.Name] = m
	}
	g, err := openGallery(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	// The work directories of the zoom and video jobs dreamed here: a job
	// does not outlive the studio (a worker's, given back to the queue,
	// resumes in its worker's own).
	if err := os.RemoveAll(filepath.Join(cfg.DataDir, "work")); err != nil {
		return nil, fmt.Errorf("server: clearing %s: %w", filepath.Join(cfg.DataDir, "work"), err)
	}
	s.gallery = g
	for _, sk := range g.skipped {
		s.logf("gallery: skipping %s: %s", filepath.Join(g.dir, sk.Name), sk.Reason)
	}
	if cfg.Remote != nil {
		if s.id, err = studioID(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	s.routes()
	s.jobsCtx, s.cancelJobs = context.WithCancel(context.Background())
	for i := range cfg.Workers {
		s.workers.Add(1)
		name := fmt.Sprintf("in-process %d", i+1)
		run := s.run
		if cfg.Remote != nil {
			name, run = "", s.runRemote // the job's worker says when it starts
		}
		go func() {
			defer s.workers.Done()
			for j := s.q.next(name); j != nil; j = s.q.next(name) {
				run(j)
			}
		}()
	}
	if cfg.Remote != nil {
		s.others = otherJobs{jobs: map[string]*job{}, last: map[string]jobqueue.Event{}, ignored: map[string]bool{}}
		cfg.Remote.Others(s.otherEvent)
		s.takeBack()
	}
	return s, nil
}

func (s *Server) logf(format string, args ...any) { s.cfg.Logf(format, args...) }

// Close stops the studio: it takes no new dreams, cancels the waiting
// ones, then either cancels the running ones (finish false: they stop
// within a step and write nothing) or lets them finish into the gallery,
// and ends the event streams. It returns when no job runs any more. The
// jobs sent to Config.Remote it would cancel it leaves on the queue for
// the next start, unless Config.CancelRemote.
func (s *Server) Close(finish bool) {
	s.closeOnce.Do(func() {
		if s.cfg.Remote != nil {
			s.cfg.Remote.Others(nil)
		}
		s.q.close()
		if !finish {
			s.cancelJobs()
		}
		s.workers.Wait()
		s.cancelJobs()
		close(s.closing)
	})
}

// CancelRunning cancels the running dreams (or leaves those on the
// queue, as Close does), e.g. on a second interrupt while Close(true)
// waits for them.
func (s *Server) CancelRunning() { s.cancelJobs() }

// Running reports how many dreams are running.
func (s *Server) Running() int { return s.q.runningCount() }

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(web.Files))
	mux.HandleFunc("GET /api/config", s.handleConfig)
	mux.HandleFunc("GET /api/estimate", s.handleEstimate)
	mux.HandleFunc("GET /api/models/{name}/layers", s.handleLayers)
	mux.HandleFunc("GET /api/models/{name}/classes", s.handleClasses)
	mux.HandleFunc("GET /api/jobs", s.handleJobs)
	mux.HandleFunc("GET /api/jobs/events", s.handleJobsEvents)
	mux.HandleFunc("DELETE /api/groups/{group}", s.handleCancelGroup)
	mux.HandleFunc("POST /api/jobs", s.handleSubmit)
	mux.HandleFunc("GET /api/jobs/{id}", s.handleJob)
	mux.HandleFunc("DELETE /api/jobs/{id}", s.handleCancel)
	mux.HandleFunc("GET /api/jobs/{id}/events", s.handleEvents)
	mux.HandleFunc("GET /api/jobs/{id}/result", s.handleJobResult)
	mux.HandleFunc("GET /api/gallery", s.handleGallery)
	mux.HandleFunc("GET /api/gallery/{id}", s.handleEntry)
	mux.HandleFunc("DELETE /api/gallery/{id}", s.handleDelete)
	mux.HandleFunc("GET /api/gallery/{id}/{file}", s.handleEntryFile)
	s.mux = mux
}

// ServeHTTP serves the page and the API. It answers only requests for
// the hosts the studio is reached by, and refuses changes requested by
// other sites' pages: a browser on this machine can reach 127.0.0.1 from
// any site it visits, and a site can make its own name resolve to it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if !s.knownHost(r.Host) {
		writeError(w, errorf(http.StatusMisdirectedRequest, "this studio answers to localhost, IP addresses and the names given with --allow-host, not to %q", r.Host))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !sameOrigin(r) {
		writeError(w, errorf(http.StatusForbidden, "requests from other sites are refused"))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// knownHost reports whether a request's Host names this studio: an IP
// address (a page cannot rebind an address: its origin is the address
// itself), localhost, or one of Config.Hosts.
func (s *Server) knownHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil { // no port
		host = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return s.hosts[strings.ToLower(host)]
}

// sameOrigin reports whether a request comes from this server's own page
// (or from a client that sends no Origin, such as curl).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// defaultModel is the model used when the page names none.
func (s *Server) defaultModel() *Model { return s.cfg.Models[0] }

// formRequest reads the form's model (the default one when it names
// none) and request, and checks the request against the model (opening
// it on first use): the part of a submission that POST /api/dream and
// GET /api/estimate share.
func (s *Server) formRequest(f *form) (*Model, *dream.Network, dream.Request, error) {
	m := s.defaultModel()
	if name := f.get("model"); name != "" {
		if m = s.models[name]; m == nil {
			return nil, nil, dream.Request{}, errorf(http.StatusBadRequest, "there is no model %q in this studio (it offers: %s)", name, strings.Join(s.modelNames(), ", "))
		}
	}
	req, err := f.request()
	if err != nil {
		return nil, nil, dream.Request{}, err
	}
	net, _, err := s.loadModel(m)
	if err != nil {
		return nil, nil, dream.Request{}, err
	}
	if _, err := net.Resolve(&req); err != nil {
		return nil, nil, dream.Request{}, requestError(err)
	}
	return m, net, req, nil
}

// newJob checks a submission and makes its job: first the request as
// such, then against the model, then the headers of the photo and of the
// request's images, then its memory.
func (s *Server) newJob(f *form) (*job, error) {
	m, net, req, err := s.formRequest(f)
	if err != nil {
		return nil, err
	}
	tags, err := f.tags()
	if err != nil {
		return nil, err
	}
	moving := motion.Animated(tags.kind)
	var opts motion.Options
	if moving {
		if opts, err = f.motion(tags.kind); err != nil {
			return nil, err
		}
	}
	photo, format, clip := f.photo, f.format, f.clip
	if f.source != "" {
		e := s.entry(f.source)
		if e == nil {
			return nil, errorf(http.StatusNotFound, "there is no gallery entry %q to dream again", f.source)
		}
		if photo, err = os.ReadFile(s.gallery.path(e, fileOriginal)); err != nil {
			s.logf("gallery entry %s: %v", e.ID, err)
			return nil, errorf(http.StatusInternalServerError, "the original of gallery entry %s cannot be read: %s", e.ID, withoutPath(err))
		}
		format, clip = e.Format, e.Kind == motion.Video
	}
	switch {
	case tags.kind == motion.Video && !clip:
		return nil, errorf(http.StatusBadRequest, "a video job dreams a clip: send it as the form's clip file, not a photo")
	case clip && tags.kind != motion.Video:
		return nil, errorf(http.StatusBadRequest, "a clip is dreamed by a video job (kind video), not a %s", tags.kind)
	}
	mem := dreamMemory{images: f.images}
	frames := opts.Frames // a zoom's; a video's, as its clip says
	if clip {
		mem.photo, frames, err = s.probeClip(photo, opts)
	} else {
		mem.photo, err = readHeader("photo", photo, s.cfg.MaxPixels)
	}
	if err != nil {
		return nil, err
	}
	for _, u := range f.images {
		if u.header, err = readHeader(u.key, u.data, s.cfg.MaxPixels); err != nil {
			return nil, err
		}
	}
	mem.net = net // admit's estimate refuses a request the network cannot dream at this size
	peak, err := s.admit(mem, req)
	if err != nil {
		return nil, err
	}
	if moving {
		if peak, err = s.admitMotion(tags.kind, mem, req, peak); err != nil {
			return nil, err
		}
	}
	estimate := peak
	if s.cfg.Remote != nil {
		peak = 0 // dreamed elsewhere: only its files take memory here
	}
	rec := dream.Record{Version: s.cfg.Version, Model: m.Name, ModelSHA256: m.Entry.SHA256, Request: req}
	j := s.makeJob(newID(), m, rec, tags, f.get("gallery") != "0", format, time.Now())
	j.original, j.images = photo, f.images
	j.fileBytes, j.peak, j.estimate = mem.fileBytes(), peak, estimate
	if moving {
		j.motion = opts
		j.setFrames(frames)
	}
	return j, nil
}

// makeJob makes a queued job of rec for m (nil: a job taken back whose
// model the studio no longer offers), its status said by tags; keep says
// whether its result goes to the gallery, format is the photo's (a
// clip's).
func (s *Server) makeJob(id string, m *Model, rec dream.Record, tags jobTags, keep bool, format string, created time.Time) *job {
	j := &job{id: id, model: m, record: rec, format: format, keep: keep, kind: tags.kind, changed: make(chan struct{})}
	j.ctx, j.cancel = context.WithCancel(s.jobsCtx)
	req := rec.Request
	j.status = Status{
		ID: j.id, State: stateQueued, Kind: tags.kind, Group: tags.group, Owner: tags.owner,
		Created: created.UTC().Truncate(time.Millisecond), Model: rec.Model, Layers: req.Layers, Gallery: keep,
		Octaves: req.Octaves, Iterations: req.Iterations, Steps: req.Octaves * req.Iterations,
	}
	return j
}

// setFrames makes the status of a zoom or video job count its frames.
func (j *job) setFrames(frames int) {
	req := j.record.Request
	j.status.Frames, j.status.Steps = frames, frames*req.Octaves*req.Iterations
}

// loadModel opens m on first use; why it cannot be goes to the log, the
// page learns only that it cannot (the error names the model's path).
func (s *Server) loadModel(m *Model) (*dream.Network, []Layer, error) {
	net, layers, err := m.load(s.logf)
	if err != nil {
		s.logf("model %s: %v", m.Name, err)
		return nil, nil, errorf(http.StatusInternalServerError, "model %s cannot be loaded; the studio's log says why", m.Name)
	}
	return net, layers, nil
}

func (s *Server) modelNames() []string {
	var names []string
	for _, m := range s.cfg.Models {
		names = append(names, m.Name)
	}
	return names
}

// entry returns the gallery entry with a well-formed id, or nil.
func (s *Server) entry(id string) *Entry {
	if !validID.MatchString(id) {
		return nil
	}
	return s.gallery.get(id)
}

// job returns the job with a well-formed id, or nil.
func (s *Server) job(id string) *job {
	if !validID.MatchString(id) {
		return nil
	}
	return s.q.get(id)
}
