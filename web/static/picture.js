// The picture: the photo (chosen, dropped or pasted) with the mask painted
// on it, the live preview of the dream shown, and its result compared
// with the photo, one at a time in the same frame, with their tools below.
"use strict";

// checkImage returns why a file is not an image the studio can take (its
// size, its first bytes, whether it decodes, its pixels), or "". what
// names it in the message ("The photo x.jpg").
async function checkImage(file, what) {
  const limits = state.config ? state.config.limits : { max_upload: Infinity, max_pixels: Infinity };
  if (file.size > limits.max_upload) {
    return `${what} is ${formatBytes(file.size)}; the studio takes files up to ${formatBytes(limits.max_upload)}.`;
  }
  const head = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  const at = (sig, off) => sig.every((b, i) => head[(off || 0) + i] === b);
  const known = at([0xff, 0xd8, 0xff]) || at([0x89, 0x50, 0x4e, 0x47]) || at([0x47, 0x49, 0x46, 0x38]) ||
    (at([0x52, 0x49, 0x46, 0x46]) && at([0x57, 0x45, 0x42, 0x50], 8));
  if (!known) return `${what} is not a photo the studio can read: it is not a JPEG, PNG, GIF or WebP image.`;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch (e) {
    return `${what} is not a photo the studio can read: its data is broken.`;
  }
  const pixels = bitmap.width * bitmap.height;
  bitmap.close();
  if (pixels > limits.max_pixels) {
    return `${what} has ${(pixels / 1e6).toFixed(1)} megapixels; the studio takes up to ${Math.round(limits.max_pixels / 1e6)}.`;
  }
  return "";
}

// choosePhoto takes a photo chosen, dropped or pasted: once it is known to
// be one the studio can read, it is the photo to dream; else the previous
// choice is cleared and the page says why, before Dream is pressed.
async function choosePhoto(file, name) {
  clearMessage();
  const problem = await checkImage(file, `${name || file.name}`);
  if (problem) {
    clearPhoto();
    showMessage(problem);
    return;
  }
  state.file = file;
  state.source = null;
  showPhoto(URL.createObjectURL(file), name || file.name);
}

function clearPhoto() {
  state.file = null;
  state.source = null;
  $("photo").value = "";
  if (state.photoURL && state.photoURL.startsWith("blob:")) URL.revokeObjectURL(state.photoURL);
  state.photoURL = null;
  $("photo-preview").removeAttribute("src");
  $("photo-preview").hidden = true;
  $("photo-name").textContent = "";
  if (state.images.mask && state.images.mask.painted) setImage("mask", null);
  showView("empty");
}

// useSource makes a gallery entry's original the photo to dream.
function useSource(e) {
  state.source = e.id;
  state.file = null;
  showPhoto(e.original, "the photo of a gallery dream");
}

function showPhoto(url, name) {
  if (state.photoURL && state.photoURL.startsWith("blob:") && state.photoURL !== url) URL.revokeObjectURL(state.photoURL);
  state.photoURL = url;
  if (state.images.mask && state.images.mask.painted) setImage("mask", null); // painted on another photo
  const img = $("photo-preview");
  img.onload = () => showEstimate();
  img.src = url;
  img.alt = `Chosen photo: ${name}`;
  img.hidden = false;
  $("photo-name").textContent = name;
  showView("photo");
}

// ---- the frame: one view at a time ----

// showView shows one of the picture's views: "empty" (where to drop a
// photo), "photo", "live" (a dream under way) or "result".
function showView(view) {
  state.view = view;
  $("empty").hidden = view !== "empty";
  $("photo-view").hidden = view !== "photo";
  $("photo-tools").hidden = view !== "photo";
  $("progress").hidden = view !== "live";
  $("result").hidden = view !== "result";
  $("movie").hidden = view !== "movie";
  $("result-tools").hidden = view !== "result" && view !== "movie";
  $("slider").hidden = $("slider-label").hidden = view !== "result";
  $("run-bar").hidden = view !== "live" && view !== "result" && view !== "movie";
  if (view !== "movie") $("movie-video").pause();
  $("drop").classList.toggle("filled", view !== "empty");
  if (view !== "movie" && view !== "result") $("result-params").textContent = "";
  if (view !== "photo") setPainting(false);
  fitFrames();
}

