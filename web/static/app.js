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
  defaultLayer: "",
  images: {},      // the request's images (mask, guide) by field key: a File, or null
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
  for (const p of c.presets || []) {
    $("preset").append(new Option(p.name, p.name));
  }
  buildFields(c.fields);
  $("footer").textContent =
    `deepdream ${c.version || "dev"} · photos and images up to ${formatBytes(c.limits.max_upload)} and ` +
    `${Math.round(c.limits.max_pixels / 1e6)} megapixels · ${c.limits.workers} dream(s) at a time, ` +
    `${c.limits.queue} waiting at most · ${formatBytes(c.limits.max_memory)} of memory for dreams`;
  model.addEventListener("change", () => loadModel(model.value));
  $("preset").addEventListener("change", () => applyPreset($("preset").value));
  await loadModel(model.value);
  await loadGallery();
}

// buildFields adds a control for every field of a dream request to the
// form, as /api/config describes them: the studio's request table, the one
// the command line's flags come from. Each kind has its control: the
// layers and the classes are lists of specs, an image field takes a file,
// the numbers and yes/no fields an input. Each control carries its field's
// key in data-field; a kind the page does not know is an error in the
// console, for the browser tests to see.
function buildFields(fields) {
  const box = $("fields");
  for (const f of fields) {
    switch (f.kind) {
      case "layers":
        box.append(...layersControl(f));
        break;
      case "classes":
        box.append(...classesControl(f));
        break;
      case "image":
        box.append(...imageControl(f));
        break;
      case "int":
      case "uint":
      case "float":
      case "bool":
        box.append(...inputControl(f));
        state.fields.push(f.key);
        break;
      default:
        console.error(`The page has no control for the field ${f.key} (of kind ${f.kind}): it is not sent.`);
    }
  }
}

// fieldLabel returns the label of a control: for the element of id, or,
// without id, a heading for a group (aria-labelledby its id).
function fieldLabel(f, id) {
  const label = document.createElement(id ? "label" : "span");
  if (id) label.htmlFor = id;
  else label.className = "label";
  label.id = `${f.key}-label`;
  label.textContent = f.label;
  return label;
}

// inputControl makes the input of a number or yes/no field.
function inputControl(f) {
  const label = fieldLabel(f, f.key);
  const input = document.createElement("input");
  input.id = input.name = f.key;
  input.dataset.field = f.key;
  input.title = f.help;
  if (f.kind === "bool") {
    input.type = "checkbox";
    input.checked = f.default;
    const row = document.createElement("div");
    row.className = "inline";
    row.append(input, label);
    return [row];
  }
  input.type = "number";
  input.required = true;
  input.min = f.zero ? 0 : f.min;
  if (f.kind !== "uint") input.max = f.max;
  input.step = f.kind === "float" ? "any" : "1";
  input.value = f.default;
  if (f.key !== "seed") return [label, input];
  const row = document.createElement("div");
  row.className = "inline";
  const reseed = button("Random", () => {
    input.value = Math.floor(Math.random() * 1e9);
  });
  reseed.id = "reseed";
  reseed.setAttribute("aria-label", "Random seed");
  row.append(input, reseed);
  return [label, row];
}

// fieldValue returns a number or yes/no field's input as the form sends it.
function fieldValue(name) {
  const input = $(name);
  return input.type === "checkbox" ? String(input.checked) : input.value;
}

// setField shows a number or yes/no field's value from a dream's
// parameters or a preset.
function setField(name, v) {
  const input = $(name);
  if (input.type === "checkbox") input.checked = v === true || v === "true";
  else input.value = v;
}

// ---- the layers: a list of NAME[:CH,...][=WEIGHT] ----

