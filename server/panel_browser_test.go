package server

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPanelControlsClearOfActions brings each control of the side panel
// into view by focusing it (as Tab does) from a scroll that hides it under
// the panel's sticky action bar, at a desktop's and a phone's size, and
// checks that the control then shows (WCAG 2.2's focus not obscured): the
// point at its middle is the control's, not the bar's. A click there is
// what a person (and the browser test) does next; under the bar it would
// press Dream or nothing.
func TestPanelControlsClearOfActions(t *testing.T) {
	findBrowser(t, "chromium", "chromium", "chromium-browser", "google-chrome")
	s := googLeNetStudio(t)
	ctx, problems := startChromium(t, 60*time.Second, func(chromedp.ConsoleMessage) bool { return false })
	do, poll, _ := drive(t, ctx, t.TempDir())
	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1366, 768}, {"phone", 390, 844}} {
		do(size.name+": open the page with every section of the panel open",
			chromedp.EmulateViewport(size.w, size.h),
			chromedp.Navigate(s.url),
			poll(`document.querySelectorAll("#layer option").length > 9`),
			chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#panel details").forEach((d) => { d.open = true; })`),
		)
		hidden, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
			const bar = document.querySelector("#panel .actions"), panel = document.getElementById("panel");
			// the scroll container that holds the panel: itself at a desktop's size, the page at a phone's
			const scroller = getComputedStyle(panel).overflowY === "auto" ? panel : document.scrollingElement;
			const name = (e) => e.id || e.getAttribute("aria-label") || e.textContent.trim().slice(0, 30) || e.outerHTML.slice(0, 60);
			const controls = [...panel.querySelectorAll("input, select, textarea, button, summary, a[href]")]
				.filter((e) => !bar.contains(e) && !e.disabled && e.getClientRects().length && e.offsetWidth > 2 && e.offsetHeight > 2);
			if (controls.length < 10) return ["only " + controls.length + " controls found"];
			const out = [];
			for (const e of controls) {
				// scroll so that e sits just under the bar, then focus it
				const br = bar.getBoundingClientRect(), er = e.getBoundingClientRect();
				scroller.scrollTop += er.bottom - br.bottom + 2;
				const under = e.getBoundingClientRect();
				if (under.top < bar.getBoundingClientRect().top - 2) continue; // the page could not scroll it under (its top)
				document.activeElement && document.activeElement.blur();
				e.focus();
				const r = e.getBoundingClientRect();
				const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
				if (!at || !(e === at || e.contains(at) || (e.labels && [...e.labels].some((l) => l.contains(at))))) {
					out.push(name(e) + " under " + (at ? at.tagName.toLowerCase() + (at.id ? "#" + at.id : "") + "." + at.className : "nothing"));
				}
			}
			return out;
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if len(hidden) > 0 {
			t.Errorf("%s: focused controls left under the action bar: %v", size.name, hidden)
		}
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("console errors: %v", p)
	}
}
