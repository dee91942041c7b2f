package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestStudioInBrowserRefusesOtherHosts plays DNS rebinding in headless
// Chromium: evil.example resolves to 127.0.0.1 (as an attacker's DNS would
// make it after its page has loaded), so a page of evil.example is served
// by the studio's port and its scripts ask the studio for the gallery and
// a deletion as same-origin requests. The studio refuses them all; it
// answers localhost and the names it was given (studio.lan).
func TestStudioInBrowserRefusesOtherHosts(t *testing.T) {
	chrome := findBrowser(t, "chromium", "chromium", "chromium-browser", "google-chrome")
	s := newStudio(t, Config{Hosts: []string{"studio.lan"}})
	st := s.mustSubmit(t, pngPhoto(t, 16, 16), small...)
	s.wait(t, st.ID)
	port := s.url[strings.LastIndex(s.url, ":"):]

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("host-resolver-rules", "MAP evil.example 127.0.0.1, MAP studio.lan 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	defer cancelBrowser()
	start := time.Now()
	do := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s (after %s): %v", name, time.Since(start).Round(time.Millisecond), err)
		}
	}
	poll := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))
	}
	// attack is what the page of evil.example runs once its name points
	// here: read the gallery, fetch an original, delete the entry.
	attack := `Promise.all([
		fetch("/api/gallery").then((r) => r.status),
		fetch("/api/gallery/` + st.ID + `/original").then((r) => r.status),
		fetch("/api/gallery/` + st.ID + `", {method: "DELETE"}).then((r) => r.status),
	])`

	for _, host := range []string{"localhost", "studio.lan"} {
		do("open the page as "+host,
			chromedp.Navigate("http://"+host+port+"/"),
			poll(`document.querySelectorAll("#entries li").length === 1`),
		)
	}
	do("open evil.example, now resolving here", chromedp.Navigate("http://evil.example"+port+"/"))
	statuses, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](attack, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for i, code := range statuses {
		if code != 421 {
			t.Errorf("the page of evil.example got %d for request %d, want 421 (all: %v)", code, i+1, statuses)
		}
	}
	if text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.textContent`)); err != nil || !strings.Contains(text, "answers to localhost") {
		t.Errorf("the page of evil.example shows %q (%v), want the refusal", text, err)
	}
	if n := len(s.entries(t)); n != 1 {
		t.Errorf("%d gallery entries after the attack, want the one dreamed", n)
	}
}
