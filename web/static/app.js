// The DeepDream studio page, built around the picture: the settings in a
// side panel (controls.js, form.js), the photo, the live preview and the before/after
// comparison in one place (picture.js), the jobs of the studio from its
// event stream (jobs.js), the layer explorer, the sweeps and the gallery
// as grids (grids.js). Plain DOM and classic scripts sharing this file's
// globals, no framework, no build step: every piece of server data goes
// into the page through textContent or attributes, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);

const state = {
  config: null,
  fields: [],      // keys of the request's number and yes/no fields (from /api/config)
  layers: [],      // of the selected model
  defaultLayer: "",
  images: {},      // the request's images (mask, guide) by field key: a File, or null
  file: null,      // the chosen photo (a File), or
  source: null,    // the gallery entry whose original to dream again
  photoURL: null,  // what the "before" image shows
  job: null,       // the job shown in the picture
  jobPhoto: null,  // its photo, when this page sent it
  events: null,    // its EventSource
  entry: null,     // the gallery entry the picture shows, once done
  jobs: new Map(), // the studio's jobs by ID, from /api/jobs/events
  motion: null,    // the keys of the Motion section's options, by kind of job (motion.js)
  clip: null,      // the clip of a video job: a File, or a gallery entry's {source, name}
  owner: "",       // this page's ID, kept across reloads in sessionStorage
  // the jobs stream: when the studio was last heard from, whether it is lost
  conn: { es: null, heard: 0, lost: false, timer: null, watchdog: null },
};

// ---- messages ----

function showMessage(text, kind) {
  const m = $("message");
  m.textContent = text;
  m.className = "message" + (kind === "info" ? " info" : "");
  m.hidden = false;
}

function clearMessage() {
  $("message").hidden = true;
  $("message").textContent = "";
}

// api calls the studio and returns the decoded JSON answer, or throws an
// Error carrying the studio's own message, and its whole answer as data.
async function api(method, url, body) {
  let res;
  try {
    res = await fetch(url, { method, body });
  } catch (e) {
    throw new Error("The studio cannot be reached (is `deepdream serve` still running?).");
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    // not JSON: the status says enough
  }
  if (!res.ok) {
    const e = new Error((data && data.error) || `The studio answered ${res.status} ${res.statusText}.`);
    e.data = data;
    throw e;
  }
  return data;
}

function formatBytes(n) {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GB`;
  return n >= 1 << 20 ? `${Math.round(n / (1 << 20))} MB` : `${Math.round(n / 1024)} KB`;
}

function button(text, onclick, cls) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  if (cls) b.className = cls;
  b.addEventListener("click", onclick);
  return b;
}

function link(text, href) {
  const a = document.createElement("a");
  a.className = "button";
  a.textContent = text;
  a.href = href;
  a.download = "";
  return a;
}

// randomID returns an ID of the form the studio takes for an owner or a
// group: [A-Za-z0-9_-], here 16 letters and digits.
function randomID() {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...b)).replace(/[+/=]/g, "x");
}

// pageOwner returns this page's owner ID: the same after a reload of the
// tab (sessionStorage), another in another tab.
function pageOwner() {
  let id = sessionStorage.getItem("deepdream.owner");
  if (!id) {
    id = randomID();
    sessionStorage.setItem("deepdream.owner", id);
  }
  return id;
}

async function init() {
  state.owner = pageOwner();
  try {
    state.config = await api("GET", "/api/config");
  } catch (e) {
    showMessage(e.message);
    lost(); // the page loads again once the studio answers
    return;
  }
  const c = state.config;
  for (const m of c.models) $("model").append(new Option(m.name, m.name));
  buildPresets(c.presets || []);
  buildFields(c.fields);
  $("paint").hidden = !("mask" in state.images); // a mask to paint needs the request's mask field
  buildSweep(c.fields);
  buildMotion(c.motion || []);
  $("footer").textContent =
    `deepdream ${c.version || "dev"} · photos and images up to ${formatBytes(c.limits.max_upload)} and ` +
    `${Math.round(c.limits.max_pixels / 1e6)} megapixels · ${c.limits.workers} dream(s) at a time, ` +
    `${c.limits.queue} waiting at most · ${formatBytes(c.limits.max_memory)} of memory for dreams`;
  $("model").addEventListener("change", () => loadModel($("model").value));
  const saved = savedSettings();
  if (saved && [...$("model").options].some((o) => o.value === saved.model)) $("model").value = saved.model;
  await loadModel($("model").value, saved ? saved.layers : undefined);
  if (saved) restoreSettings(saved);
  $("form").addEventListener("input", saveSettings);
  $("form").addEventListener("change", () => {
    saveSettings();
    markPickedLayer();
    showEstimate();
  });
  watchJobs();
  await loadGallery();
}

// ---- wiring ----

// keepActionsClear makes a control brought into view (by Tab, by a find,
// by a script) land clear of the panel's sticky action bar, not under it:
// the bottom scroll padding (style.css) follows the bar's height.
function keepActionsClear() {
  const bar = document.querySelector("#panel .actions");
  const fit = () => document.documentElement.style.setProperty("--actions-height", `${bar.offsetHeight}px`);
  new ResizeObserver(fit).observe(bar);
  fit();
}

document.addEventListener("DOMContentLoaded", () => {
  setupPicture();
  keepActionsClear();
  $("form").addEventListener("submit", (e) => {
    e.preventDefault();
    submitDream();
  });
  $("explore").addEventListener("click", explore);
  $("explore-cancel").addEventListener("click", () => cancelGroup(state.explore));
  $("sweep").addEventListener("click", sweep);
  $("sweep-cancel").addEventListener("click", () => cancelGroup(state.sweep));
  $("cancel").addEventListener("click", cancelJob);
  init();
});