// fitFrames sizes each frame to its picture's proportions, as large as
// the drop zone allows: the mask canvas then lies exactly on the photo
// and the dream exactly on the original.
function fitFrames() {
  const drop = $("drop");
  // On a phone the zone takes the picture's height (at most 60% of the
  // screen's), not a fixed one.
  const phone = matchMedia("(max-width: 760px)").matches;
  const shown = { photo: $("photo-preview"), live: $("live"), result: $("after"), movie: $("movie-video") }[state.view];
  const W = drop.clientWidth - 16;
  const H = phone ? Math.round(innerHeight * 0.6) - 16 : drop.clientHeight - 16;
  // an image's size, or a video's
  const size = (el) => [el.naturalWidth || el.videoWidth || 0, el.naturalHeight || el.videoHeight || 0];
  if (phone && shown && size(shown)[0]) {
    const [sw, sh] = size(shown);
    const h = Math.floor(sh * Math.min(W / sw, H / sh));
    drop.style.height = `${h + 16}px`;
  } else {
    drop.style.height = "";
  }
  const fit = (frame, img) => {
    const [w, h] = size(img);
    if (!w || !h || W <= 0 || H <= 0) {
      frame.style.width = frame.style.height = "";
      return;
    }
    const k = Math.min(W / w, H / h);
    frame.style.width = `${Math.floor(w * k)}px`;
    frame.style.height = `${Math.floor(h * k)}px`;
  };
  fit($("photo-view"), $("photo-preview"));
  fit($("progress"), $("live"));
  fit($("result"), $("before").naturalWidth ? $("before") : $("after"));
  fit($("movie"), $("movie-video"));
}

// ---- the mask, painted on the photo ----

// The painting lies on a canvas of the photo's proportions (its longer
// side at most maskSize); what is painted dreams, the rest is kept. Each
// stroke makes the mask field's image: white where painted, black
// elsewhere, the grey image the studio takes as a mask.
const maskSize = 1024;

function setPainting(on) {
  const canvas = $("mask-canvas");
  state.painting = on;
  $("paint").setAttribute("aria-pressed", String(on));
  $("brush-box").hidden = !on;
  canvas.classList.toggle("painting", on);
  if (on) {
    const img = $("photo-preview");
    const k = Math.min(1, maskSize / Math.max(img.naturalWidth, img.naturalHeight));
    const w = Math.max(1, Math.round(img.naturalWidth * k)), h = Math.max(1, Math.round(img.naturalHeight * k));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w; // clears it
      canvas.height = h;
    }
  }
  canvas.hidden = !on && !(state.images.mask && state.images.mask.painted);
}

// clearMask wipes the painting (setImage calls it when the mask changes).
function clearMask() {
  const canvas = $("mask-canvas");
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  if (!state.painting) canvas.hidden = true;
}

function setupPainting() {
  const canvas = $("mask-canvas");
  const ctx = canvas.getContext("2d");
  let last = null;
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return { x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height };
  };
  const stroke = (p) => {
    ctx.strokeStyle = ctx.fillStyle = "#ff2e88";
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.lineWidth = Number($("brush").value) * canvas.width / canvas.getBoundingClientRect().width;
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    last = p;
  };
  canvas.addEventListener("pointerdown", (e) => {
    if (!state.painting) return;
    e.preventDefault();
    try {
      canvas.setPointerCapture(e.pointerId);
    } catch (err) {
      // a pointer the browser does not know (a synthetic event): the stroke goes on without capture
    }
    last = point(e);
    stroke(last);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (last) stroke(point(e));
  });
  const end = () => {
    if (!last) return;
    last = null;
    exportMask();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  $("paint").addEventListener("click", () => setPainting(!state.painting));
  $("mask-clear").addEventListener("click", () => setImage("mask", null));
}

// exportMask makes the painting the mask field's image.
function exportMask() {
  const canvas = $("mask-canvas");
  const paint = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  const out = document.createElement("canvas");
  out.width = canvas.width;
  out.height = canvas.height;
  const octx = out.getContext("2d");
  const mask = octx.createImageData(out.width, out.height);
  for (let i = 0; i < paint.data.length; i += 4) {
    const v = paint.data[i + 3] >= 128 ? 255 : 0;
    mask.data[i] = mask.data[i + 1] = mask.data[i + 2] = v;
    mask.data[i + 3] = 255;
  }
  octx.putImageData(mask, 0, 0);
  out.toBlob((blob) => {
    const file = new File([blob], "painted-mask.png", { type: "image/png" });
    file.painted = true;
    setImage("mask", file);
  }, "image/png");
}

