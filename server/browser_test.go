package server

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/deepdream-go/deepdream/internal/shared"
	"github.com/deepdream-go/deepdream/models"
)

// What the browser tests (e2e_test.go for Chromium, firefox_test.go for
// Firefox) share.

// findBrowser returns the first of names on the PATH, skipping the test
// when there is none, except in CI where scripts/setup.sh installs the
// Debian package pkg.
func findBrowser(t *testing.T, pkg string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("the browser test needs %s, which CI installs with scripts/setup.sh: it is missing", pkg)
	}
	t.Skipf("the browser test needs %s (apt-get install %s, or scripts/setup.sh); skipping", pkg, pkg)
	return ""
}

// click presses the mouse on the middle of the element sel, scrolled into
// view, as a person does (chromedp.Click), and fails naming what it hit
// when something else covers that point: a click that silently lands on
// a sticky bar over the control is a bug of the page, not a flake.
func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		watch := `(() => {
			window.clickMissed = null;
			addEventListener("mousedown", (e) => {
				const want = document.querySelector(` + jsString(sel) + `), hit = e.target;
				window.clickMissed = want && want.contains(hit) ? "" :
					hit.tagName.toLowerCase() + (hit.id ? "#" + hit.id : "") + (hit.className ? "." + String(hit.className).split(" ").join(".") : "");
			}, {once: true, capture: true});
		})()`
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](watch)); err != nil {
			return err
		}
		if err := chromedp.Do(ctx, chromedp.Click(sel)); err != nil {
			return err
		}
		missed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`String(window.clickMissed)`))
		if err != nil {
			return err
		}
		if missed == "null" {
			return fmt.Errorf("the click on %s reached nothing in the page", sel)
		}
		if missed != "" {
			return fmt.Errorf("the click on %s landed on %s, which covers it there", sel, missed)
		}
		return nil
	})
}

// googLeNetModel is ../shared's GoogLeNet as the studio's model
// "googlenet".
func googLeNetModel(t *testing.T) *Model {
	t.Helper()
	entry, err := models.Lookup("googlenet")
	if err != nil {
		t.Fatal(err)
	}
	return OpenModel("googlenet", entry, shared.GoogLeNet(t))
}

// googLeNetStudio starts a studio serving ../shared's GoogLeNet as
// "googlenet", the model the page is meant for: nine main layers. Its
// data directory is dataDir, or a temporary one if "".
func googLeNetStudio(t *testing.T, dataDir ...string) *studio {
	t.Helper()
	cfg := Config{Models: []*Model{googLeNetModel(t)}}
	if len(dataDir) > 0 {
		cfg.DataDir = dataDir[0]
	}
	return newStudio(t, cfg)
}

// examplePhoto returns the absolute path of the repository's example photo
// (768×576), for a browser to open.
func examplePhoto(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "examples", "dog.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// screenshotDir returns where a browser test saves its screenshots: a
// temporary directory, or $DEEPDREAM_SCREENSHOTS to keep them (e.g. for
// docs/studio.png).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DEEPDREAM_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	t.Logf("screenshots in %s", dir)
	return dir
}