// layersControl makes the list of layers, each a layer of the model with
// its channels and weight. The first row's controls are #layer, #channels
// and #layer-weight; the others' take the row's number. No row dreams the
// model's default layer, or, with classes and no guide, the classes alone.
function layersControl(f) {
  const label = fieldLabel(f);
  label.textContent = "Layers";
  const list = document.createElement("div");
  list.id = "layers";
  list.className = "rows";
  list.dataset.field = f.key;
  list.setAttribute("role", "group");
  list.setAttribute("aria-labelledby", label.id);
  list.title = f.help;
  const empty = document.createElement("p");
  empty.id = "layers-empty";
  empty.className = "hint";
  const add = button("Add a layer", () => {
    const rows = readLayers();
    rows.push({ name: state.defaultLayer, channels: "", weight: "1" });
    renderLayers(rows);
    $(layerID("layer", rows.length)).focus();
  });
  add.id = "add-layer";
  return [label, list, empty, add];
}

// layerID is the id of a layer row's control: the first row's is name.
function layerID(name, i) {
  return i === 1 ? name : `${name}-${i}`;
}

// parseLayer splits a layer spec as dream.ParseLayer does: the weight
// after the last "=", the channels after the last ":".
function parseLayer(spec) {
  let name = spec, weight = "1", channels = "";
  const eq = name.lastIndexOf("=");
  if (eq >= 0) [name, weight] = [name.slice(0, eq), name.slice(eq + 1)];
  const colon = name.lastIndexOf(":");
  if (colon >= 0) [name, channels] = [name.slice(0, colon), name.slice(colon + 1)];
  return { name, channels, weight };
}

// readLayers returns the rows of the list of layers as they stand.
function readLayers() {
  return [...document.querySelectorAll("#layers .layer-row")].map((row, k) => ({
    name: $(layerID("layer", k + 1)).value,
    channels: $(layerID("channels", k + 1)).value,
    weight: $(layerID("layer-weight", k + 1)).value,
  }));
}

// layerSpecs returns the layer specs the form sends.
function layerSpecs() {
  return readLayers().map((l) => {
    const ch = l.channels.replace(/\s+/g, "");
    const w = l.weight.trim();
    return l.name + (ch ? ":" + ch : "") + (w && Number(w) !== 1 ? "=" + w : "");
  });
}

// layerOptions fills a select with the model's layers, main ones first.
function layerOptions(sel) {
  const main = document.createElement("optgroup");
  main.label = "Main layers";
  const rest = document.createElement("optgroup");
  rest.label = "All layers";
  for (const l of state.layers) {
    (l.main ? main : rest).append(new Option(`${l.name} (${l.channels} channels)`, l.name));
  }
  if (main.children.length) sel.append(main);
  if (rest.children.length) sel.append(rest);
}

// knownLayer returns the name the model's list gives a layer named by its
// name or its tensor, or "".
function knownLayer(name) {
  const l = state.layers.find((l) => l.name === name || l.tensor === name);
  return l ? l.name : "";
}

