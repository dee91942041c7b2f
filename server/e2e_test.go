package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
)

// TestStudioInBrowser drives the page in headless Chromium with ../shared's
// GoogLeNet, in one browser and one studio, at a desktop's size (1366x768)
// and a phone's (390x844): at both, a dream with its live preview and its
// result, the picture's controls visible without scrolling; a reload
// mid-dream, the page reattached to its dream (and its settings
// remembered), which it then cancels; the layer explorer reattached after
// a reload and cancelled as one group; a layer chosen from its grid; a sweep shown as a grid. At the
// desktop's size also: labelled controls; a pasted photo; a refused file
// clearing the previous choice and saying why before Dream is pressed; a
// directory of the gallery that is not a whole entry named; the
// drop zone's highlight kept over its children; a dream over the memory
// budget offered at a size that fits; the download; a second Dream queued
// beside the first, both in the jobs panel, cancelled from it, and another
// page's dream there too; the status
// spoken at most every 5 s; a mask painted on the photo and dreamed;
// Dream again (a new seed) and Edit; the contrast of every text in the
// dark and the light theme (WCAG AA); and the studio lost (its port cut)
// and found again; a zoom from the Motion section, its MP4 playing in the
// picture, its settings loaded back by Edit (desktopZoom). Any console
// error or exception fails it. The screenshots go to a temporary
// directory, or to $DEEPDREAM_SCREENSHOTS.
func TestStudioInBrowser(t *testing.T) {
	findBrowser(t, "chromium", "chromium", "chromium-browser", "google-chrome") // before GoogLeNet is loaded
	// a directory the studio finds in its gallery that is not a whole entry
	dataDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dataDir, "gallery", "0123456789abcdef"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "gallery", "0123456789abcdef", "params.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := googLeNetStudio(t, dataDir)
	setBudget(s, 512<<20) // room for a sweep's and an explorer's jobs waiting together
	proxy := newCutProxy(t, s.url)
	photo := examplePhoto(t)
	shots, downloads := screenshotDir(t), t.TempDir()
	notPhoto := filepath.Join(t.TempDir(), "notes.jpg")
	if err := os.WriteFile(notPhoto, []byte("a text file named like a photo"), 0o644); err != nil {
		t.Fatal(err)
	}

	var wasCut atomic.Bool
	ctx, problems := startChromium(t, 200*time.Second, func(m chromedp.ConsoleMessage) bool {
		// the refusal the test provokes, and the connections refused while the studio is cut off
		return m.Source == "network" && (strings.Contains(m.Text, "status of 413") || wasCut.Load() && strings.Contains(m.Text, "net::ERR_"))
	})
	start := time.Now()
	do, poll, screenshot := drive(t, ctx, shots)
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads,
	}); err != nil {
		t.Fatal(err)
	}
	// set gives a control a value as a person does: input and change events.
	set := func(id, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](`(() => {
			const e = document.getElementById(` + jsString(id) + `);
			e.value = ` + jsString(value) + `;
			e.dispatchEvent(new Event("input", {bubbles: true}));
			e.dispatchEvent(new Event("change", {bubbles: true}));
		})()`)
	}
	check := func(what, expr string) {
		t.Helper()
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err != nil || !ok {
			t.Errorf("%s: %s is false (%v)", what, expr, err)
		}
	}
	// notInView returns the elements of ids not wholly in the window, the
	// page scrolled to its top.
	notInView := func(ids ...string) []string {
		t.Helper()
		js, _ := json.Marshal(ids)
		out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
			window.scrollTo(0, 0);
			return `+string(js)+`.filter((id) => {
				const r = document.getElementById(id).getBoundingClientRect();
				return !(r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth);
			});
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	viewShot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644)
		})
	}
	choosePhoto := chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		return chromedp.Do(ctx,
			chromedp.SetUploadFiles("#photo", []string{photo}, chromedp.NodeReady),
			poll(`(() => { const i = document.getElementById("photo-preview"); return !i.hidden && i.complete && i.naturalWidth === 768; })()`),
		)
	})
	groupStates := func(kind string) map[string]int {
		n := map[string]int{}
		for _, st := range s.q.list() {
			if st.Kind == kind {
				n[st.State]++
			}
		}
		return n
	}

	// flow is what the test does at both sizes.
	flow := func(size string, w, h int64, opts ...chromedp.EmulateViewportOption) {
		entries := len(s.entries(t))
		do(size+": open the page",
			chromedp.EmulateViewport(w, h, opts...),
			chromedp.Navigate(proxy.url),
			poll(`document.querySelectorAll("#layer option").length > 9 && document.querySelectorAll("#tiles li").length === 9 &&
				document.querySelectorAll("#presets img[src]").length >= 3`),
		)
		if wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > innerWidth`)); err != nil || wide {
			t.Errorf("%s: the page is wider than the window (%v)", size, err)
		}
		do(size+": dream small and watch it",
			choosePhoto,
			set("layer", "inception_3b/output"),
			set("max_size", "160"),
			set("octaves", "2"),
			set("iterations", "5"),
			click("#dream"),
			poll(`(() => {
				const src = document.getElementById("live").src;
				window.seen = window.seen || new Set();
				if (src) window.seen.add(src);
				return window.seen.size >= 3 && document.getElementById("status").textContent.startsWith("Octave");
			})()`),
		)
		if out := notInView("drop", "live", "status", "bar", "cancel"); len(out) > 0 && size == "desktop" {
			t.Errorf("%s: the running dream's %v are not visible without scrolling", size, out)
		}
		do(size+": see the result",
			poll(`(() => {
				const img = document.getElementById("after");
				return !document.getElementById("result").hidden && img.complete && img.naturalWidth === 160 &&
					document.getElementById("status").textContent === "Done.";
			})()`),
			poll(fmt.Sprintf(`document.querySelectorAll("#entries li").length === %d`, entries+1)),
			chromedp.SetValue("#slider", "30"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("slider").dispatchEvent(new Event("input"))`),
			poll(`document.getElementById("before").style.clipPath === "inset(0px 70% 0px 0px)"`),
			// The panel from its top, as a user who has just dreamed sees it
			// (the clicks above scrolled it): README's docs/studio.jpg.
			chromedp.Evaluate[chromedp.Void](`document.getElementById("panel").scrollTop = 0`),
			viewShot(size+"-result"),
		)
		if out := notInView("drop", "after", "slider", "download", "again", "edit", "dream"); len(out) > 0 && size == "desktop" {
			t.Errorf("%s: the result's %v are not visible without scrolling", size, out)
		}
		if size == "desktop" {
			do("download the result", click("#download"))
			downloaded := waitForDownload(t, downloads)
			meta, err := imageio.ReadMetadata(bytes.NewReader(downloaded))
			if err != nil {
				t.Fatalf("downloaded file: %v", err)
			}
			var rec dream.Record
			if err := json.Unmarshal([]byte(meta), &rec); err != nil || rec.Model != "googlenet" || rec.Request.Octaves != 2 || rec.Request.Iterations != 5 {
				t.Errorf("downloaded parameters %s", meta)
			}
		}
		if got := s.entries(t); len(got) != entries+1 || got[0].Params.Request.Layers[0] != "inception_3b/output" || got[0].Width != 160 {
			t.Fatalf("%s: gallery %+v, want a 160-pixel dream of inception_3b/output more", size, got)
		}
		entries++

		do(size+": dream longer, reload mid-dream: the page reattaches to its dream, its settings remembered",
			set("max_size", "224"),
			set("iterations", "60"),
			click("#dream"),
			poll(`document.getElementById("status").textContent.startsWith("Octave")`),
			chromedp.Reload(),
			poll(`document.getElementById("status").textContent.startsWith("Octave") && !document.getElementById("progress").hidden &&
				document.getElementById("iterations").value === "60" && document.getElementById("max_size").value === "224" &&
				document.getElementById("layer").value === "inception_3b/output" &&
				[...document.querySelectorAll("#jobs li")].some((li) => li.textContent.includes("this page"))`),
			screenshot(size+"-reattached"),
			click("#cancel"),
			poll(`document.getElementById("status").textContent === "Cancelled." && document.querySelectorAll("#jobs li").length === 0`),
		)
		if n := len(s.entries(t)); n != entries {
			t.Errorf("%s: %d gallery entries after the cancel, want %d", size, n, entries)
		}

		exploring := poll(`[...document.querySelectorAll("#tiles img")].some((i) => i.complete && i.naturalWidth > 0) &&
			!document.getElementById("explore-cancel").hidden &&
			[...document.querySelectorAll("#jobs li")].some((li) => li.textContent.startsWith("Layer explorer"))`)
		do(size+": explore the layers, reload: the explorer is reattached; then cancel it as one",
			choosePhoto,
			set("max_size", "96"),
			set("iterations", "40"), // the nine tiles outlast the reload, on a fast machine too
			click("#explore"),
			exploring,
			chromedp.Reload(),
			exploring,
			click("#explore-cancel"),
			poll(`document.getElementById("explore-cancel").hidden && document.querySelectorAll("#jobs li").length === 0 &&
				[...document.querySelectorAll("#tiles .state")].some((s) => s.textContent === "Cancelled.")`),
			screenshot(size+"-explorer"),
		)
		// A running tile ends within a step of its cancel.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if n := groupStates("explore"); n["queued"]+n["running"] == 0 {
				break
			}
		}
		if n := groupStates("explore"); n["cancelled"] == 0 || n["done"] == 0 || n["queued"]+n["running"] > 0 {
			t.Errorf("%s: the explorer's jobs are %v, want some done, the others cancelled (or never sent)", size, n)
		}
		do(size+": choose a layer from the grid",
			click(`#tiles li[data-layer="inception_4a/output"] button`),
			poll(`document.getElementById("layer").value === "inception_4a/output" && !document.getElementById("layer-2") &&
				document.querySelector('#tiles li[data-layer="inception_4a/output"] button').getAttribute("aria-pressed") === "true"`),
		)
		do(size+": sweep the step: a grid",
			choosePhoto, // the reload forgot it
			click("#sweep-box summary"),
			set("sweep-field", "step"),
			set("sweep-values", "1, 2, 4"),
			set("octaves", "1"),
			set("iterations", "2"),
			click("#sweep"),
			poll(`document.querySelectorAll("#sweep-tiles img").length === 3 &&
				[...document.querySelectorAll("#sweep-tiles img")].every((i) => i.complete && i.naturalWidth === 96)`),
			click(`#sweep-tiles li:nth-child(2) button`),
			poll(`document.getElementById("step").value === "2" && !document.getElementById("result").hidden`),
			screenshot(size+"-sweep"),
		)
		if n := groupStates("sweep"); n["done"] < 3 {
			t.Errorf("%s: the sweep's jobs ended %v, want 3 more done", size, n)
		}
	}

	scheme := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: name}},
			})
			return err
		})
	}
	do("the desktop in the dark theme", scheme("dark"))
	flow("desktop", 1366, 768)

	do("desktop: every control is labelled; what the gallery skipped is named",
		chromedp.Navigate(proxy.url),
		poll(`document.querySelectorAll("#tiles li").length === 9 && !document.getElementById("skipped-box").hidden &&
			document.getElementById("skipped").textContent.startsWith("0123456789abcdef: ")`),
	)
	unlabelled, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("input, select, button")]
		.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim())
		.map((e) => e.id || e.outerHTML)`))
	if err != nil || len(unlabelled) > 0 {
		t.Errorf("controls without a label: %v (%v)", unlabelled, err)
	}
	do("paste a photo",
		chromedp.Evaluate[chromedp.Void](`fetch("/presets/notebook.jpg").then((r) => r.blob()).then((b) => {
			const dt = new DataTransfer();
			dt.items.add(new File([b], "image.jpg", {type: "image/jpeg"}));
			document.dispatchEvent(new ClipboardEvent("paste", {clipboardData: dt, bubbles: true}));
		})`, chromedp.EvalAwaitPromise),
		poll(`(() => { const i = document.getElementById("photo-preview"); return !i.hidden && i.complete && i.naturalWidth === 160 &&
			document.getElementById("photo-name").textContent === "pasted image"; })()`),
	)
	do("choose a text file: the previous photo is cleared and the page says why, before Dream",
		chromedp.SetUploadFiles("#photo", []string{notPhoto}, chromedp.NodeReady),
		poll(`!document.getElementById("message").hidden &&
			document.getElementById("message").textContent.includes("notes.jpg is not a photo the studio can read") &&
			document.getElementById("photo-preview").hidden && !document.getElementById("empty").hidden`),
	)
	check("the drop zone's highlight stays over its children", `(() => {
		const d = document.getElementById("drop");
		d.dispatchEvent(new DragEvent("dragenter", {bubbles: true, cancelable: true}));
		d.dispatchEvent(new DragEvent("dragleave", {bubbles: true, relatedTarget: document.getElementById("drop-text")}));
		const kept = d.classList.contains("over");
		d.dispatchEvent(new DragEvent("dragleave", {bubbles: true, relatedTarget: document.body}));
		return kept && !d.classList.contains("over");
	})()`)
	setBudget(s, 48<<20) // dog.jpg at full size needs about 80 MB
	do("see a full-size dream over the memory budget offered at a size that fits",
		choosePhoto,
		set("max_size", "0"),
		click("#dream"),
		poll(`(() => {
			const m = document.getElementById("message").textContent;
			const offered = m.match(/it fits at a max size of (\d+) or less/);
			return offered !== null && m.includes("The max size is now " + offered[1]) &&
				document.getElementById("max_size").value === offered[1] && Number(offered[1]) < 768;
		})()`),
	)
	if n := len(s.entries(t)); n != 1 {
		t.Fatalf("%d gallery entries after a refusal, want the desktop's first dream", n)
	}
	do("see the memory the dream takes at the size chosen",
		set("max_size", "160"),
		poll(`(() => {
			const e = document.getElementById("estimate");
			return !e.hidden && e.textContent.startsWith("Dreamed at 160×120: about ") && e.textContent.includes(" of memory, of the studio's ");
		})()`),
	)
	setBudget(s, 512<<20) // room for the photo's and a mask's uploads at once

	do("two dreams: the second queued, both in the jobs panel",
		set("max_size", "224"),
		set("octaves", "2"),
		set("iterations", "200"), // long enough to be heard twice, on a fast machine too
		click("#dream"),
		poll(`document.getElementById("status").textContent.startsWith("Octave")`),
		click("#dream"),
		poll(`document.getElementById("status").textContent.startsWith("Waiting") && document.querySelectorAll("#jobs li").length === 2 &&
			document.getElementById("message").textContent.includes("Your other dream goes on")`),
		chromedp.Reload(),
		poll(`document.getElementById("status").textContent.startsWith("Waiting") && document.querySelectorAll("#jobs li").length === 2`),
		// watch the first again, from the panel, and hear its status
		chromedp.Evaluate[chromedp.Void](`(() => {
			window.spoken = [];
			new MutationObserver(() => window.spoken.push([performance.now(), document.getElementById("announce").textContent]))
				.observe(document.getElementById("announce"), {childList: true, characterData: true, subtree: true});
		})()`),
		click(`#jobs li:first-child button:not(.danger)`),
		poll(`document.getElementById("status").textContent.startsWith("Octave") &&
			window.spoken.filter(([, text]) => text.startsWith("Octave")).length >= 2`),
	)
	spoken, err := chromedp.Run(ctx, chromedp.Evaluate[[][]any](`window.spoken`))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(spoken); i++ {
		gap := spoken[i][0].(float64) - spoken[i-1][0].(float64)
		if text := spoken[i][1].(string); strings.HasPrefix(text, "Octave") && gap < 4900 {
			t.Errorf("the status was spoken %.0f ms after the previous one: %q (want 5 s between progress reports)", gap, text)
		}
	}
	t.Logf("spoken: %v", spoken)
	do("cancel both dreams",
		click("#cancel"),
		poll(`document.getElementById("status").textContent === "Cancelled." && document.querySelectorAll("#jobs li").length === 1`),
		click(`#jobs li:first-child button.danger`),
		poll(`document.querySelectorAll("#jobs li").length === 0`),
	)
	if n := groupStates("dream"); n["running"]+n["queued"] != 0 {
		t.Errorf("dreams left after the cancels: %v", n)
	}
	photoData, err := os.ReadFile(photo)
	if err != nil {
		t.Fatal(err)
	}
	other := s.mustSubmit(t, photoData, "max_size=224", "octaves=2", "iterations=60", "owner=another-page", "gallery=0")
	do("another page's dream in the jobs panel, cancelled from it",
		poll(`[...document.querySelectorAll("#jobs li")].some((li) => li.textContent.includes("another page"))`),
		click(`#jobs li:first-child button.danger`),
		poll(`document.querySelectorAll("#jobs li").length === 0`),
	)
	if st := s.wait(t, other.ID); st.State != stateCancelled {
		t.Errorf("another page's dream, cancelled from this page's jobs panel, ended %s", st.State)
	}

	do("paint a mask on the left of the photo",
		choosePhoto,
		click("#paint"),
		set("brush", "160"),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			r, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
				const c = document.getElementById("mask-canvas");
				c.scrollIntoView({block: "center"});
				const r = c.getBoundingClientRect();
				return [r.left, r.top, r.width, r.height];
			})()`))
			if err != nil {
				return err
			}
			x, y, w, h := r[0], r[1], r[2], r[3]
			for i, ev := range []struct {
				typ  input.DispatchMouseEventType
				x, y float64
			}{{input.DispatchMouseEventTypeMousePressed, 0.1, 0.05}, {input.DispatchMouseEventTypeMouseMoved, 0.1, 0.5}, {input.DispatchMouseEventTypeMouseMoved, 0.1, 0.95}, {input.DispatchMouseEventTypeMouseReleased, 0.1, 0.95}} {
				p := input.DispatchMouseEventParams{Type: ev.typ, X: x + ev.x*w, Y: y + ev.y*h, Button: input.MouseButtonLeft, Buttons: 1}
				if i == 0 || ev.typ == input.DispatchMouseEventTypeMouseReleased {
					p.ClickCount = 1
				}
				if _, err := chromedp.Call(ctx, input.DispatchMouseEvent, p); err != nil {
					return err
				}
			}
			return nil
		}),
		poll(`document.getElementById("mask-name").textContent === "painted-mask.png" && !document.getElementById("mask-canvas").hidden`),
		viewShot("desktop-mask"),
		set("max_size", "96"),
		set("octaves", "1"),
		set("iterations", "2"),
		click("#dream"),
		poll(`document.getElementById("status").textContent === "Done." && !document.getElementById("again").hidden`),
	)
	masked := s.entries(t)[0]
	if masked.Params.Request.Mask != "mask.png" {
		t.Fatalf("the dream recorded the mask %q, want the painted one", masked.Params.Request.Mask)
	}
	data, _ := s.fetch(t, masked.Images["mask.png"])
	mask, _, err := imageio.Decode(bytes.NewReader(data), 1<<24)
	if err != nil {
		t.Fatalf("the painted mask: %v", err)
	}
	b := mask.Bounds()
	at := func(fx, fy float64) uint32 {
		r, _, _, _ := mask.At(b.Min.X+int(fx*float64(b.Dx())), b.Min.Y+int(fy*float64(b.Dy()))).RGBA()
		return r >> 8
	}
	if at(0.1, 0.5) != 255 || at(0.9, 0.5) != 0 || b.Dx() != 768 {
		t.Errorf("the painted mask (%v) is %d where painted and %d elsewhere, want 255 and 0 at the photo's size", b, at(0.1, 0.5), at(0.9, 0.5))
	}

	do("Dream again: a new variation",
		click("#again"),
		poll(`document.querySelectorAll("#entries li").length === `+fmt.Sprint(len(s.entries(t))+1)+` && document.getElementById("status").textContent === "Done."`),
	)
	again := s.entries(t)[0]
	if again.Params.Request.Seed == masked.Params.Request.Seed || again.Params.Request.Mask != "mask.png" ||
		again.Params.Request.Images["mask.png"] != masked.Params.Request.Images["mask.png"] || again.Params.Request.Iterations != 2 {
		t.Errorf("dreamed again with %+v, want %+v with another seed", again.Params.Request, masked.Params.Request)
	}
	do("Edit loads a dream's settings into the form",
		set("iterations", "7"),
		set("sweep-values", ""),
		click(`#entries li:nth-child(2) button.edit`),
		poll(`document.getElementById("iterations").value === "2" && document.getElementById("seed").value === "`+fmt.Sprint(masked.Params.Request.Seed)+`" &&
			document.getElementById("mask-name").textContent === "mask.png" && document.getElementById("message").textContent.includes("settings are in the form")`),
	)
	desktopZoom(t, s, do, poll, set, choosePhoto, viewShot)

	for _, theme := range []string{"dark", "light"} {
		do("the "+theme+" theme", scheme(theme), viewShot("desktop-"+theme))
		var contrast struct {
			Checked int
			Low     []string
		}
		if contrast, err = chromedp.Run(ctx, chromedp.Evaluate[struct {
			Checked int
			Low     []string
		}](lowContrast)); err != nil || len(contrast.Low) > 0 || contrast.Checked < 50 {
			t.Errorf("texts below WCAG AA contrast in the %s theme: %v, of %d checked (%v)", theme, contrast.Low, contrast.Checked, err)
		}
		t.Logf("%s theme: %d texts checked for contrast", theme, contrast.Checked)
	}

	cutAt := time.Now()
	wasCut.Store(true)
	proxy.cut()
	do("the studio lost: the page says so",
		poll(`!document.getElementById("connection").hidden && document.getElementById("connection").textContent.includes("does not answer")`))
	t.Logf("the page noticed the lost studio in %s", time.Since(cutAt).Round(time.Millisecond))
	joinAt := time.Now()
	proxy.join()
	do("the studio back: the page reconnects by itself",
		poll(`document.getElementById("connection").textContent.includes("again")`))
	t.Logf("the page reconnected in %s", time.Since(joinAt).Round(time.Millisecond))

	flow("phone", 390, 844, chromedp.EmulateMobile)
	t.Logf("browser test took %s", time.Since(start).Round(time.Millisecond))
	for _, p := range problems() {
		t.Error(p)
	}
}

