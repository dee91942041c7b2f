package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deepdream-go/deepdream/internal/race"
)

// TestMotionPlaysInChromium makes a zoom as an MP4, a WebM and a GIF,
// and a dreamed video as an MP4, and has headless Chromium play each in
// a page, as the studio would: each video element's time advances with
// no error, and the GIF shows at its size. It skips without Chromium or
// ffmpeg, except in CI (scripts/setup.sh installs both).
func TestMotionPlaysInChromium(t *testing.T) {
	if testing.Short() && race.Enabled {
		t.Skip("run without -race (-short): the dreams it makes take minutes under the race detector, and the code it drives runs under it in the other tests")
	}
	needFFmpeg(t)
	chrome := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chrome = p
			break
		}
	}
	if chrome == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("the browser test needs chromium, which CI installs with scripts/setup.sh: it is missing")
		}
		t.Skip("the browser test needs chromium (apt-get install chromium, or scripts/setup.sh); skipping")
	}
	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 128, 96)
	frames := writeFrames(t, 24, 96, 72)
	flags := []string{"--model", model, "--octaves", "1", "--iterations", "1", "-q"}
	for _, c := range [][]string{
		{"zoom", photo, "-o", filepath.Join(dir, "zoom.mp4"), "--frames", "48"},
		{"zoom", photo, "-o", filepath.Join(dir, "zoom.webm"), "--frames", "48"},
		{"zoom", photo, "-o", filepath.Join(dir, "zoom.gif"), "--frames", "12"},
		{"video", frames, "-o", filepath.Join(dir, "video.mp4"), "--fps", "12"},
	} {
		if code, _, errOut := cli(t, context.Background(), append(c, flags...)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", c, code, errOut)
		}
	}
	page := `<!doctype html><title>motion</title>
<video id="zoom-mp4" src="zoom.mp4" muted autoplay loop playsinline></video>
<video id="zoom-webm" src="zoom.webm" muted autoplay loop playsinline></video>
<video id="video-mp4" src="video.mp4" muted autoplay loop playsinline></video>
<img id="gif" src="zoom.gif" alt="zoom">`
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer hs.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	defer cancelBrowser()
	if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/index.html")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"zoom-mp4", "zoom-webm", "video-mp4"} {
		expr := fmt.Sprintf(`(() => { const v = document.getElementById(%q); return v.error === null && v.readyState >= 2 && v.currentTime > 0.5; })()`, id)
		err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
		if err != nil {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(
				`(() => { const v = document.getElementById(%q); return JSON.stringify({error: v.error && v.error.message, ready: v.readyState, time: v.currentTime, size: [v.videoWidth, v.videoHeight]}); })()`, id)))
			t.Errorf("%s does not play: %v; %s", id, err, state)
		}
	}
	size, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`(() => { const i = document.getElementById("gif"); return [i.naturalWidth, i.naturalHeight]; })()`))
	if err != nil || len(size) != 2 || size[0] != 128 || size[1] != 96 {
		t.Errorf("the GIF shows at %v (%v), want 128x96", size, err)
	}
}
