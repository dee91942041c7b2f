package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/motion"
	"github.com/deepdream-go/deepdream/web"
)

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers {"error": message}: the page shows the message (and
// points at the field refused, "field" and "value", when there is one).
func writeError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	var he *httpError
	switch {
	case errors.As(err, &he):
		code = he.code
	case errors.Is(err, errBusy), errors.Is(err, errMemoryBusy):
		code = http.StatusTooManyRequests
		w.Header().Set("Retry-After", "30")
	case errors.Is(err, errClosed):
		code = http.StatusServiceUnavailable
	case errors.Is(err, errGroupCancelled):
		code = http.StatusConflict
	}
	body := map[string]any{"error": err.Error()}
	if he != nil && he.fitMaxSize > 0 {
		body["fit_max_size"] = he.fitMaxSize
	}
	if he != nil && he.field != "" {
		body["field"], body["value"] = he.field, he.value
	}
	writeJSON(w, code, body)
}

// withoutPath is the message of a failed file operation for the page: what
// went wrong ("no space left on device"), not the server's paths. The
// log keeps the whole error.
func withoutPath(err error) string {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err.Error()
	case errors.As(err, &le):
		return le.Err.Error()
	}
	return err.Error()
}

// modelInfo is a model as GET /api/config lists it; its layers, default
// layer among them, are GET /api/models/{name}/layers's to list, once the
// model is open.
type modelInfo struct {
	Name string `json:"name"`
}

