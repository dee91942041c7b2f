package server

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestStudioInBrowserCreativeControls drives the page's creative controls
// in headless Chromium with ../shared's GoogLeNet: a control for every
// field of /api/config; the presets filling the form (two layers, the
// default layer); classes suggested from the model's names, an ambiguous
// one refused and pointed at; a mask and a guide chosen as files, every
// control labelled; the
// dream recording them all; and Dream again, which sends the entry's
// images back and dreams the same dream. Any console error or exception
// fails it.
func TestStudioInBrowserCreativeControls(t *testing.T) {
	findBrowser(t, "chromium", "chromium", "chromium-browser", "google-chrome") // before GoogLeNet is loaded
	s := googLeNetStudio(t)
	shots, dir := screenshotDir(t), t.TempDir()
	mask, guide := filepath.Join(dir, "left-black.png"), filepath.Join(dir, "guide.png")
	maskData := halfBlack(t, 64, 48)
	guideData, err := os.ReadFile(filepath.Join("testdata", "dog.png"))
	if err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string][]byte{mask: maskData, guide: guideData} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, problems := startChromium(t, 90*time.Second, func(m chromedp.ConsoleMessage) bool {
		return m.Source == "network" && strings.Contains(m.Text, "status of 400") // the class refused below
	})
	do, poll, screenshot := drive(t, ctx, shots)
	do("open the page",
		chromedp.Navigate(s.url),
		poll(`document.querySelectorAll("#layer option").length > 9 && document.querySelectorAll("#class-names option").length === 1000`),
	)
	missing, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`fetch("/api/config").then((r) => r.json()).then((c) =>
		c.fields.map((f) => f.key).filter((k) => !document.querySelector("#fields [data-field=" + k + "]")))`, chromedp.EvalAwaitPromise))
	if err != nil || len(missing) > 0 {
		t.Errorf("fields of /api/config without a control in the page: %v (%v)", missing, err)
	}
	do("choose a preset of two layers",
		chromedp.SetUploadFiles("#photo", []string{examplePhoto(t)}, chromedp.NodeReady),
		click(`#presets [data-preset="brush-stroke"]`),
		poll(`document.getElementById("layer").value === "conv2/3x3" && document.getElementById("layer-2").value === "inception_3a/output" &&
			!document.getElementById("layer-3") && document.getElementById("iterations").value === "15" &&
			document.getElementById("preset-note").textContent.includes("brush strokes")`),
	)
	do("choose the notebook's preset: the model's default layer",
		click(`#presets [data-preset="notebook"]`),
		poll(`!document.getElementById("layer") && !document.getElementById("layers-empty").hidden &&
			document.getElementById("layers-empty").textContent.includes("inception_4c/output") &&
			document.getElementById("iterations").value === "10"`),
	)
	do("add a class, suggested by the model's names, that names several",
		click("#add-class"),
		chromedp.SendKeys("#class-1", "terrier"),
		chromedp.SetValue("#max_size", "96"),
		chromedp.SetValue("#octaves", "1"),
		chromedp.SetValue("#iterations", "2"),
		click("#dream"),
		poll(`(() => {
			const m = document.getElementById("message");
			return !m.hidden && m.textContent.includes('class "terrier": ambiguous') && m.textContent.includes("Yorkshire terrier (187)") &&
				document.getElementById("class-1").getAttribute("aria-invalid") === "true" &&
				document.activeElement.id === "class-1";
		})()`),
	)
	do("choose a class, a layer, a mask and a guide, and dream",
		chromedp.SetValue("#class-1", "goldfish"),
		chromedp.SetValue("#class-weight-1", "0.5"),
		click("#add-layer"),
		chromedp.SetUploadFiles("#mask", []string{mask}, chromedp.NodeReady),
		chromedp.SetUploadFiles("#guide", []string{guide}, chromedp.NodeReady),
		poll(`document.getElementById("mask-name").textContent === "left-black.png" &&
			document.getElementById("guide-preview").complete && document.getElementById("guide-preview").naturalWidth === 24`),
		screenshot("desktop-creative-form"),
	)
	unlabelled, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#fields input, #fields select, #fields button")]
		.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim())
		.map((e) => e.id || e.outerHTML)`))
	if err != nil || len(unlabelled) > 0 {
		t.Errorf("controls of the lists of layers and classes and of the images without a label: %v (%v)", unlabelled, err)
	}
	do("dream",
		click("#dream"),
		poll(`document.querySelectorAll("#entries li").length === 1 && document.getElementById("status").textContent === "Done."`),
		screenshot("desktop-creative"),
	)
	entries := s.entries(t)
	if len(entries) != 1 {
		t.Fatalf("%d gallery entries, want the dream", len(entries))
	}
	first := entries[0]
	req := first.Params.Request
	if !slices.Equal(req.Layers, []string{"inception_4c/output"}) || !slices.Equal(req.Classes, []string{"goldfish=0.5"}) ||
		req.Mask != "mask.png" || req.Guide != "guide.png" ||
		req.Images["mask.png"].SHA256 != sha(maskData) || req.Images["guide.png"].SHA256 != sha(guideData) {
		t.Fatalf("the dream recorded %+v, want inception_4c/output, goldfish=0.5, the mask and the guide", req)
	}
	if caption, err := chromedp.Run(ctx, chromedp.Text("#entries li .caption")); err != nil ||
		!strings.Contains(caption, "inception_4c/output + class goldfish=0.5 + guided by guide.png") || !strings.Contains(caption, "mask mask.png") {
		t.Errorf("the entry's caption %q (%v), want its layer, class, guide and mask", caption, err)
	}

	do("dream it again from the gallery, its images sent back",
		chromedp.Reload(),
		poll(`document.querySelectorAll("#entries li").length === 1 && document.getElementById("add-class") !== null`),
		click(`#entries li:first-child button.again`),
		poll(`document.querySelectorAll("#entries li").length === 2 && document.getElementById("status").textContent === "Done."`),
	)
	entries = s.entries(t)
	if len(entries) != 2 {
		t.Fatalf("%d gallery entries, want 2", len(entries))
	}
	again := entries[0]
	if again.ID == first.ID {
		again = entries[1]
	}
	if got, want := again.Params.Request, first.Params.Request; !slices.Equal(got.Classes, want.Classes) ||
		!slices.Equal(got.Layers, want.Layers) || got.Images["mask.png"] != want.Images["mask.png"] || got.Images["guide.png"] != want.Images["guide.png"] ||
		got.Seed == want.Seed {
		t.Errorf("dreamed again with %+v, want %+v with another seed", got, want)
	}
	for _, p := range problems() {
		t.Error(p)
	}
}
