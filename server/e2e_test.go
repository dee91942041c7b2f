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
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
)

// TestStudioInBrowser drives the page in headless Chromium with ../shared's
// GoogLeNet: labelled controls, a refused upload explained in the page,
// upload, a full-size dream over the memory budget and the max size the
// page then offers, a small dream with its live preview, the result, the
// download, the gallery entry, the layer explorer, a full-size dream from
// a tile and its cancel. Any console error or exception fails it. The
// screenshots go to a temporary directory, or to $DEEPDREAM_SCREENSHOTS.
func TestStudioInBrowser(t *testing.T) {
	findBrowser(t, "chromium", "chromium", "chromium-browser", "google-chrome") // before GoogLeNet is loaded
	s := googLeNetStudio(t)
	setBudget(s, 48<<20) // dog.jpg at full size needs about 80 MB
	photo := examplePhoto(t)
	shots, downloads := screenshotDir(t), t.TempDir()

	ctx, problems := startChromium(t, 90*time.Second, func(m chromedp.ConsoleMessage) bool {
		// the refusals the test provokes below
		return m.Source == "network" && (strings.Contains(m.Text, "status of 415") || strings.Contains(m.Text, "status of 413"))
	})
	start := time.Now()
	do, poll, screenshot := drive(t, ctx, shots)

	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads,
	}); err != nil {
		t.Fatal(err)
	}
	do("open the page",
		chromedp.Navigate(s.url),
		poll(`document.querySelectorAll("#layer option").length > 9`),
	)
	unlabelled, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("input, select, button")]
		.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim())
		.map((e) => e.id || e.outerHTML)`))
	if err != nil || len(unlabelled) > 0 {
		t.Errorf("controls without a label: %v (%v)", unlabelled, err)
	}
	notPhoto := filepath.Join(t.TempDir(), "notes.jpg")
	if err := os.WriteFile(notPhoto, []byte("a text file named like a photo"), 0o644); err != nil {
		t.Fatal(err)
	}
	do("see a refusal explained",
		chromedp.SetUploadFiles("#photo", []string{notPhoto}, chromedp.NodeReady),
		chromedp.Click("#dream"),
		poll(`!document.getElementById("message").hidden &&
			document.getElementById("message").textContent.includes("not a photo the studio can read")`),
	)
	do("see a full-size dream over the memory budget offered at a size that fits",
		chromedp.SetUploadFiles("#photo", []string{photo}, chromedp.NodeReady),
		poll(`!document.getElementById("photo-preview").hidden`),
		chromedp.SetValue("#max_size", "0"),
		chromedp.Click("#dream"),
		poll(`(() => {
			const m = document.getElementById("message").textContent;
			const offered = m.match(/it fits at a max size of (\d+) or less/);
			return offered !== null && m.includes("The max size is now " + offered[1]) &&
				document.getElementById("max_size").value === offered[1] && Number(offered[1]) < 768;
		})()`),
	)
	if n := len(s.entries(t)); n != 0 {
		t.Fatalf("%d gallery entries after a refusal", n)
	}
	do("see the memory the dream takes at the size chosen",
		chromedp.SetValue("#max_size", "160"),
		poll(`(() => {
			if (!window.estimateAsked) { // as a person's edit does
				window.estimateAsked = true;
				document.getElementById("max_size").dispatchEvent(new Event("change", {bubbles: true}));
			}
			const e = document.getElementById("estimate");
			return !e.hidden && e.textContent.startsWith("Dreamed at 160×120: about ") && e.textContent.includes(" of memory, of the studio's ");
		})()`),
	)
	do("choose small settings",
		chromedp.SetValue("#layer", "inception_3b/output"),
		chromedp.SetValue("#max_size", "160"),
		chromedp.SetValue("#octaves", "2"),
		chromedp.SetValue("#iterations", "5"),
	)
	do("dream and watch the preview change",
		chromedp.Click("#dream"),
		poll(`(() => {
			const src = document.getElementById("live").src;
			window.seen = window.seen || new Set();
			if (src) window.seen.add(src);
			return window.seen.size >= 3;
		})()`),
	)
	do("see the result",
		poll(`(() => {
			const img = document.getElementById("after");
			return !document.getElementById("result").hidden && img.complete && img.naturalWidth > 0;
		})()`),
		poll(`document.querySelectorAll("#entries li").length === 1`),
		chromedp.SetValue("#slider", "30"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("slider").dispatchEvent(new Event("input"))`),
		poll(`document.getElementById("before").style.clipPath === "inset(0px 70% 0px 0px)"`),
		screenshot("desktop-result"),
	)
	status, err := chromedp.Run(ctx, chromedp.Text("#status"))
	if err != nil || status != "Done." {
		t.Errorf("status %q (%v) after the dream, want Done.", status, err)
	}
	entries := s.entries(t)
	if len(entries) != 1 || entries[0].Params.Request.Layers[0] != "inception_3b/output" || entries[0].Width != 160 {
		t.Fatalf("gallery %+v, want one 160-pixel dream of inception_3b/output", entries)
	}

	do("download the result", chromedp.Click("#download"))
	downloaded := waitForDownload(t, downloads)
	meta, err := imageio.ReadMetadata(bytes.NewReader(downloaded))
	if err != nil {
		t.Fatalf("downloaded file: %v", err)
	}
	var rec dream.Record
	if err := json.Unmarshal([]byte(meta), &rec); err != nil || rec.Model != "googlenet" || rec.Request.Octaves != 2 || rec.Request.Iterations != 5 {
		t.Errorf("downloaded parameters %s", meta)
	}

	do("explore the layers",
		chromedp.SetValue("#max_size", "96"),
		chromedp.SetValue("#iterations", "2"),
		chromedp.Click("#explore"),
		poll(`document.querySelectorAll("#tiles img").length === 9 &&
			[...document.querySelectorAll("#tiles img")].every((i) => i.complete && i.naturalWidth > 0)`),
		screenshot("desktop-explorer"),
	)
	do("dream a tile's layer at full size, then cancel it",
		chromedp.SetValue("#max_size", "224"),
		chromedp.SetValue("#iterations", "40"),
		chromedp.Click(`#tiles li:nth-child(5) button`),
		poll(`document.getElementById("status").textContent.startsWith("Octave")`),
		chromedp.Click("#cancel"),
		poll(`document.getElementById("status").textContent === "Cancelled."`),
	)
	if n := len(s.entries(t)); n != 1 {
		t.Errorf("%d gallery entries after the cancel, want 1", n)
	}
	do("phone-sized screen",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		screenshot("phone-session"),
		chromedp.Reload(),
		poll(`document.querySelectorAll("#entries li").length === 1`),
		screenshot("phone"),
	)
	t.Logf("browser test took %s", time.Since(start).Round(time.Millisecond))
	for _, p := range problems() {
		t.Error(p)
	}
}

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
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s (after %s): %v", name, time.Since(start).Round(time.Millisecond), err)
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