// fieldInfo is a field of the dream request (dream.Fields) as GET
// /api/config lists it: the page makes its form from these.
type fieldInfo struct {
	Key     string  `json:"key"`
	Label   string  `json:"label"`
	Help    string  `json:"help"`
	Kind    string  `json:"kind"`
	Default any     `json:"default"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	Zero    string  `json:"zero,omitempty"`
}

// presetInfo is a preset as GET /api/config lists it: with the URL of its
// thumbnail (web/static/presets/NAME.jpg, examples/dog.jpg dreamed with
// it) when the page has one.
type presetInfo struct {
	dream.Preset
	Thumb string `json:"thumb,omitempty"`
}

func presetInfos() []presetInfo {
	var out []presetInfo
	for _, p := range dream.Presets() {
		pi := presetInfo{Preset: p}
		if _, err := fs.Stat(web.Files, "presets/"+p.Name+".jpg"); err == nil {
			pi.Thumb = "/presets/" + p.Name + ".jpg"
		}
		out = append(out, pi)
	}
	return out
}

// pageMaxSize is the page's initial max size: a phone photo at full size
// takes a CPU many minutes per octave, a 1024-pixel copy a few.
const pageMaxSize = 1024

// handleConfig answers what the page needs to draw its form: the models,
// the fields of a dream request with their defaults and bounds, the
// presets (dream.Presets: values of those fields by their keys, and a
// thumbnail), and the studio's limits.
func (s *Server) handleConfig(w http.ResponseWriter, _ *http.Request) {
	var ms []modelInfo
	for _, m := range s.cfg.Models {
		ms = append(ms, modelInfo{Name: m.Name})
	}
	var fields []fieldInfo
	for _, f := range dream.Fields() {
		fi := fieldInfo{Key: f.Key, Label: f.Label, Help: f.Help, Kind: f.Kind, Default: f.Default, Min: f.Min, Max: f.Max, Zero: f.Zero}
		if f.Key == "max_size" {
			fi.Default = pageMaxSize
		}
		fields = append(fields, fi)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"version": s.cfg.Version,
		"models":  ms,
		"fields":  fields,
		"motion":  motionInfos(),
		"presets": presetInfos(),
		"limits": map[string]any{
			"max_upload": s.cfg.MaxUpload, "max_pixels": s.cfg.MaxPixels, "workers": s.cfg.Workers,
			"queue": s.cfg.Queue, "job_timeout_s": s.cfg.JobTimeout.Seconds(), "max_memory": s.cfg.MaxMemory,
		},
	})
}

// pathModel opens the model the path names ({name}), answering 404 when
// the studio has no such model, or the error of opening it; ok says
// whether the handler goes on.
func (s *Server) pathModel(w http.ResponseWriter, r *http.Request) (m *Model, net *dream.Network, layers []Layer, ok bool) {
	m = s.models[r.PathValue("name")]
	if m == nil {
		writeError(w, errorf(http.StatusNotFound, "there is no model %q in this studio", r.PathValue("name")))
		return nil, nil, nil, false
	}
	net, layers, err := s.loadModel(m)
	if err != nil {
		writeError(w, err)
		return nil, nil, nil, false
	}
	return m, net, layers, true
}

// handleLayers lists a model's dreamable layers with their channel counts
// (opening the model on first use).
func (s *Server) handleLayers(w http.ResponseWriter, r *http.Request) {
	m, net, layers, ok := s.pathModel(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"model": m.Name, "default_layer": net.DefaultLayer, "layers": layers})
}

// handleClasses lists a model's class names (dream.Profile.Classes), for
// the page to suggest, and says why the model cannot dream classes, when
// it cannot ("unavailable"). Names the model's classifier does not use
// (it has another number of classes) are not listed: its classes are
// then given by index.
func (s *Server) handleClasses(w http.ResponseWriter, r *http.Request) {
	m, net, _, ok := s.pathModel(w, r)
	if !ok {
		return
	}
	resolve := func(spec string) error {
		_, err := net.Resolve(&dream.Request{Classes: []string{spec}})
		var ce *dream.ClassError
		if errors.As(err, &ce) {
			return ce.Err
		}
		return err
	}
	out := map[string]any{"model": m.Name, "classes": []string{}}
	if err := resolve("0"); err != nil {
		out["unavailable"] = err.Error()
	} else if len(net.Classes) > 0 && resolve(net.Classes[0]) == nil {
		out["classes"] = net.Classes
	}
	writeJSON(w, http.StatusOK, out)
}

// handleSubmit queues a dream: POST /api/jobs, multipart with a photo (or
// source, a gallery ID) and the parameters. 202 with the job's status.
//
// The memory of each file (the photo, the request's images) is reserved
// before it is read (at the upload limit), and the upload must keep a pace
// (timeouts.paced). Only the files' headers are read here: the job
// decodes them, once.
func (s *Server) handleSubmit(w http.ResponseWriter, r *http.Request) {
	reserved, err := s.q.reserve(s.cfg.MaxUpload) // before reading an upload that would be refused
	if err != nil {
		writeError(w, err)
		return
	}
	defer s.q.release(reserved)
	files := int64(1 + len(imageFields)) // the photo, and an image for each image field
	r.Body = http.MaxBytesReader(w, s.timeouts.paced(w, r.Body), files*s.cfg.MaxUpload+maxFields*maxFieldBytes+64<<10)
	f, err := readForm(r, s.cfg.MaxUpload, func() error { return s.q.grow(reserved, s.cfg.MaxUpload) })
	// The answer has its own time from now, however long the upload took.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.timeouts.request))
	if err != nil {
		writeError(w, err)
		return
	}
	j, err := s.newJob(f)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.q.push(j, reserved); err != nil {
		writeError(w, err)
		return
	}
	st, _, _, _ := j.snapshot()
	s.logf("job %s queued at %d: %s %v, about %d MB of memory at its peak", j.id, st.Position, j.model.Name, st.Layers, (j.fileBytes+j.peak)>>20)
	w.Header().Set("Location", "/api/jobs/"+j.id)
	writeJSON(w, http.StatusAccepted, st)
}

func (s *Server) findJob(w http.ResponseWriter, r *http.Request) *job {
	j := s.job(r.PathValue("id"))
	if j == nil {
		writeError(w, errorf(http.StatusNotFound, "there is no dream %q (finished dreams are in the gallery)", r.PathValue("id")))
	}
	return j
}

func (s *Server) handleJob(w http.ResponseWriter, r *http.Request) {
	if j := s.findJob(w, r); j != nil {
		st, _, _, _ := j.snapshot()
		writeJSON(w, http.StatusOK, st)
	}
}

// handleCancel cancels a waiting or running dream; nothing of it is kept.
func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	j := s.findJob(w, r)
	if j == nil {
		return
	}
	if !s.q.cancel(j) {
		writeError(w, errorf(http.StatusConflict, "this dream has already ended"))
		return
	}
	s.logf("job %s cancelled", j.id)
	st, _, _, _ := j.snapshot()
	writeJSON(w, http.StatusOK, st)
}

// handleEvents streams a job's status as server-sent events ("status"),
// one after each change, with the latest preview as a JPEG data URL when
// there is a new one. The stream ends after the final status. A client that
// goes away changes nothing: its dream goes on into the gallery.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	j := s.findJob(w, r)
	if j == nil {
		return
	}
	send := s.eventStream(w)
	j.watchers.Add(1)
	defer j.watchers.Add(-1)
	sent := 0
	keepAlive := time.NewTicker(s.timeouts.ping)
	defer keepAlive.Stop()
	for {
		st, preview, pseq, changed := j.snapshot()
		if pseq != sent && preview != nil {
			st.Preview, sent = previewURL(preview), pseq
		}
		data, _ := json.Marshal(st)
		if !send("event: status\ndata: %s\n\n", data) {
			return
		}
		if st.finished() {
			return
		}
	wait:
		select {
		case <-changed:
		case <-keepAlive.C:
			if !send(": keep-alive\n\n") {
				return
			}
			goto wait
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
}

// handleJobResult serves the result of a dream not kept in the gallery
// (an explorer tile); a kept one is redirected to its entry.
func (s *Server) handleJobResult(w http.ResponseWriter, r *http.Request) {
	j := s.findJob(w, r)
	if j == nil {
		return
	}
	st, _, _, _ := j.snapshot()
	j.mu.Lock()
	result := j.result
	j.mu.Unlock()
	switch {
	case result != nil:
		s.download(w, int64(len(result)))
		ctype := "image/png"
		if motion.Animated(j.kind) {
			ctype = "video/mp4"
		}
		w.Header().Set("Content-Type", ctype)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(result))
	case st.Entry != "":
		http.Redirect(w, r, st.Result, http.StatusSeeOther)
	case st.Client != "":
		writeError(w, errorf(http.StatusNotFound, "this dream is %s's: its result went to it", st.Client))
	case st.State == stateDone:
		writeError(w, errorf(http.StatusGone, "this dream's result is no longer kept: the studio keeps only its latest results in memory; dream it again"))
	default:
		writeError(w, errorf(http.StatusNotFound, "this dream has no result (it is %s)", st.State))
	}
}

// download gives the answer of a file of n bytes the time it takes at the
// studio's minimum pace.
func (s *Server) download(w http.ResponseWriter, n int64) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.timeouts.forBytes(n)))
}

// entryView is a gallery entry with the URLs of its files: Images has the
// URL of each image of its request (a mask, the guide) by the name the
// request gives it.
type entryView struct {
	*Entry
	Result   string            `json:"result"`
	Thumb    string            `json:"thumb"`
	Original string            `json:"original"`
	Images   map[string]string `json:"images,omitempty"`
}

func view(e *Entry) entryView {
	base := "/api/gallery/" + e.ID + "/"
	v := entryView{Entry: e, Result: base + e.resultFile(), Thumb: base + fileThumb, Original: base + fileOriginal}
	for name, im := range e.Params.Request.Images {
		if v.Images == nil {
			v.Images = map[string]string{}
		}
		v.Images[name] = base + imageFile(im.SHA256)
	}
	return v
}

func (s *Server) handleGallery(w http.ResponseWriter, _ *http.Request) {
	entries := s.gallery.list()
	out := make([]entryView, len(entries))
	for i, e := range entries {
		out[i] = view(e)
	}
	skipped := s.gallery.skipped
	if skipped == nil {
		skipped = []Skipped{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": out, "skipped": skipped})
}

func (s *Server) findEntry(w http.ResponseWriter, r *http.Request) *Entry {
	e := s.entry(r.PathValue("id"))
	if e == nil {
		writeError(w, errorf(http.StatusNotFound, "there is no gallery entry %q", r.PathValue("id")))
	}
	return e
}

func (s *Server) handleEntry(w http.ResponseWriter, r *http.Request) {
	if e := s.findEntry(w, r); e != nil {
		writeJSON(w, http.StatusOK, view(e))
	}
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	e := s.findEntry(w, r)
	if e == nil {
		return
	}
	if _, err := s.gallery.remove(e.ID); err != nil {
		s.logf("%v", err)
		writeError(w, errorf(http.StatusInternalServerError, "deleting the entry: %s", withoutPath(err)))
		return
	}
	s.logf("gallery entry %s deleted", e.ID)
	w.WriteHeader(http.StatusNoContent)
}

// handleEntryFile serves an entry's original, result, thumbnail or one
// of its images; the result with ?download=1 as an attachment.
func (s *Server) handleEntryFile(w http.ResponseWriter, r *http.Request) {
	e := s.findEntry(w, r)
	if e == nil {
		return
	}
	var file, ctype string
	switch r.PathValue("file") {
	case e.resultFile():
		file, ctype = e.resultFile(), map[string]string{fileResult: "image/png", fileVideo: "video/mp4"}[e.resultFile()]
	case fileThumb:
		file, ctype = fileThumb, "image/jpeg"
	case fileOriginal:
		file, ctype = fileOriginal, e.originalType()
	default:
		if e.hasImage(r.PathValue("file")) {
			file = r.PathValue("file") // its type is sniffed from its first bytes (ServeContent)
			break
		}
		writeError(w, errorf(http.StatusNotFound, "a gallery entry has no file %q", r.PathValue("file")))
		return
	}
	f, err := os.Open(s.gallery.path(e, file))
	if err != nil {
		s.logf("gallery entry %s: %v", e.ID, err)
		writeError(w, errorf(http.StatusNotFound, "gallery entry %s has no %s: %s", e.ID, file, withoutPath(err)))
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		s.download(w, fi.Size())
	}
	if ctype != "" {
		w.Header().Set("Content-Type", ctype)
	}
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable") // entries never change
	if file == e.resultFile() && r.URL.Query().Get("download") == "1" {
		w.Header().Set("Content-Disposition", `attachment; filename="deepdream-`+e.ID+path.Ext(file)+`"`)
	}
	http.ServeContent(w, r, "", e.Created, f)
}