// renderLayers remakes the list of layers from rows ({name, channels,
// weight}); a layer the model does not have becomes its default layer.
function renderLayers(rows) {
  const list = $("layers");
  list.replaceChildren();
  rows.forEach((l, k) => {
    const i = k + 1;
    const n = rows.length > 1 ? ` ${i}` : "";
    const row = document.createElement("div");
    row.className = "layer-row";
    const label = document.createElement("label");
    label.htmlFor = layerID("layer", i);
    label.textContent = `Layer${n}`;
    if (rows.length === 1) label.className = "visually-hidden"; // the list's heading says it
    const sel = document.createElement("select");
    sel.id = layerID("layer", i);
    layerOptions(sel);
    sel.value = knownLayer(l.name) || state.defaultLayer;
    const detail = document.createElement("div");
    detail.className = "inline detail";
    const chLabel = document.createElement("label");
    chLabel.htmlFor = layerID("channels", i);
    chLabel.textContent = "Channels";
    const ch = document.createElement("input");
    ch.id = layerID("channels", i);
    ch.type = "text";
    ch.inputMode = "numeric";
    ch.autocomplete = "off";
    ch.placeholder = "all";
    ch.title = "optional: channel numbers separated by commas, e.g. 97 or 1,5";
    ch.value = l.channels;
    const wLabel = document.createElement("label");
    wLabel.htmlFor = layerID("layer-weight", i);
    wLabel.textContent = "Weight";
    const w = document.createElement("input");
    w.id = layerID("layer-weight", i);
    w.type = "number";
    w.step = "any";
    w.className = "weight";
    w.title = "how much the layer counts; negative: the dream suppresses what it sees";
    w.value = l.weight;
    const remove = button("Remove", () => {
      const rest = readLayers();
      rest.splice(k, 1);
      renderLayers(rest);
      $("add-layer").focus();
    });
    remove.setAttribute("aria-label", `Remove layer ${i}`);
    const line = document.createElement("div");
    line.className = "inline";
    line.append(sel, remove);
    detail.append(chLabel, ch, wLabel, w);
    row.append(label, line, detail);
    list.append(row);
  });
  const empty = $("layers-empty");
  empty.hidden = rows.length > 0;
  empty.textContent = `No layer: the model's default layer (${state.defaultLayer}), or, with classes and no guide, the classes alone.`;
}

// setLayers shows layer specs, none for the field's default (the
// model's default layer, or the classes alone), and returns the names of
// those the model does not have, which it leaves out.
function setLayers(specs) {
  const rows = specs.map(parseLayer);
  renderLayers(rows.filter((l) => knownLayer(l.name)));
  return rows.filter((l) => !knownLayer(l.name)).map((l) => l.name);
}

// ---- the classes: a list of NAME|INDEX[=WEIGHT] ----

// classesControl makes the list of classes, each a name (suggested from
// the model's class names) or an index, with a weight.
function classesControl(f) {
  const label = fieldLabel(f);
  const list = document.createElement("div");
  list.id = "classes";
  list.className = "rows";
  list.dataset.field = f.key;
  list.setAttribute("role", "group");
  list.setAttribute("aria-labelledby", label.id);
  list.title = f.help;
  const note = document.createElement("p");
  note.id = "classes-note";
  note.className = "hint";
  const add = button("Add a class", () => {
    const rows = readClasses();
    rows.push({ name: "", weight: "1" });
    renderClasses(rows);
    $(`class-${rows.length}`).focus();
  });
  add.id = "add-class";
  return [label, list, note, add];
}

// parseClass splits a class spec as dream.ParseClass does: the weight
// after the last "=".
function parseClass(spec) {
  const eq = spec.lastIndexOf("=");
  return eq < 0 ? { name: spec, weight: "1" } : { name: spec.slice(0, eq), weight: spec.slice(eq + 1) };
}

function readClasses() {
  return [...document.querySelectorAll("#classes .class-row")].map((row, k) => ({
    name: $(`class-${k + 1}`).value,
    weight: $(`class-weight-${k + 1}`).value,
  }));
}

// classSpec returns the spec of a row of the list of classes ("" for a
// row without a name).
function classSpec(c) {
  const name = c.name.trim(), w = c.weight.trim();
  return name && name + (w && Number(w) !== 1 ? "=" + w : "");
}

// classSpecs returns the class specs the form sends: the rows with a name.
function classSpecs() {
  return readClasses().map(classSpec).filter((spec) => spec);
}

function renderClasses(rows) {
  const list = $("classes");
  list.replaceChildren();
  rows.forEach((c, k) => {
    const i = k + 1;
    const row = document.createElement("div");
    row.className = "inline class-row";
    const name = document.createElement("input");
    name.id = `class-${i}`;
    name.type = "text";
    name.autocomplete = "off";
    name.setAttribute("list", "class-names");
    name.setAttribute("aria-label", `Class ${i}: a name or an index`);
    name.placeholder = "name or index, e.g. goldfish";
    name.value = c.name;
    name.addEventListener("input", () => name.removeAttribute("aria-invalid"));
    const w = document.createElement("input");
    w.id = `class-weight-${i}`;
    w.type = "number";
    w.step = "any";
    w.className = "weight";
    w.setAttribute("aria-label", `Weight of class ${i}`);
    w.title = "how much the class counts (1: as much as the layers together); negative: less of it";
    w.value = c.weight;
    const remove = button("Remove", () => {
      const rest = readClasses();
      rest.splice(k, 1);
      renderClasses(rest);
      $("add-class").focus();
    });
    remove.setAttribute("aria-label", `Remove class ${i}`);
    row.append(name, w, remove);
    list.append(row);
  });
}