// desktopZoom is the desktop's "desktop: zoom" step: the Motion section
// filled, a small zoom of the photo started (GoogLeNet at 64 pixels, one
// octave of two steps a frame, 36 frames: a few seconds), its frames counted in the
// status and the jobs panel, its MP4 loaded and playing in the picture's
// <video> (readyState 2 or more, a duration, its time advancing), the
// entry in the gallery; then Edit loads the zoom's options back.
func desktopZoom(t *testing.T, s *studio, do func(string, ...chromedp.Action[chromedp.Void]), poll func(string) chromedp.Action[chromedp.Void],
	set func(id, value string) chromedp.Action[chromedp.Void], choosePhoto chromedp.Action[chromedp.Void], viewShot func(string) chromedp.Action[chromedp.Void]) {
	t.Helper()
	entries := len(s.entries(t))
	do("desktop: zoom",
		choosePhoto,
		set("max_size", "64"),
		set("octaves", "1"),
		set("iterations", "2"),
		click("#motion-box summary"),
		set("motion-frames", "36"),
		set("motion-zoom", "1.1"),
		set("motion-rotate", "3"),
		set("motion-fps", "12"),
		click("#start-zoom"),
		poll(`document.getElementById("status").textContent.startsWith("Frame ") &&
			[...document.querySelectorAll("#jobs li")].some((li) => li.textContent.startsWith("Zoom") && li.textContent.includes("Frame "))`),
		poll(`(() => {
			const v = document.getElementById("movie-video");
			if (document.getElementById("movie").hidden || v.error || v.readyState < 2 || !(v.duration > 0) || v.paused) return false;
			window.times = window.times || new Set();
			window.times.add(v.currentTime);
			return window.times.size >= 3 && document.getElementById("status").textContent === "Done." &&
				document.getElementById("download").textContent === "Download MP4";
		})()`),
		chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`),
		viewShot("desktop-zoom"),
	)
	got := s.entries(t)
	if len(got) != entries+1 || got[0].Kind != "zoom" || got[0].Frames != 36 || got[0].Motion["rotate"] != 3.0 || got[0].Width != 64 {
		t.Fatalf("the gallery after the zoom: %d entries, the newest %+v; want a zoom of 36 frames at 64 pixels", len(got), got[0].Entry)
	}
	do("desktop: Edit loads the zoom's settings back",
		set("motion-frames", "5"),
		set("motion-rotate", "0"),
		click("#edit"),
		poll(`document.getElementById("motion-frames").value === "36" && document.getElementById("motion-rotate").value === "3" &&
			document.getElementById("iterations").value === "2" && document.getElementById("message").textContent.includes("Motion section")`),
	)
}

// lowContrast lists the page's visible texts whose colour on their
// background is below WCAG 2.1 AA (4.5:1, 3:1 for large text), and counts
// those it checked.
const lowContrast = `(() => {
	const rgba = (c) => c.match(/[\d.]+/g).map(Number);
	const lum = (c) => {
		const [r, g, b] = rgba(c).slice(0, 3).map((v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
		return 0.2126 * r + 0.7152 * g + 0.0722 * b;
	};
	const background = (e) => {
		for (; e; e = e.parentElement) {
			const c = getComputedStyle(e).backgroundColor, a = rgba(c);
			if (a.length < 4 || a[3] > 0) return c;
		}
		return "rgb(255, 255, 255)";
	};
	const low = [], seen = new Set();
	let checked = 0;
	const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walk.nextNode(); n; n = walk.nextNode()) {
		const e = n.parentElement;
		if (!n.textContent.trim() || seen.has(e)) continue;
		seen.add(e);
		if (!e.getClientRects().length || e.closest(".visually-hidden, [hidden], option, datalist, :disabled")) continue;
		const s = getComputedStyle(e);
		if (s.visibility === "hidden") continue;
		const f = lum(s.color), b = lum(background(e));
		const ratio = (Math.max(f, b) + 0.05) / (Math.min(f, b) + 0.05);
		const size = parseFloat(s.fontSize), large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
		checked++;
		if (ratio < (large ? 3 : 4.5)) low.push((e.id || e.className || e.tagName) + ": " + JSON.stringify(n.textContent.trim().slice(0, 30)) + " " + ratio.toFixed(2) + ":1");
	}
	return {checked, low};
})()`

// drive returns what a Chromium test does with its page: do runs named
// actions (a failure stops the test, saying when), poll waits for a
// JavaScript expression to be true (at most 40 s), screenshot saves the
// whole page in shots.
func drive(t *testing.T, ctx context.Context, shots string) (
	do func(name string, actions ...chromedp.Action[chromedp.Void]),
	poll func(expr string) chromedp.Action[chromedp.Void],
	screenshot func(name string) chromedp.Action[chromedp.Void],
) {
	start := time.Now()
	do = func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		began := time.Now()
		defer func() { t.Logf("%s: %s", name, time.Since(began).Round(time.Millisecond)) }()
		if err := chromedp.Do(ctx, actions...); err != nil {
			// What the page said, for the failure's cause.
			said, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("[role=status], [role=alert], .message, #message, #sweep-tiles li, #tiles li")]
				.filter((e) => !e.hidden && e.textContent.trim()).map((e) => (e.id || e.className || e.tagName) + ": " + e.textContent.trim().replace(/\s+/g, " ")).join("\n")`))
			t.Fatalf("%s (after %s): %v\nthe page says:\n%s", name, time.Since(start).Round(time.Millisecond), err, said)
		}
	}
	poll = func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(40*time.Second))
	}
	screenshot = func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644)
		})
	}
	return do, poll, screenshot
}

// startChromium starts headless Chromium for a browser test, in a window
// of 1280x1000, and returns its context, ended within timeout, and what
// it has seen go wrong so far: console errors and exceptions, those
// expected says the test provokes aside.
func startChromium(t *testing.T, timeout time.Duration, expected func(chromedp.ConsoleMessage) bool) (context.Context, func() []string) {
	t.Helper()
	chrome := findBrowser(t, "chromium", "chromium", "chromium-browser", "google-chrome")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(cancelBrowser)
	var mu sync.Mutex
	var problems []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if (m.Type == chromedp.ConsoleError || m.IsException()) && !expected(m) {
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
				mu.Unlock()
			}
		}
	}()
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}

// waitForDownload returns the bytes of the first finished download in dir.
func waitForDownload(t *testing.T, dir string) []byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		des, _ := os.ReadDir(dir)
		for _, de := range des {
			if !strings.HasSuffix(de.Name(), ".crdownload") {
				data, err := os.ReadFile(filepath.Join(dir, de.Name()))
				if err == nil && len(data) > 0 {
					return data
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the download did not arrive")
	return nil
}
