// The DeepDream studio page: a form that posts a dream to /api/jobs, a live
// view of the job fed by server-sent events, the result with a before/after
// slider, a layer explorer and the gallery. Plain DOM, no framework: every
// piece of server data goes into the page through textContent or
// attributes, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);

const state = {
  config: null,
  fields: [],      // keys of the request's number and yes/no fields (from /api/config)
  layers: [],      // of the selected model
  file: null,      // the chosen photo (a File), or
  source: null,    // the gallery entry whose original to dream again
  photoURL: null,  // what the "before" image shows
  job: null,       // the job shown in the progress panel
  events: null,    // its EventSource
  tiles: [],       // explorer tiles being dreamed
  tileTimer: null,
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

// ---- the form ----

function formatBytes(n) {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GB`;
  return n >= 1 << 20 ? `${Math.round(n / (1 << 20))} MB` : `${Math.round(n / 1024)} KB`;
}

async function init() {
  try {
    state.config = await api("GET", "/api/config");
  } catch (e) {
    showMessage(e.message);
    return;
  }
  const c = state.config;
  const model = $("model");
  for (const m of c.models) {
    model.append(new Option(m.name, m.name));
  }
  buildFields(c.fields);
  $("footer").textContent =
    `deepdream ${c.version || "dev"} · photos up to ${formatBytes(c.limits.max_upload)} and ` +
    `${Math.round(c.limits.max_pixels / 1e6)} megapixels · ${c.limits.workers} dream(s) at a time, ` +
    `${c.limits.queue} waiting at most · ${formatBytes(c.limits.max_memory)} of memory for dreams`;
  model.addEventListener("change", () => loadLayers(model.value));
  await loadLayers(model.value);
  await loadGallery();
}

// buildFields adds an input for every number and yes/no field of a dream
// request to the form, as /api/config describes them: the studio's request
// table, the one the command line's flags come from. It skips the kinds it
// does not render: the layer has its own controls; classes and images
// (masks, the guide) are not offered yet, and any kind added later waits
// for its own control.
function buildFields(fields) {
  const box = $("fields");
  for (const f of fields) {
    if (!["int", "uint", "float", "bool"].includes(f.kind)) continue;
    const label = document.createElement("label");
    label.htmlFor = f.key;
    label.textContent = f.label;
    const input = document.createElement("input");
    input.id = input.name = f.key;
    if (f.kind === "bool") {
      input.type = "checkbox";
      input.title = f.help;
      input.checked = f.default;
      const row = document.createElement("div");
      row.className = "inline";
      row.append(input, label);
      box.append(row);
      state.fields.push(f.key);
      continue;
    }
    input.type = "number";
    input.required = true;
    input.title = f.help;
    input.min = f.zero ? 0 : f.min;
    if (f.kind !== "uint") input.max = f.max;
    input.step = f.kind === "float" ? "any" : "1";
    input.value = f.default;
    box.append(label);
    if (f.key === "seed") {
      const row = document.createElement("div");
      row.className = "inline";
      const reseed = button("Random", () => {
        input.value = Math.floor(Math.random() * 1e9);
      });
      reseed.id = "reseed";
      reseed.setAttribute("aria-label", "Random seed");
      row.append(input, reseed);
      box.append(row);
    } else {
      box.append(input);
    }
    state.fields.push(f.key);
  }
}

// fieldValue returns a request field's input as the form sends it.
function fieldValue(name) {
  const input = $(name);
  return input.type === "checkbox" ? String(input.checked) : input.value;
}

// setField shows a request field's value from a dream's parameters.
function setField(name, v) {
  const input = $(name);
  if (input.type === "checkbox") input.checked = v === true || v === "true";
  else input.value = v;
}

async function loadLayers(name, select) {
  const sel = $("layer");
  sel.disabled = true;
  try {
    const data = await api("GET", `/api/models/${encodeURIComponent(name)}/layers`);
    state.layers = data.layers;
    sel.replaceChildren();
    const main = document.createElement("optgroup");
    main.label = "Main layers";
    const rest = document.createElement("optgroup");
    rest.label = "All layers";
    for (const l of data.layers) {
      (l.main ? main : rest).append(new Option(`${l.name} (${l.channels} channels)`, l.name));
    }
    if (main.children.length) sel.append(main);
    if (rest.children.length) sel.append(rest);
    sel.value = select || data.default_layer;
  } catch (e) {
    showMessage(e.message);
  } finally {
    sel.disabled = false;
  }
}

function setPhoto(file) {
  clearMessage();
  const max = state.config ? state.config.limits.max_upload : Infinity;
  if (file.size > max) {
    showMessage(`This photo is ${formatBytes(file.size)}; the studio takes photos up to ${formatBytes(max)}.`);
    return;
  }
  state.file = file;
  state.source = null;
  showPhoto(URL.createObjectURL(file), file.name);
}

function showPhoto(url, name) {
  if (state.photoURL && state.photoURL.startsWith("blob:")) URL.revokeObjectURL(state.photoURL);
  state.photoURL = url;
  const img = $("photo-preview");
  img.src = url;
  img.alt = `Chosen photo: ${name}`;
  img.hidden = false;
  $("photo-name").textContent = name;
}

function setupDrop() {
  const drop = $("drop");
  $("photo").addEventListener("change", (e) => {
    if (e.target.files.length) setPhoto(e.target.files[0]);
  });
  // A photo dropped beside the zone must not make the browser leave the page.
  for (const ev of ["dragover", "drop"]) {
    document.addEventListener(ev, (e) => e.preventDefault());
  }
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) setPhoto(e.dataTransfer.files[0]);
  });
}

// checkForm returns a message for the first field the browser finds
// invalid, or "".
function checkForm() {
  if (!state.file && !state.source) return "Choose a photo first.";
  for (const name of state.fields) {
    const input = $(name);
    if (!input.checkValidity()) {
      input.focus();
      const label = document.querySelector(`label[for=${name}]`).textContent;
      return `${label}: ${input.validationMessage}`;
    }
  }
  const ch = $("channels").value.trim();
  if (ch && !/^\d+(\s*,\s*\d+)*$/.test(ch)) {
    $("channels").focus();
    return "Channels: give channel numbers separated by commas, e.g. 97 or 1,5 (or nothing for all).";
  }
  return "";
}

// formData builds a submission from the form; over overrides fields.
function formData(over) {
  const fd = new FormData();
  if (state.source) fd.append("source", state.source);
  else fd.append("photo", state.file, state.file.name);
  fd.append("model", $("model").value);
  const ch = $("channels").value.replace(/\s+/g, "");
  fd.append("layers", (over.layer || $("layer").value) + (ch && !over.layer ? ":" + ch : ""));
  for (const name of state.fields) {
    fd.append(name, over[name] !== undefined ? over[name] : fieldValue(name));
  }
  fd.append("gallery", over.gallery === false ? "0" : "1");
  return fd;
}

async function submitDream(over) {
  clearMessage();
  const problem = checkForm();
  if (problem) {
    showMessage(problem);
    return;
  }
  const button = $("dream");
  button.disabled = true;
  try {
    const st = await api("POST", "/api/jobs", formData(over || {}));
    watch(st);
  } catch (e) {
    const fit = e.data && e.data.fit_max_size;
    if (fit) {
      // Too large for the studio's memory: offer the largest size that
      // fits, without dreaming it unasked.
      $("max_size").value = fit;
      showMessage(`${e.message}. The max size is now ${fit}: press Dream to dream it at that size.`, "info");
    } else {
      showMessage(e.message);
    }
  } finally {
    button.disabled = false;
  }
}

// ---- the running dream ----

function seconds(ms) {
  const s = Math.round(ms / 1000);
  return s < 90 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function describe(st) {
  switch (st.state) {
    case "queued":
      return st.position === 1 ? "Waiting: next in the queue." : `Waiting in the queue: position ${st.position}.`;
    case "running":
      if (!st.step) return "Starting…";
      return `Octave ${st.octave}/${st.octaves} (${st.width}×${st.height}) · step ${st.iteration}/${st.iterations} · ` +
        `${seconds(st.elapsed_ms)} elapsed, about ${seconds(st.eta_ms)} left`;
    case "done":
      return "Done.";
    case "cancelled":
      return "Cancelled.";
    case "failed":
      return "Failed: " + st.error;
  }
  return st.state;
}

function watch(st) {
  if (state.events) state.events.close();
  state.job = st;
  const live = $("live");
  live.removeAttribute("src");
  live.dataset.frames = "0";
  $("progress").hidden = false;
  $("cancel").disabled = false;
  show(st);
  const es = new EventSource(`/api/jobs/${st.id}/events`);
  state.events = es;
  es.addEventListener("status", (e) => {
    const s = JSON.parse(e.data);
    if (s.id !== state.job.id) return;
    show(s);
    if (["done", "failed", "cancelled"].includes(s.state)) {
      es.close();
      finished(s);
    }
  });
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) showMessage("Lost contact with the studio.");
  };
}

function show(st) {
  $("status").textContent = describe(st);
  const bar = $("bar");
  bar.max = st.steps || 1;
  bar.value = st.state === "done" ? bar.max : st.step || 0;
  if (st.preview) {
    const live = $("live");
    live.src = st.preview;
    live.dataset.frames = String(Number(live.dataset.frames || 0) + 1);
  }
}

function finished(st) {
  $("cancel").disabled = true;
  if (st.state === "failed") showMessage("The dream failed: " + st.error);
  if (st.state !== "done") return;
  showResult({ result: st.result, original: state.photoURL, params: null });
  loadGallery();
}

async function cancelJob() {
  if (!state.job) return;
  try {
    await api("DELETE", `/api/jobs/${state.job.id}`);
  } catch (e) {
    showMessage(e.message);
  }
}

// ---- the result ----

function showResult(r) {
  $("result").hidden = false;
  $("after").src = r.result;
  $("before").src = r.original;
  $("download").href = r.result + "?download=1";
  $("result-params").textContent = r.params ? summary(r.params) : "";
  setSlider();
}

function setSlider() {
  const v = Number($("slider").value);
  $("before").style.clipPath = `inset(0 ${100 - v}% 0 0)`;
  $("slider").setAttribute("aria-valuetext", `${v}% original`);
}

function summary(p) {
  return `${p.model} · ${p.layers.join(" + ")} · ${p.octaves} octaves × ${p.iterations} iterations · ` +
    `step ${p.step} · jitter ${p.jitter} · seed ${p.seed}` + (p.max_size ? ` · max ${p.max_size} px` : "");
}

// ---- the gallery ----

async function loadGallery() {
  let data;
  try {
    data = await api("GET", "/api/gallery");
  } catch (e) {
    showMessage(e.message);
    return;
  }
  const list = $("entries");
  list.replaceChildren();
  $("gallery-empty").hidden = data.entries.length > 0;
  for (const e of data.entries) {
    const li = document.createElement("li");
    li.className = "entry";
    li.dataset.id = e.id;
    const img = document.createElement("img");
    img.src = e.thumb;
    img.alt = `Dream with ${e.params.layers.join(", ")}`;
    img.loading = "lazy";
    const cap = document.createElement("p");
    cap.className = "caption";
    cap.textContent = `${summary(e.params)} · ${e.width}×${e.height}`;
    const row = document.createElement("div");
    row.className = "row";
    row.append(
      button("View", () => showResult({ result: e.result, original: e.original, params: e.params })),
      button("Dream again", () => dreamAgain(e)),
      link("Download", e.result + "?download=1"),
      button("Delete", () => deleteEntry(e), "danger"),
    );
    li.append(img, cap, row);
    list.append(li);
  }
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

// dreamAgain fills the form with an entry's photo and settings and dreams.
async function dreamAgain(e) {
  const p = e.params;
  if (![...$("model").options].some((o) => o.value === p.model)) {
    showMessage(`This dream used the model ${p.model}, which this studio does not offer.`);
    return;
  }
  const [spec] = p.layers;
  const [name, channels = ""] = spec.replace(/=.*$/, "").split(":");
  if ($("model").value !== p.model) {
    $("model").value = p.model;
  }
  await loadLayers(p.model, name);
  $("channels").value = channels;
  for (const f of state.fields) {
    if (p[f] !== undefined) setField(f, p[f]);
  }
  state.source = e.id;
  state.file = null;
  showPhoto(e.original, "photo of a gallery dream");
  submitDream();
}

async function deleteEntry(e) {
  if (!window.confirm("Delete this dream from the gallery?")) return;
  try {
    await api("DELETE", `/api/gallery/${e.id}`);
  } catch (err) {
    showMessage(err.message);
  }
  loadGallery();
}

// ---- the layer explorer ----

// One small job per main layer, through the same queue as every dream;
// tiles are not kept in the gallery. They are polled rather than streamed:
// a browser opens at most six connections to a host.
const exploreSize = 224;

async function explore() {
  clearMessage();
  const problem = checkForm();
  if (problem) {
    showMessage(problem);
    return;
  }
  const main = state.layers.filter((l) => l.main);
  if (!main.length) {
    showMessage("This model names no main layers to explore; pick a layer from the list instead.");
    return;
  }
  $("explorer").hidden = false;
  const tiles = $("tiles");
  tiles.replaceChildren();
  state.tiles = [];
  const maxSize = Number($("max_size").value);
  const size = maxSize > 0 ? Math.min(maxSize, exploreSize) : exploreSize;
  const octaves = Math.min(Number($("octaves").value), 3);
  for (const l of main) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "tile";
    b.setAttribute("aria-label", `Dream ${l.name} at full size`);
    const img = document.createElement("img");
    img.alt = `Layer ${l.name}`;
    const cap = document.createElement("span");
    cap.className = "caption";
    cap.textContent = `${l.name} (${l.channels})`;
    const st = document.createElement("span");
    st.className = "state";
    st.textContent = "sending…";
    b.append(img, cap, st);
    b.addEventListener("click", () => {
      $("layer").value = l.name;
      $("channels").value = "";
      submitDream();
    });
    li.append(b);
    tiles.append(li);
    const tile = { layer: l.name, img, st, id: null, done: false };
    state.tiles.push(tile);
    try {
      const job = await api("POST", "/api/jobs", formData({ layer: l.name, max_size: size, octaves, gallery: false }));
      tile.id = job.id;
      tile.st.textContent = describe(job);
    } catch (e) {
      tile.done = true;
      tile.st.textContent = e.message;
    }
  }
  pollTiles();
}

async function pollTiles() {
  clearTimeout(state.tileTimer);
  const pending = state.tiles.filter((t) => t.id && !t.done);
  for (const t of pending) {
    try {
      const st = await api("GET", `/api/jobs/${t.id}`);
      t.st.textContent = st.state === "running" ? `step ${st.step}/${st.steps}` : describe(st);
      if (st.state === "done") t.img.src = st.result;
      t.done = ["done", "failed", "cancelled"].includes(st.state);
    } catch (e) {
      t.st.textContent = e.message;
      t.done = true;
    }
  }
  if (state.tiles.some((t) => t.id && !t.done)) state.tileTimer = setTimeout(pollTiles, 800);
}

// ---- wiring ----

document.addEventListener("DOMContentLoaded", () => {
  setupDrop();
  $("form").addEventListener("submit", (e) => {
    e.preventDefault();
    submitDream();
  });
  $("explore").addEventListener("click", explore);
  $("cancel").addEventListener("click", cancelJob);
  $("slider").addEventListener("input", setSlider);
  init();
});
