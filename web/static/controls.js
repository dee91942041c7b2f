// The controls of a dream request, made from /api/config's fields (the
// studio's request table, the one the command line's flags come from):
// the numbers and yes/no fields, the list of layers, the list of classes,
// the images (a mask, a guide), each read and set by the form (form.js).
"use strict";

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

// rowsList makes the group of rows (#id) of a list field f, labelled by
// label, and its hint (#hintID): the part the lists of layers and of
// classes share.
function rowsList(f, label, id, hintID) {
  const list = document.createElement("div");
  list.id = id;
  list.className = "rows";
  list.dataset.field = f.key;
  list.setAttribute("role", "group");
  list.setAttribute("aria-labelledby", label.id);
  list.title = f.help;
  const hint = document.createElement("p");
  hint.id = hintID;
  hint.className = "hint";
  return [list, hint];
}

// weightInput makes the weight of a row of the layers or of the classes.
function weightInput(id, value, title) {
  const w = document.createElement("input");
  w.id = id;
  w.type = "number";
  w.step = "any";
  w.className = "weight";
  w.title = title;
  w.value = value;
  return w;
}

// ---- the layers: a list of NAME[:CH,...][=WEIGHT] ----

// layersControl makes the list of layers, each a layer of the model with
// its channels and weight. The first row's controls are #layer, #channels
// and #layer-weight; the others' take the row's number. No row dreams the
// model's default layer, or, with classes and no guide, the classes alone.
function layersControl(f) {
  const label = fieldLabel(f);
  label.textContent = "Layers";
  const [list, empty] = rowsList(f, label, "layers", "layers-empty");
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
    const w = weightInput(layerID("layer-weight", i), l.weight, "how much the layer counts; negative: the dream suppresses what it sees");
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
  if (state.config) markPickedLayer();
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
  const [list, note] = rowsList(f, label, "classes", "classes-note");
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
    const w = weightInput(`class-weight-${i}`, c.weight, "how much the class counts (1: as much as the layers together); negative: less of it");
    w.setAttribute("aria-label", `Weight of class ${i}`);
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
    if (input.files.length) chooseImage(f.key, input.files[0]);
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
  if (key === "mask" && !(file && file.painted)) clearMask();
}

// chooseImage sets the image a person chose for the field key, once it
// is known to be an image the studio can read; else it clears the field
// and says why, before Dream is pressed.
async function chooseImage(key, file) {
  clearMessage();
  const problem = await checkImage(file, `The ${key} ${file.name}`);
  if (problem) {
    setImage(key, null);
    showMessage(problem);
    return;
  }
  setImage(key, file);
}