function setClasses(specs) {
  renderClasses(specs.map(parseClass));
}

// ---- the images of a request: a mask, a guide ----

// imageControl makes the file input of an image field: the image is sent
// as a file under the field's key. It shows the image chosen, which a
// gallery entry's Dream again also sets.
function imageControl(f) {
  const label = fieldLabel(f, f.key);
  const box = document.createElement("div");
  box.className = "image-field";
  box.dataset.field = f.key;
  box.title = f.help;
  const preview = document.createElement("img");
  preview.id = `${f.key}-preview`;
  preview.alt = "";
  preview.hidden = true;
  const name = document.createElement("span");
  name.id = `${f.key}-name`;
  name.className = "hint";
  name.textContent = "none";
  const choose = document.createElement("label");
  choose.className = "button";
  choose.htmlFor = f.key;
  choose.textContent = "Choose…";
  const input = document.createElement("input");
  input.id = f.key;
  input.type = "file";
  input.accept = "image/jpeg,image/png,image/gif,image/webp";
  input.className = "visually-hidden";
  input.addEventListener("change", () => {
    if (input.files.length) setImage(f.key, input.files[0]);
  });
  const remove = button("Remove", () => setImage(f.key, null));
  remove.id = `${f.key}-remove`;
  remove.setAttribute("aria-label", `Remove the ${f.label.toLowerCase()}`);
  remove.hidden = true;
  box.append(preview, name, choose, input, remove);
  state.images[f.key] = null;
  return [label, box];
}

// setImage sets the image of the field key to a File, or none (null).
function setImage(key, file) {
  const max = state.config.limits.max_upload;
  if (file && file.size > max) {
    showMessage(`This image is ${formatBytes(file.size)}; the studio takes images up to ${formatBytes(max)}.`);
    return;
  }
  state.images[key] = file;
  const preview = $(`${key}-preview`);
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.removeAttribute("src");
  preview.hidden = !file;
  if (file) {
    preview.src = URL.createObjectURL(file);
    preview.alt = `Chosen ${key}: ${file.name}`;
  }
  $(`${key}-name`).textContent = file ? file.name : "none";
  $(`${key}-remove`).hidden = !file;
  if (!file) $(key).value = "";
}

// ---- presets ----

// applyPreset fills the fields a preset names with its values (an empty
// list of layers: the model's default layer); the others stay as they
// are. It says what it could not set.
function applyPreset(name) {
  const note = $("preset-note");
  const p = (state.config.presets || []).find((p) => p.name === name);
  note.hidden = !p;
  if (!p) return;
  note.textContent = p.description;
  const problems = [];
  for (const f of state.config.fields) {
    if (!(f.key in p.values)) continue;
    const values = p.values[f.key];
    switch (f.kind) {
      case "layers": {
        const missing = setLayers(values);
        if (missing.length) problems.push(`the layers ${missing.join(", ")}, which ${$("model").value} does not have`);
        break;
      }
      case "classes":
        setClasses(values);
        break;
      case "image":
        if (values[0]) problems.push(`the ${f.key} ${values[0]}, which is a file to choose`);
        else setImage(f.key, null);
        break;
      default:
        setField(f.key, values[0]);
    }
  }
  if (problems.length) showMessage(`The preset ${p.name} names ${problems.join(", and ")}: left out.`, "info");
  else clearMessage();
}

