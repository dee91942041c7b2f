// The Motion section of the side panel: a zoom into the photo, or a clip
// dreamed frame by frame, with the request's settings of the form above
// and the options of /api/config's "motion" (the studio's motion table,
// the one the command line's zoom and video flags come from). The
// result, an MP4, plays in the picture (picture.js: showMovie).
"use strict";

// buildMotion makes the controls of the zoom's and the video's options:
// an option of both kinds (the frame rate) is the zoom's, a video keeping
// its clip's own.
function buildMotion(options) {
  state.motion = { zoom: [], video: [] };
  for (const kind of ["zoom", "video"]) {
    const box = $(`${kind}-fields`);
    for (const f of options) {
      if (!f.jobs.includes(kind) || (kind === "video" && f.jobs.includes("zoom"))) continue;
      box.append(...motionControl(f));
      state.motion[kind].push(f.key);
    }
  }
  $("motion-box").hidden = options.length === 0;
  $("clip").addEventListener("change", (e) => {
    if (e.target.files.length) chooseClip(e.target.files[0]);
  });
  $("start-zoom").addEventListener("click", () => startMotion("zoom"));
  $("start-video").addEventListener("click", () => startMotion("video"));
}

// motionID is the id of an option's control.
function motionID(key) {
  return `motion-${key}`;
}

// motionControl makes the input of a motion option: a number, a yes/no,
// or text (a pan X,Y, a frame rate, a time).
function motionControl(f) {
  const input = document.createElement("input");
  input.id = input.name = motionID(f.key);
  input.dataset.motion = f.key;
  input.title = f.help;
  const label = document.createElement("label");
  label.htmlFor = input.id;
  label.textContent = f.label;
  if (f.kind === "bool") {
    input.type = "checkbox";
    input.checked = f.default === "true";
    const row = document.createElement("div");
    row.className = "inline";
    row.append(input, label);
    return [row];
  }
  if (f.kind === "int" || f.kind === "float") {
    input.type = "number";
    input.required = true;
    input.min = f.min;
    input.max = f.max;
    input.step = f.kind === "float" ? "any" : "1";
  } else {
    input.type = "text";
    input.autocomplete = "off";
  }
  input.value = f.default;
  return [label, input];
}

function motionValue(key) {
  const input = $(motionID(key));
  return input.type === "checkbox" ? String(input.checked) : input.value.trim();
}

function setMotionValue(key, v) {
  const input = $(motionID(key));
  if (!input) return;
  if (input.type === "checkbox") input.checked = v === true || v === "true";
  else if (Array.isArray(v)) input.value = v.join(",");
  else input.value = v;
}

// chooseClip takes a clip for a video job once it is within the
// studio's upload limit; else it clears the choice and says why.
function chooseClip(file) {
  clearMessage();
  const limit = state.config.limits.max_upload;
  if (file.size > limit) {
    setClip(null);
    showMessage(`The clip ${file.name} is ${formatBytes(file.size)}; the studio takes files up to ${formatBytes(limit)}.`);
    return;
  }
  setClip(file);
}

// setClip sets the clip of a video job: a File, a gallery entry's
// ({source, name}), or none.
function setClip(clip) {
  state.clip = clip;
  $("clip-name").textContent = clip ? clip.name : "none";
  if (!clip) $("clip").value = "";
}

// startMotion sends a zoom of the photo, or a video of the clip, with the
// form's request and the kind's options.
async function startMotion(kind) {
  clearMessage();
  if (kind === "video" && !state.clip) {
    showMessage("Choose a clip to dream first.");
    return;
  }
  const problem = checkForm(kind === "video");
  if (problem) {
    showMessage(problem);
    return;
  }
  for (const key of state.motion[kind]) {
    const input = $(motionID(key));
    if (!input.checkValidity()) {
      input.focus();
      showMessage(`${input.labels[0].textContent}: ${input.validationMessage}`);
      return;
    }
  }
  const over = { kind, motion: {} };
  for (const key of state.motion[kind]) over.motion[key] = motionValue(key);
  if (kind === "video") over.clip = state.clip;
  const b = $(`start-${kind}`);
  b.disabled = true;
  try {
    const st = await api("POST", "/api/jobs", formData(over));
    watch(st, kind === "zoom" ? state.photoURL : null);
  } catch (e) {
    showMessage(e.message);
    if (e.data && e.data.field) {
      const el = $(motionID(e.data.field)) || (state.fields.includes(e.data.field) && $(e.data.field));
      if (el) {
        el.setAttribute("aria-invalid", "true");
        el.focus();
      }
    }
  } finally {
    b.disabled = false;
  }
}

// loadMotion shows an animation's options (a gallery entry's motion) in
// the Motion section, and a video's clip as the clip to dream.
function loadMotion(e) {
  for (const [key, v] of Object.entries(e.motion || {})) setMotionValue(key, v);
  $("motion-box").open = true;
  if (e.kind === "video") setClip({ source: e.id, name: "the clip of a gallery video" });
}
