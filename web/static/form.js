// The side panel's form: the presets, the settings remembered across
// reloads, a dream's settings loaded back (Edit), the model's layers and
// classes, and the submission of a dream; the controls themselves are
// controls.js's.
"use strict";

// ---- presets ----

// buildPresets makes a button for each preset, with its thumbnail (the
// example photo dreamed with it) when the studio has one.
function buildPresets(presets) {
  const box = $("presets");
  for (const p of presets) {
    const b = button("", () => applyPreset(p.name), "preset");
    b.dataset.preset = p.name;
    b.setAttribute("aria-pressed", "false");
    b.title = p.description;
    const img = document.createElement("img");
    img.alt = "";
    if (p.thumb) img.src = p.thumb;
    const name = document.createElement("span");
    name.textContent = p.name;
    b.append(img, name);
    box.append(b);
  }
  $("presets-label").hidden = box.hidden = presets.length === 0;
}

// applyPreset fills the fields a preset names with its values (an empty
// list of layers: the model's default layer); the others stay as they
// are. It says what it could not set.
function applyPreset(name) {
  const note = $("preset-note");
  const p = (state.config.presets || []).find((p) => p.name === name);
  note.hidden = !p;
  for (const b of document.querySelectorAll("#presets button")) b.setAttribute("aria-pressed", String(b.dataset.preset === name));
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
  saveSettings();
}

// ---- settings remembered across reloads (localStorage) ----

const settingsKey = "deepdream.settings";

// saveSettings keeps the form's settings: the model, the layers, the
// classes and the numbers and yes/no fields (not the files).
function saveSettings() {
  if (!state.config) return;
  const s = { model: $("model").value, layers: layerSpecs(), classes: classSpecs(), fields: {} };
  for (const key of state.fields) s.fields[key] = fieldValue(key);
  s.sweep = { field: $("sweep-field").value, values: $("sweep-values").value };
  try {
    localStorage.setItem(settingsKey, JSON.stringify(s));
  } catch (e) {
    // storage full or refused: the settings are not remembered, nothing else changes
  }
}

function savedSettings() {
  try {
    return JSON.parse(localStorage.getItem(settingsKey) || "null");
  } catch (e) {
    return null;
  }
}

// restoreSettings shows saved settings (the layers are the model's to
// show: loadModel).
function restoreSettings(s) {
  setClasses(s.classes || []);
  for (const [key, v] of Object.entries(s.fields || {})) {
    if (state.fields.includes(key)) setField(key, v);
  }
  if (s.sweep) {
    if ([...$("sweep-field").options].some((o) => o.value === s.sweep.field)) $("sweep-field").value = s.sweep.field;
    $("sweep-values").value = s.sweep.values || "";
  }
}

// loadParams shows a dream's parameters in the form ("Edit"), its images
// fetched from its gallery entry, and its photo in the picture; it returns
// whether it could.
async function loadParams(e) {
  const p = e.params;
  if (![...$("model").options].some((o) => o.value === p.model)) {
    showMessage(`This dream used the model ${p.model}, which this studio does not offer.`);
    return false;
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
    return false;
  }
  $("model").value = p.model;
  await loadModel(p.model, p.layers);
  for (const f of state.config.fields) {
    if (f.kind === "classes") setClasses(p[f.key] || []);
    else if (f.kind === "image") setImage(f.key, images[f.key] || null);
    else if (state.fields.includes(f.key) && p[f.key] !== undefined) setField(f.key, p[f.key]);
  }
  if (e.kind !== "video") useSource(e); // a video's original is its clip
  if (e.kind) loadMotion(e);
  saveSettings();
  return true;
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
    renderLayerGrid();
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

// checkForm returns a message for the first field the browser finds
// invalid, or "". A video job (clip) needs no photo.
function checkForm(clip) {
  if (!clip && !state.file && !state.source) return "Choose a photo first.";
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
// layer: that layer alone) and gives the job's kind and group, a zoom's
// or a video's options (motion, by key) and a video's clip.
function formData(over) {
  const fd = new FormData();
  fd.append("owner", state.owner);
  if (over.kind) fd.append("kind", over.kind);
  if (over.group) fd.append("group", over.group);
  if (over.clip && over.clip.source) fd.append("source", over.clip.source);
  else if (over.clip) fd.append("clip", over.clip, over.clip.name);
  else if (state.source) fd.append("source", state.source);
  else fd.append("photo", state.file, state.file.name);
  for (const [key, v] of Object.entries(over.motion || {})) fd.append(key, v);
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
    // A dream already running goes on (the studio queues the new one):
    // the jobs panel shows both.
    const running = [...state.jobs.values()].some((j) => j.owner === state.owner && j.kind === "dream" && !finishedState(j.state) && j.id !== st.id);
    watch(st, state.photoURL);
    if (running) showMessage("Your other dream goes on: it is in the jobs below, to watch or cancel.", "info");
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

