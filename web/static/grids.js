// The grids: the layer picker (the model's main layers as tiles, which
// the explorer fills with the photo dreamed small at each), the sweeps
// (one setting, several values), and the gallery. The explorer's and a
// sweep's jobs are one group each, cancelled as one; their tiles follow
// the jobs stream (jobs.js), and come back after a reload.
"use strict";

// ---- the layer picker ----

// renderLayerGrid makes a tile for each main layer of the model: choosing
// one makes it the layer to dream.
function renderLayerGrid() {
  const tiles = $("tiles");
  tiles.replaceChildren();
  for (const l of state.layers.filter((l) => l.main)) {
    const li = document.createElement("li");
    li.dataset.layer = l.name;
    const b = document.createElement("button");
    b.type = "button";
    b.className = "tile";
    b.setAttribute("aria-label", `Dream the layer ${l.name}`);
    const img = document.createElement("img");
    img.alt = "";
    const cap = document.createElement("span");
    cap.className = "caption";
    cap.textContent = `${l.name} (${l.channels})`;
    const st = document.createElement("span");
    st.className = "state";
    b.append(img, cap, st);
    b.addEventListener("click", () => {
      renderLayers([{ name: l.name, channels: "", weight: "1" }]);
      markPickedLayer();
      saveSettings();
    });
    li.append(b);
    tiles.append(li);
  }
  $("explorer").hidden = !tiles.children.length;
  markPickedLayer();
}

// markPickedLayer presses the tile of the form's layer, when it has one
// layer.
function markPickedLayer() {
  const layers = readLayers();
  const picked = layers.length === 1 ? layers[0].name : "";
  for (const li of $("tiles").children) {
    li.querySelector("button").setAttribute("aria-pressed", String(li.dataset.layer === picked));
  }
}

// ---- groups of jobs: the explorer, a sweep ----

// A group is {kind, group, items: [{key, label, id}]}: each item a job
// and a tile (tile: the elements of its tile, not kept).
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
  const maxSize = Number($("max_size").value);
  const size = maxSize > 0 ? Math.min(maxSize, exploreSize) : exploreSize;
  const octaves = Math.min(Number($("octaves").value), 3);
  const g = { kind: "explore", group: randomID(), items: main.map((l) => ({ key: l.name, label: l.name })) };
  state.explore = g;
  await submitGroup(g, (item) => ({ layer: item.key, max_size: size, octaves }));
}

// buildSweep fills the sweep's list of settings: the numbers of the
// request.
function buildSweep(fields) {
  const sel = $("sweep-field");
  for (const f of fields) {
    if (["int", "uint", "float"].includes(f.kind)) sel.append(new Option(f.label, f.key));
  }
  if ([...sel.options].some((o) => o.value === "step")) sel.value = "step";
}

const maxSweep = 12;

async function sweep() {
  clearMessage();
  const field = $("sweep-field").value;
  const values = $("sweep-values").value.split(",").map((v) => v.trim()).filter((v) => v !== "");
  if (!values.length || values.length > maxSweep || values.some((v) => !Number.isFinite(Number(v)))) {
    $("sweep-values").focus();
    showMessage(`Sweep: give 1 to ${maxSweep} numbers separated by commas, e.g. 1, 1.5, 2.`);
    return;
  }
  const problem = checkForm();
  if (problem) {
    showMessage(problem);
    return;
  }
  const label = $("sweep-field").selectedOptions[0].textContent;
  const g = { kind: "sweep", group: randomID(), field, items: values.map((v) => ({ key: v, label: `${label} ${v}` })) };
  state.sweep = g;
  $("sweep-note").textContent = `${label}: ${values.join(", ")}; the other settings as in the form. Choose a dream to see it large and take its value.`;
  await submitGroup(g, (item) => ({ [field]: item.key }));
}

function groupList(g) {
  return g.kind === "explore" ? $("tiles") : $("sweep-tiles");
}

function groupCancel(g) {
  return g.kind === "explore" ? $("explore-cancel") : $("sweep-cancel");
}

// submitGroup sends a job for each item of a group, over(item) the
// fields it changes; the group is kept for a reload (sessionStorage).
async function submitGroup(g, over) {
  renderGroup(g);
  groupCancel(g).hidden = false;
  g.sending = true;
  for (const item of g.items) {
    if (state[g.kind] !== g || g.cancelled) break; // replaced or cancelled meanwhile
    try {
      const job = await api("POST", "/api/jobs", formData({ ...over(item), gallery: false, kind: g.kind, group: g.group }));
      item.id = job.id;
      updateTile(item, state.jobs.get(job.id) || job);
    } catch (e) {
      item.tile.st.textContent = e.message;
      if (e.data && e.data.field && g.kind === "sweep") {
        showMessage(`${item.label}: ${e.message}`);
        cancelGroup(g);
        break;
      }
    }
    sessionStorage.setItem(`deepdream.${g.kind}`, JSON.stringify({
      kind: g.kind, group: g.group, field: g.field, items: g.items.map(({ key, label, id }) => ({ key, label, id })),
    }));
  }
  g.sending = false;
  groupDone(g);
}