// ---- the photo's ways in: the file input, a drop, a paste ----

function setupPicture() {
  const drop = $("drop");
  $("photo").addEventListener("change", (e) => {
    if (e.target.files.length) choosePhoto(e.target.files[0]);
  });
  // A photo dropped beside the zone must not make the browser leave the page.
  for (const ev of ["dragover", "drop"]) {
    document.addEventListener(ev, (e) => e.preventDefault());
  }
  // The highlight stays while the pointer moves over the zone's children:
  // a dragleave into one of them is not a leave.
  for (const ev of ["dragenter", "dragover"]) {
    drop.addEventListener(ev, (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
  }
  drop.addEventListener("dragleave", (e) => {
    if (!e.relatedTarget || !drop.contains(e.relatedTarget)) drop.classList.remove("over");
  });
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) choosePhoto(e.dataTransfer.files[0]);
  });
  document.addEventListener("paste", (e) => {
    const file = [...(e.clipboardData ? e.clipboardData.files : [])].find((f) => f.type.startsWith("image/"));
    if (!file) return; // text pasted into a field
    e.preventDefault();
    choosePhoto(file, "pasted image");
  });
  for (const id of ["photo-preview", "live", "before", "after"]) $(id).addEventListener("load", fitFrames);
  $("movie-video").addEventListener("loadedmetadata", fitFrames);
  addEventListener("resize", fitFrames);
  setupPainting();
  $("slider").addEventListener("input", setSlider);
  $("back").addEventListener("click", () => showView(state.photoURL ? "photo" : "empty"));
  $("again").addEventListener("click", () => state.entry && dreamAgain(state.entry));
  $("edit").addEventListener("click", () => state.entry && editEntry(state.entry));
  showView("empty");
}

// ---- the result ----

// showResult shows a dream's result over its original; entry, when the
// dream is in the gallery, is what Dream again and Edit take.
function showResult(r) {
  state.entry = r.entry || null;
  if (r.entry && r.entry.kind) {
    showMovie(r.entry);
    return;
  }
  $("download").textContent = "Download PNG";
  showView("result");
  $("after").src = r.result;
  if (r.original) $("before").src = r.original;
  else $("before").removeAttribute("src");
  $("download").href = r.result + "?download=1";
  $("result-params").textContent = r.entry ? summary(r.entry.params) : "";
  $("again").hidden = $("edit").hidden = !r.entry;
  $("cancel").hidden = true;
  $("back").hidden = false;
  setSlider();
}

// showMovie plays a zoom's or a video's MP4 in the picture, looping,
// muted (so that it may start by itself), with its controls.
function showMovie(e) {
  showView("movie");
  const v = $("movie-video");
  if (v.getAttribute("src") !== e.result) v.src = e.result;
  v.play().catch(() => {}); // refused (no autoplay): its controls play it
  $("download").href = e.result + "?download=1";
  $("download").textContent = "Download MP4";
  const what = e.kind === "zoom" ? `zoom of ${e.frames} frames` : `video of ${e.frames} frames`;
  $("result-params").textContent = `${what} · ${summary(e.params)}`;
  $("again").hidden = $("edit").hidden = false;
  $("cancel").hidden = true;
  $("back").hidden = false;
}

function setSlider() {
  const v = Number($("slider").value);
  $("before").style.clipPath = `inset(0 ${100 - v}% 0 0)`;
  $("slider").setAttribute("aria-valuetext", `${v}% original`);
}

// dreamAgain dreams an entry's settings again with a new seed: a new
// variation of it.
async function dreamAgain(e) {
  if (!(await loadParams(e))) return;
  if (state.fields.includes("seed")) setField("seed", Math.floor(Math.random() * 1e9));
  saveSettings();
  if (e.kind) startMotion(e.kind);
  else submitDream();
}

// editEntry loads an entry's settings and photo into the form.
async function editEntry(e) {
  if (!(await loadParams(e))) return;
  showMessage(e.kind
    ? `The ${e.kind}'s settings are in the form and its motion in the Motion section: change them, then press ${e.kind === "zoom" ? "Zoom" : "Dream the video"}.`
    : "The dream's settings are in the form and its photo in the picture: change them, then press Dream.", "info");
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
    if (typeof v === "string" && !["source", "model", "gallery", "owner"].includes(k)) q.append(k, v);
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
