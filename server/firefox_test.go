package server

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestStudioInFirefox drives the page in headless Firefox ESR over WebDriver
// BiDi with ../shared's GoogLeNet: the model and layer lists, a refused
// file explained in the page before Dream, a photo chosen through the file input, a
// preset, a class and a guide chosen through its file input, a tiny dream
// with its live preview (the server-sent events), the result and its
// gallery entry. Any console error or JavaScript exception fails it. TestStudioInBrowser covers the rest of
// the page in Chromium; this test is there for what differs between
// browsers.
func TestStudioInFirefox(t *testing.T) {
	exe := findBrowser(t, "firefox-esr", "firefox-esr", "firefox")
	s := googLeNetStudio(t)
	photo := examplePhoto(t)
	shots := screenshotDir(t)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	var mu sync.Mutex
	var problems []string
	b := startFirefox(t, ctx, exe, func(method string, params json.RawMessage) {
		if method != "log.entryAdded" {
			return
		}
		var e struct {
			Type, Level, Text string
			StackTrace        struct {
				CallFrames []struct {
					URL        string `json:"url"`
					LineNumber int    `json:"lineNumber"`
				} `json:"callFrames"`
			} `json:"stackTrace"`
		}
		if json.Unmarshal(params, &e) != nil || e.Level != "error" {
			return
		}
		where := ""
		if f := e.StackTrace.CallFrames; len(f) > 0 {
			where = fmt.Sprintf(" (%s:%d)", f[0].URL, f[0].LineNumber+1)
		}
		mu.Lock()
		problems = append(problems, fmt.Sprintf("%s %s: %s%s", e.Type, e.Level, e.Text, where))
		mu.Unlock()
	})
	must := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s (after %s): %v", name, time.Since(start).Round(time.Millisecond), err)
		}
	}
	must("subscribe to the console", b.call(ctx, "session.subscribe", map[string]any{"events": []string{"log.entryAdded"}}, nil))
	var tree struct {
		Contexts []struct{ Context string }
	}
	must("find the tab", b.call(ctx, "browsingContext.getTree", map[string]any{"maxDepth": 0}, &tree))
	if len(tree.Contexts) == 0 {
		t.Fatal("Firefox has no browsing context")
	}
	tab := tree.Contexts[0].Context
	eval := func(name, expr string) remoteValue {
		t.Helper()
		v, err := b.evaluate(ctx, tab, expr)
		must(name, err)
		return v
	}
	poll := func(name, expr string) {
		t.Helper()
		for {
			if v := eval(name, expr); v.Type == "boolean" && string(v.Value) == "true" {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("%s: still not %s after %s", name, expr, time.Since(start).Round(time.Millisecond))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// element returns a reference to the element of a CSS selector,
	// scrolled into view for a pointer to reach it.
	element := func(selector string) map[string]string {
		t.Helper()
		v := eval("find "+selector, fmt.Sprintf(`(() => {
			const e = document.querySelector(%s);
			e.scrollIntoView({block: "center"});
			return e;
		})()`, jsString(selector)))
		if v.SharedID == "" {
			t.Fatalf("%s is not an element: %+v", selector, v)
		}
		return map[string]string{"sharedId": v.SharedID}
	}
	click := func(selector string) {
		t.Helper()
		must("click "+selector, b.call(ctx, "input.performActions", map[string]any{
			"context": tab,
			"actions": []any{map[string]any{
				"type": "pointer", "id": "mouse", "parameters": map[string]string{"pointerType": "mouse"},
				"actions": []any{
					map[string]any{"type": "pointerMove", "x": 0, "y": 0, "origin": map[string]any{"type": "element", "element": element(selector)}},
					map[string]any{"type": "pointerDown", "button": 0},
					map[string]any{"type": "pointerUp", "button": 0},
				},
			}},
		}, nil))
	}
	set := func(id, value string) {
		t.Helper()
		eval("set "+id, fmt.Sprintf(`(() => {
			const e = document.getElementById(%s);
			e.value = %s;
			e.dispatchEvent(new Event("change", {bubbles: true}));
			return e.value;
		})()`, jsString(id), jsString(value)))
	}
	screenshot := func(name string) {
		t.Helper()
		var shot struct{ Data string }
		must("screenshot", b.call(ctx, "browsingContext.captureScreenshot", map[string]any{"context": tab, "origin": "document"}, &shot))
		png, err := base64.StdEncoding.DecodeString(shot.Data)
		must("screenshot", err)
		p := filepath.Join(shots, name+".png")
		must("screenshot", os.WriteFile(p, png, 0o644))
		t.Logf("screenshot %s", p)
	}

	must("size the window", b.call(ctx, "browsingContext.setViewport", map[string]any{
		"context": tab, "viewport": map[string]int{"width": 1280, "height": 1000},
	}, nil))
	must("open the page", b.call(ctx, "browsingContext.navigate", map[string]any{"context": tab, "url": s.url, "wait": "complete"}, nil))
	poll("the model and layer lists", `document.querySelectorAll("#model option").length === 1 &&
		document.querySelectorAll("#layer option").length > 9 && !document.getElementById("layer").disabled`)
	notPhoto := filepath.Join(t.TempDir(), "notes.jpg")
	must("write a text file", os.WriteFile(notPhoto, []byte("a text file named like a photo"), 0o644))
	must("choose a text file", b.call(ctx, "input.setFiles", map[string]any{"context": tab, "element": element("#photo"), "files": []string{notPhoto}}, nil))
	poll("the refusal explained, before Dream is pressed", `!document.getElementById("message").hidden &&
		document.getElementById("message").textContent.includes("not a photo the studio can read") &&
		document.getElementById("photo-preview").hidden`)
	must("choose a photo", b.call(ctx, "input.setFiles", map[string]any{"context": tab, "element": element("#photo"), "files": []string{photo}}, nil))
	poll("the chosen photo shown", `(() => {
		const img = document.getElementById("photo-preview");
		return !img.hidden && img.complete && img.naturalWidth === 768;
	})()`)
	click(`#presets [data-preset="dog-slug"]`)
	poll("the preset's layer and numbers", `document.getElementById("layer").value === "inception_4d/output" &&
		document.getElementById("octaves").value === "5" && document.getElementById("iterations").value === "20"`)
	set("layer", "inception_4c/output")
	set("max_size", "96")
	set("octaves", "1")
	set("iterations", "2")
	click("#add-class")
	set("class-1", "goldfish")
	guide, err := filepath.Abs(filepath.Join("testdata", "dog.png"))
	must("find the guide", err)
	must("choose a guide", b.call(ctx, "input.setFiles", map[string]any{"context": tab, "element": element("#guide"), "files": []string{guide}}, nil))
	poll("the chosen guide shown", `(() => {
		const img = document.getElementById("guide-preview");
		return !img.hidden && img.complete && img.naturalWidth === 24 && document.getElementById("guide-name").textContent === "dog.png";
	})()`)
	click("#dream")
	poll("the result", `(() => {
		const img = document.getElementById("after");
		return !document.getElementById("result").hidden && img.complete && img.naturalWidth === 96;
	})()`)
	poll("the gallery entry", `document.querySelectorAll("#entries li").length === 1`)
	if v := eval("status", `document.getElementById("status").textContent`); string(v.Value) != `"Done."` {
		t.Errorf("status %s after the dream, want Done.", v.Value)
	}
	if v := eval("live preview", `Number(document.getElementById("live").dataset.frames) > 0`); string(v.Value) != "true" {
		t.Error("no live preview arrived through the event stream")
	}
	screenshot("firefox-result")
	entries := s.entries(t)
	if len(entries) != 1 || entries[0].Params.Request.Layers[0] != "inception_4c/output" || entries[0].Width != 96 {
		t.Fatalf("gallery %+v, want one 96-pixel dream of inception_4c/output", entries)
	}
	if req := entries[0].Params.Request; len(req.Classes) != 1 || req.Classes[0] != "goldfish" || req.Guide != "guide.png" || req.Images["guide.png"].SHA256 == "" {
		t.Errorf("the dream recorded classes %q, guide %q, images %v; want goldfish and guide.png", req.Classes, req.Guide, req.Images)
	}
	t.Logf("Firefox test took %s", time.Since(start).Round(time.Millisecond))
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
}

// jsString returns s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// bidi is the least of a WebDriver BiDi client the Firefox test needs:
// commands answered by id, events handed to a callback.
type bidi struct {
	conn    *websocket.Conn
	onEvent func(method string, params json.RawMessage)
	done    chan struct{} // closed when the connection is gone, err says why
	err     error

	mu      sync.Mutex
	next    int
	pending map[int]chan bidiMessage
}

// bidiMessage is a command's answer ("success" or "error") or an event.
type bidiMessage struct {
	Type    string          `json:"type"`
	ID      *int            `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
}

// remoteValue is a script result as BiDi serializes it: Value holds the
// JSON of primitives, SharedID identifies a DOM node.
type remoteValue struct {
	Type     string          `json:"type"`
	Value    json.RawMessage `json:"value"`
	SharedID string          `json:"sharedId"`
}

// startFirefox starts a headless Firefox on a fresh profile and opens a
// BiDi session with it; the test's cleanup closes the browser.
func startFirefox(t *testing.T, ctx context.Context, exe string, onEvent func(string, json.RawMessage)) *bidi {
	t.Helper()
	// Port 0: Firefox picks a free one and says which on stderr.
	cmd := exec.Command(exe, "--headless", "--no-remote", "--profile", t.TempDir(), "--remote-debugging-port=0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var b *bidi
	t.Cleanup(func() {
		if b != nil {
			closed, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			b.call(closed, "browser.close", map[string]any{}, nil)
			cancel()
			b.conn.CloseNow()
		}
		exited := make(chan struct{})
		go func() {
			cmd.Wait()
			close(exited)
		}()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})

	const listening = "WebDriver BiDi listening on "
	found := make(chan string, 1)
	var mu sync.Mutex
	var output []string // what Firefox said, to explain a failure to start
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), listening); ok {
				found <- url
			}
			mu.Lock()
			if len(output) < 20 {
				output = append(output, sc.Text())
			}
			mu.Unlock()
		}
		close(found)
	}()
	var url string
	select {
	case url = <-found:
	case <-ctx.Done():
	}
	if url == "" {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("%s did not start its WebDriver BiDi server; it said:\n%s", exe, strings.Join(output, "\n"))
	}

	conn, _, err := websocket.Dial(ctx, url+"/session", nil)
	if err != nil {
		t.Fatalf("connecting to Firefox at %s: %v", url, err)
	}
	conn.SetReadLimit(64 << 20) // full-page screenshots
	b = &bidi{conn: conn, onEvent: onEvent, done: make(chan struct{}), pending: map[int]chan bidiMessage{}}
	go b.read()
	if err := b.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{}}}, nil); err != nil {
		t.Fatal(err)
	}
	return b
}

// read hands each message to its waiting command or to onEvent, until the
// connection ends.
func (b *bidi) read() {
	defer close(b.done)
	for {
		_, data, err := b.conn.Read(context.Background())
		if err != nil {
			b.err = err
			return
		}
		var m bidiMessage
		if err := json.Unmarshal(data, &m); err != nil {
			b.err = fmt.Errorf("undecodable BiDi message %.200q: %v", data, err)
			return
		}
		if m.Type == "event" {
			b.onEvent(m.Method, m.Params)
			continue
		}
		if m.ID == nil {
			continue // an error about no command in particular: the command's own answer says what matters
		}
		b.mu.Lock()
		ch := b.pending[*m.ID]
		delete(b.pending, *m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// call sends a command and decodes its result into result (unless nil).
func (b *bidi) call(ctx context.Context, method string, params, result any) error {
	ch := make(chan bidiMessage, 1)
	b.mu.Lock()
	b.next++
	id := b.next
	b.pending[id] = ch
	b.mu.Unlock()
	cmd, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return err
	}
	if err := b.conn.Write(ctx, websocket.MessageText, cmd); err != nil {
		return fmt.Errorf("%s: %v", method, err)
	}
	select {
	case m := <-ch:
		if m.Type == "error" {
			return fmt.Errorf("%s: %s: %s", method, m.Error, m.Message)
		}
		if result == nil {
			return nil
		}
		if err := json.Unmarshal(m.Result, result); err != nil {
			return fmt.Errorf("%s: result %.200s: %v", method, m.Result, err)
		}
		return nil
	case <-b.done:
		return fmt.Errorf("%s: the connection to Firefox ended: %v", method, b.err)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// evaluate runs a JavaScript expression in a browsing context, awaiting a
// promise, and returns its value; an exception is an error.
func (b *bidi) evaluate(ctx context.Context, browsingContext, expr string) (remoteValue, error) {
	var r struct {
		Type             string
		Result           remoteValue
		ExceptionDetails struct{ Text string }
	}
	err := b.call(ctx, "script.evaluate", map[string]any{
		"expression":   expr,
		"target":       map[string]string{"context": browsingContext},
		"awaitPromise": true,
	}, &r)
	if err == nil && r.Type == "exception" {
		err = errors.New(r.ExceptionDetails.Text)
	}
	return r.Result, err
}