// renderGroup makes the tiles of a group: the explorer's are the layer
// picker's, a sweep's its own.
function renderGroup(g) {
  if (g.kind === "explore") {
    for (const item of g.items) {
      const li = [...$("tiles").children].find((li) => li.dataset.layer === item.key);
      if (!li) continue;
      item.tile = { img: li.querySelector("img"), st: li.querySelector(".state") };
      item.tile.img.removeAttribute("src");
      item.tile.st.textContent = "sending…";
    }
    return;
  }
  $("sweep-result").hidden = false;
  const list = $("sweep-tiles");
  list.replaceChildren();
  for (const item of g.items) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "tile";
    b.setAttribute("aria-label", `See the dream of ${item.label}, and take its value`);
    const img = document.createElement("img");
    img.alt = "";
    const cap = document.createElement("span");
    cap.className = "caption";
    cap.textContent = item.label;
    const st = document.createElement("span");
    st.className = "state";
    st.textContent = "sending…";
    b.append(img, cap, st);
    b.addEventListener("click", () => {
      setField(g.field, item.key);
      saveSettings();
      if (item.result) showResult({ result: item.result, original: state.photoURL });
    });
    li.append(b);
    list.append(li);
    item.tile = { img, st };
  }
}

function updateTile(item, st) {
  if (!item.tile) return;
  item.tile.st.textContent = st.state === "running" ? `step ${st.step}/${st.steps}` : describe(st);
  if (st.state === "done" && st.result && item.result !== st.result) {
    item.result = st.result;
    item.tile.img.src = st.result;
    item.tile.img.alt = item.label;
  }
}

// groupDone hides a group's cancel once none of its jobs is left to run.
function groupDone(g) {
  if (g.sending) return;
  const left = g.items.some((item) => {
    const st = item.id && state.jobs.get(item.id);
    return !item.id ? false : !st || !finishedState(st.state);
  });
  if (!left) groupCancel(g).hidden = true;
}

// updateGrids shows a job's change in its group's tile (j null: every
// job changed).
function updateGrids(j) {
  for (const g of [state.explore, state.sweep]) {
    if (!g) continue;
    for (const item of g.items) {
      if (!item.id || (j && j.id !== item.id)) continue;
      const st = state.jobs.get(item.id);
      if (st) updateTile(item, st);
    }
    groupDone(g);
  }
}

// reattachGroups shows the explorer and the sweep this page sent before a
// reload, when the studio still has their jobs.
function reattachGroups(mine) {
  for (const kind of ["explore", "sweep"]) {
    let g;
    try {
      g = JSON.parse(sessionStorage.getItem(`deepdream.${kind}`) || "null");
    } catch (e) {
      g = null;
    }
    if (!g || !g.items.some((item) => item.id && state.jobs.has(item.id))) continue;
    state[kind] = g;
    renderGroup(g);
    for (const item of g.items) {
      if (!item.id) item.tile.st.textContent = "not sent (the page was reloaded meanwhile)";
    }
    groupCancel(g).hidden = !mine.some((j) => j.group === g.group);
    updateGrids(null);
  }
}

// ---- the gallery ----

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
    const again = button("Dream again", () => dreamAgain(e), "again");
    again.title = "a new variation: the same settings, another seed";
    row.append(
      button("View", () => showResult({ result: e.result, original: e.original, entry: e }), "view"),
      button("Edit", () => editEntry(e), "edit"),
      again,
      link("Download", e.result + "?download=1"),
      button("Delete", () => deleteEntry(e), "danger"),
    );
    li.append(img, cap, row);
    list.append(li);
  }
  // What the studio found in its gallery directory that is not a whole
  // entry: left on disk, named here.
  const skipped = data.skipped || [];
  $("skipped-box").hidden = skipped.length === 0;
  $("skipped-title").textContent = `${skipped.length} item(s) in the gallery's directory are not whole dreams; the studio leaves them on disk`;
  $("skipped").replaceChildren(...skipped.map((s) => {
    const li = document.createElement("li");
    li.textContent = `${s.name}: ${s.reason}`;
    return li;
  }));
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
