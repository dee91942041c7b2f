package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/models"
	"github.com/deepdream-go/deepdream/motion"
	"github.com/deepdream-go/deepdream/server"
	"github.com/deepdream-go/deepdream/video"
)

// unusualMotion is a value of each option of motion.Fields other than
// its default (a field added to the table fails TestEveryMotionFieldIsEverywhere
// until it has one).
var unusualMotion = map[string]string{
	"frames": "3", "zoom": "1.2", "rotate": "-4", "pan": "2,-1", "start": "0.25", "duration": "0.5",
	"fps": "12", "blend": "0.3", "flow": "false",
}

// TestEveryMotionFieldIsEverywhere sets every option of the zoom and the
// video (motion.Fields) to a value of its own, on the command line (its
// flag, recorded in each frame's record) and in the studio (listed by
// /api/config, read from the form, kept in the gallery entry and in the
// MP4's record).
func TestEveryMotionFieldIsEverywhere(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 40, 30)
	frames := writeFrames(t, 12, 32, 24) // 12 frames a second: 1 s
	inputs := map[string]string{motion.Zoom: photo, motion.Video: frames}
	want := map[string]motion.Options{motion.Zoom: motion.Defaults(), motion.Video: motion.Defaults()}
	forms := map[string][]string{}
	for _, kind := range []string{motion.Zoom, motion.Video} {
		args := []string{kind, inputs[kind], "-o", filepath.Join(dir, kind), "--model", model, "--octaves", "1", "--iterations", "1", "-q"}
		o := want[kind]
		for _, f := range motion.Fields() {
			v, ok := unusualMotion[f.Key]
			if !ok {
				t.Fatalf("the option %s has no unusual value in this test", f.Key)
			}
			if v == f.Default {
				t.Fatalf("the unusual value of %s is its default", f.Key)
			}
			if !f.For(kind) {
				continue
			}
			if err := f.Set(&o, v); err != nil {
				t.Fatal(err)
			}
			forms[kind] = append(forms[kind], f.Key+"="+v)
			if f.Negated {
				args = append(args, "--"+f.Flag) // --no-flow: flow false
			} else {
				args = append(args, "--"+f.Flag+"="+v)
			}
		}
		want[kind] = o
		if code, _, errOut := cli(t, context.Background(), args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		_, recs := readFrames(t, filepath.Join(dir, kind))
		if len(recs) == 0 {
			t.Fatalf("%s: no frame", kind)
		}
		checkMotion(t, kind+" on the command line", kind, recs[0][kind], o)
	}

	// The studio.
	needFFmpeg(t)
	e, _, err := models.FileEntry(model, models.Override{})
	if err != nil {
		t.Fatal(err)
	}
	studio, err := server.New(server.Config{DataDir: t.TempDir(), Models: []*server.Model{server.OpenModel("net", e, model)}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(studio)
	defer hs.Close()
	defer studio.Close(false)
	var cfg struct{ Motion []struct{ Key string } }
	getJSON(t, hs.URL+"/api/config", &cfg)
	for _, f := range motion.Fields() {
		if !slices.ContainsFunc(cfg.Motion, func(c struct{ Key string }) bool { return c.Key == f.Key }) {
			t.Errorf("/api/config lacks the motion option %s", f.Key)
		}
	}
	clip := filepath.Join(dir, "clip.mp4")
	if out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=32x24:rate=12", "-frames:v", "12",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", clip).CombinedOutput(); err != nil {
		t.Fatalf("making a clip: %v: %s", err, out)
	}
	files := map[string][2]string{motion.Zoom: {"photo", photo}, motion.Video: {"clip", clip}}
	for _, kind := range []string{motion.Zoom, motion.Video} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for _, kv := range append(forms[kind], "kind="+kind, "octaves=1", "iterations=1") {
			k, v, _ := strings.Cut(kv, "=")
			mw.WriteField(k, v)
		}
		pw, _ := mw.CreateFormFile(files[kind][0], "any name")
		data, _ := os.ReadFile(files[kind][1])
		pw.Write(data)
		mw.Close()
		res, err := http.Post(hs.URL+"/api/jobs", mw.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		var st server.Status
		json.NewDecoder(res.Body).Decode(&st)
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("POST /api/jobs (%s): %s %+v", kind, res.Status, st)
		}
		for deadline := time.Now().Add(20 * time.Second); st.State != "done"; time.Sleep(10 * time.Millisecond) {
			if st.State == "failed" || time.Now().After(deadline) {
				t.Fatalf("the studio's %s: %+v", kind, st)
			}
			getJSON(t, hs.URL+"/api/jobs/"+st.ID, &st)
		}
		var entry server.Entry
		getJSON(t, hs.URL+"/api/gallery/"+st.ID, &entry)
		o := want[kind]
		if kind == motion.Video {
			o.FPS = want[motion.Zoom].FPS // the clip's own, 12, as the record keeps it
		}
		mp4 := filepath.Join(dir, kind+".mp4")
		res, err = http.Get(hs.URL + "/api/gallery/" + st.ID + "/result.mp4")
		if err != nil {
			t.Fatal(err)
		}
		data, _ = io.ReadAll(res.Body)
		res.Body.Close()
		os.WriteFile(mp4, data, 0o644)
		comment, err := video.Comment(context.Background(), mp4)
		var rec map[string]any
		if err != nil || json.Unmarshal([]byte(comment), &rec) != nil {
			t.Fatalf("the %s's MP4 record %q: %v", kind, comment, err)
		}
		checkMotion(t, kind+" in the studio's MP4", kind, rec[kind], o)
		motionOf := map[string]any{}
		for k, v := range entry.Motion {
			motionOf[k] = v
		}
		if _, ok := motionOf["fps"]; !ok && kind == motion.Video {
			motionOf["fps"] = o.FPS.String() // a video's entry leaves its clip's rate to the MP4
		}
		checkMotion(t, kind+" in the studio's gallery", kind, motionOf, o)
	}
}

// checkMotion compares the options of a kind recorded (a record's
// motion, decoded as JSON) with those wanted, by their JSON.
func checkMotion(t *testing.T, what, kind string, got any, want motion.Options) {
	t.Helper()
	m, ok := got.(map[string]any)
	if !ok {
		t.Fatalf("%s: no motion in the record: %v", what, got)
	}
	for _, f := range motion.Fields() {
		if !f.For(kind) {
			continue
		}
		g, _ := json.Marshal(m[f.Key])
		w, _ := json.Marshal(f.Value(&want))
		if string(g) != string(w) {
			t.Errorf("%s: %s is %s, want %s", what, f.Key, g, w)
		}
	}
}
