package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/models"
	"github.com/deepdream-go/deepdream/onnx"
	"github.com/deepdream-go/deepdream/server"
)

// unusualValue returns a value of field f other than its default, within
// its bounds, as a flag or a form gives it (layers and classes: of
// writeONNX's model with a classifier, classNet). An "image" field names
// a file: its callers write one.
func unusualValue(f dream.Field) string {
	switch f.Kind {
	case "layers":
		return "r:1=0.5"
	case "classes":
		return "2=-0.5"
	case "bool":
		return strconv.FormatBool(!f.Default.(bool))
	case "uint":
		return strconv.FormatUint(math.MaxUint64, 10)
	}
	v := f.Min
	if fmt.Sprint(v) == fmt.Sprint(f.Default) {
		v = f.Max
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// classNet writes writeONNX's model with a classifier of 4 classes, the
// global mean of r's channels.
func classNet(t testing.TB) string {
	return writeONNX(t,
		&onnx.Node{OpType: "GlobalAveragePool", Inputs: []string{"r"}, Outputs: []string{"pool"}},
		&onnx.Node{OpType: "Flatten", Inputs: []string{"pool"}, Outputs: []string{"scores"}})
}

// TestEveryRequestFieldIsEverywhere checks the one table of dream options
// against everything made from it: each field is a flag of dream, a field
// of the studio's form, an entry of /api/config, and a key of the record
// embedded in the dream, which --from reads back. An "image" field (the
// mask, the guide) is a file on the command line, recorded by its base
// name and sha256, and a file part of the studio's form, which the studio
// names by the field's key and the image's format: here both mask.png and
// guide.png, so that both record the same request. (The page's controls,
// one for every field of /api/config, are TestStudioInBrowserCreativeControls'
// to check.)
func TestEveryRequestFieldIsEverywhere(t *testing.T) {
	model := classNet(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 40, 30)
	images := t.TempDir() // --from finds them there by --images
	want := dream.Defaults()
	want.Images = map[string]dream.Image{}
	args := []string{"dream", photo, "-o", filepath.Join(dir, "a.png"), "--model", model, "-q"}
	form := map[string]string{}
	files := map[string]string{} // the studio's file parts: the image fields' files
	for i, f := range dream.Fields() {
		if f.Kind == "image" { // a file of its own, of another size, for each
			file, sum := writeMask(t, filepath.Join(images, f.Key+".png"), 40-2*i, 30-i)
			if err := f.Set(&want, filepath.Base(file)); err != nil {
				t.Fatal(err)
			}
			want.Images[filepath.Base(file)] = dream.Image{SHA256: sum}
			args = append(args, "--"+f.Flag+"="+file)
			files[f.Key] = file
			continue
		}
		v := unusualValue(f)
		if err := f.Set(&want, v); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--"+f.Flag+"="+v)
		form[f.Key] = v
	}
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}

	// The command line: every field a flag, recorded, read back by --from.
	if code, _, errOut := cli(t, context.Background(), args...); code != 0 {
		t.Fatalf("dream with every flag: exit %d: %s", code, errOut)
	}
	if code, _, errOut := cli(t, context.Background(), "dream", photo, "-o", filepath.Join(dir, "b.png"), "--model", model, "-q", "--from", filepath.Join(dir, "a.png"), "--images", images); code != 0 {
		t.Fatalf("dream --from: exit %d: %s", code, errOut)
	}
	for _, out := range []string{"a.png", "b.png"} {
		if got := embedded(t, filepath.Join(dir, out)); !reflect.DeepEqual(got.Request, want) {
			t.Errorf("%s records %+v, want %+v", out, got.Request, want)
		}
	}

	// The studio: every field in /api/config and read from the form, the
	// images from its files.
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
	var cfg struct{ Fields []struct{ Key string } }
	getJSON(t, hs.URL+"/api/config", &cfg)
	for _, f := range dream.Fields() {
		if !slices.ContainsFunc(cfg.Fields, func(c struct{ Key string }) bool { return c.Key == f.Key }) {
			t.Errorf("/api/config lacks the field %s", f.Key)
		}
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range form {
		mw.WriteField(k, v)
	}
	files["photo"] = photo
	for key, file := range files {
		pw, _ := mw.CreateFormFile(key, "any name.png") // the studio takes no name from the client
		data, _ := os.ReadFile(file)
		pw.Write(data)
	}
	mw.Close()
	res, err := http.Post(hs.URL+"/api/jobs", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	var st server.Status
	json.NewDecoder(res.Body).Decode(&st)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /api/jobs: %s %+v", res.Status, st)
	}
	for deadline := time.Now().Add(20 * time.Second); st.State != "done"; time.Sleep(10 * time.Millisecond) {
		if st.State == "failed" || time.Now().After(deadline) {
			t.Fatalf("the studio's dream: %+v", st)
		}
		getJSON(t, hs.URL+"/api/jobs/"+st.ID, &st)
	}
	var entry struct{ Params dream.Record }
	getJSON(t, hs.URL+"/api/gallery/"+st.ID, &entry)
	if !reflect.DeepEqual(entry.Params.Request, want) {
		t.Errorf("the studio recorded %+v, want %+v", entry.Params.Request, want)
	}
}

func embedded(t *testing.T, path string) dream.Record {
	t.Helper()
	text, err := imageio.ReadMetadataFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rec dream.Record
	if err := json.Unmarshal([]byte(text), &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %s: %v", url, res.Status, err)
	}
}