// ---- the model ----

// loadModel lists the layers and the classes of a model. specs, if
// given, are the layers to show; else the rows stay (a layer the model
// lacks becomes its default layer), or, at the first load, the default
// layer is shown.
async function loadModel(name, specs) {
  const add = $("add-layer");
  add.disabled = true;
  const first = !state.layers.length;
  const rows = readLayers();
  try {
    const [layers, classes] = await Promise.all([
      api("GET", `/api/models/${encodeURIComponent(name)}/layers`),
      api("GET", `/api/models/${encodeURIComponent(name)}/classes`),
    ]);
    state.layers = layers.layers;
    state.defaultLayer = layers.default_layer;
    if (specs) setLayers(specs);
    else renderLayers(first ? [{ name: state.defaultLayer, channels: "", weight: "1" }] : rows);
    const names = $("class-names");
    names.replaceChildren(...classes.classes.map((c, i) => {
      const o = document.createElement("option");
      o.value = c;
      o.label = `class ${i}`;
      return o;
    }));
    $("classes-note").textContent = classes.unavailable
      ? `${name} cannot dream classes: ${classes.unavailable}.`
      : classes.classes.length ? `${classes.classes.length} classes: type a name to see them, or give an index.` : "Give classes by index.";
    $("add-class").disabled = !!classes.unavailable;
  } catch (e) {
    showMessage(e.message);
  } finally {
    add.disabled = false;
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
  img.onload = () => showEstimate();
  img.src = url;
  img.alt = `Chosen photo: ${name}`;
  img.hidden = false;
  $("photo-name").textContent = name;
}

// showEstimate shows what the dream of the chosen photo, at the size and
// with the options chosen, takes in memory (GET /api/estimate, as the
// studio admits it) and how it is tiled; called when the photo or the
// form changes, the last answer wins.
let estimateSeq = 0;
async function showEstimate() {
  const img = $("photo-preview");
  const out = $("estimate");
  if (img.hidden || !img.naturalWidth || !state.config) return;
  const q = new URLSearchParams({ width: img.naturalWidth, height: img.naturalHeight, model: $("model").value });
  if (state.file) {
    q.set("bytes", state.file.size);
    q.set("format", (state.file.type || "").replace("image/", ""));
  }
  for (const [k, v] of formData({ gallery: false }).entries()) {
    if (typeof v === "string" && !["source", "model", "gallery"].includes(k)) q.append(k, v);
  }
  const seq = ++estimateSeq;
  let text;
  try {
    const e = await api("GET", `/api/estimate?${q}`);
    const tiles = e.windows > 1 ? `, in tiles of ${e.tile} px (${e.windows} a step)` : "";
    text = e.fits ? `Dreamed at ${e.width}×${e.height}${tiles}: about ${formatBytes(e.bytes)} of memory, of the studio's ${formatBytes(e.budget)}.` : e.error;
  } catch (err) {
    text = err.message;
  }
  if (seq !== estimateSeq) return;
  out.textContent = text;
  out.hidden = false;
}

function setupDrop() {
  const drop = $("drop");
  $("form").addEventListener("change", () => showEstimate());
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
  const layers = readLayers();
  for (let i = 1; i <= layers.length; i++) {
    const ch = layers[i - 1].channels.trim();
    if (ch && !/^\d+(\s*,\s*\d+)*$/.test(ch)) {
      $(layerID("channels", i)).focus();
      return "Channels: give channel numbers separated by commas, e.g. 97 or 1,5 (or nothing for all).";
    }
  }
  const weights = [...document.querySelectorAll("#fields input.weight")];
  for (const w of weights) {
    if (w.value.trim() !== "" && !(Number.isFinite(Number(w.value)) && Number(w.value) !== 0)) {
      w.focus();
      return "Weight: give a number other than 0 (remove what should count for nothing).";
    }
  }
  return "";
}

// formData builds a submission from the form; over overrides fields (a
// layer: that layer alone).
function formData(over) {
  const fd = new FormData();
  if (state.source) fd.append("source", state.source);
  else fd.append("photo", state.file, state.file.name);
  fd.append("model", $("model").value);
  for (const f of state.config.fields) {
    switch (f.kind) {
      case "layers":
        for (const spec of over.layer ? [over.layer] : layerSpecs()) fd.append(f.key, spec);
        break;
      case "classes":
        for (const spec of classSpecs()) fd.append(f.key, spec);
        break;
      case "image":
        if (state.images[f.key]) fd.append(f.key, state.images[f.key], state.images[f.key].name);
        break;
      default:
        if (state.fields.includes(f.key)) fd.append(f.key, over[f.key] !== undefined ? over[f.key] : fieldValue(f.key));
    }
  }
  fd.append("gallery", over.gallery === false ? "0" : "1");
  return fd;
}

// markInvalid points at the control of a value the studio refused (its
// answer's field and value): a class, or a number.
function markInvalid(field, value) {
  let el = null;
  if (field === "classes") {
    const i = readClasses().findIndex((c) => classSpec(c) === value);
    if (i >= 0) el = $(`class-${i + 1}`);
  } else if (state.fields.includes(field)) {
    el = $(field);
  }
  if (!el) return;
  el.setAttribute("aria-invalid", "true");
  el.focus();
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
      if (e.data && e.data.field) markInvalid(e.data.field, e.data.value);
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

// objective names what a dream dreamed: its layers, classes and guide.
function objective(p) {
  const terms = [...p.layers, ...(p.classes || []).map((c) => `class ${c}`)];
  if (p.guide) terms.push(`guided by ${p.guide}`);
  return terms.join(" + ") || "the default layer";
}

// summary describes a dream's parameters: the objective and the numbers,
// then every other field of the request that is not its default.
function summary(p) {
  const shown = ["layers", "classes", "guide", "octaves", "iterations", "step", "jitter", "seed", "max_size"];
  let s = `${p.model} · ${objective(p)} · ${p.octaves} octaves × ${p.iterations} iterations · ` +
    `step ${p.step} · jitter ${p.jitter} · seed ${p.seed}` + (p.max_size ? ` · max ${p.max_size} px` : "");
  for (const f of state.config.fields) {
    const v = p[f.key];
    if (shown.includes(f.key) || v === undefined || v === f.default || v === "") continue;
    const name = f.key.replace(/_/g, " ");
    s += " · " + (f.kind === "bool" ? (v ? name : `no ${name}`) : `${name} ${v}`);
  }
  return s;
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
    img.alt = `Dream of ${objective(e.params)}`;
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

// dreamAgain fills the form with an entry's photo, settings and images
// and dreams: the images are fetched from the entry and sent again.
async function dreamAgain(e) {
  const p = e.params;
  if (![...$("model").options].some((o) => o.value === p.model)) {
    showMessage(`This dream used the model ${p.model}, which this studio does not offer.`);
    return;
  }
  const images = {};
  try {
    for (const f of state.config.fields) {
      if (f.kind !== "image" || !p[f.key]) continue;
      const res = await fetch(e.images[p[f.key]]);
      if (!res.ok) throw new Error(`The ${f.key} of this dream cannot be fetched from the gallery (${res.status}).`);
      const blob = await res.blob();
      images[f.key] = new File([blob], p[f.key], { type: blob.type });
    }
  } catch (err) {
    showMessage(err.message);
    return;
  }
  $("model").value = p.model;
  await loadModel(p.model, p.layers);
  for (const f of state.config.fields) {
    if (f.kind === "classes") setClasses(p[f.key] || []);
    else if (f.kind === "image") setImage(f.key, images[f.key] || null);
    else if (state.fields.includes(f.key) && p[f.key] !== undefined) setField(f.key, p[f.key]);
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
      renderLayers([{ name: l.name, channels: "", weight: "1" }]);
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
