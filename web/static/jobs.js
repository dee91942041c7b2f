// The studio's jobs: the list from GET /api/jobs/events (every queued and
// running job, whoever sent it), the job the picture shows with its own
// event stream (the previews), reattached after a reload, the cancels,
// the notice of a lost studio, and the status spoken at most every few
// seconds.
"use strict";

function finishedState(s) {
  return s === "done" || s === "failed" || s === "cancelled";
}

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
      if (st.frame) {
        return `Frame ${st.frame}/${st.frames || "?"} (${st.width}×${st.height}) · octave ${st.octave}/${st.octaves} · ` +
          `step ${st.iteration}/${st.iterations} · ${seconds(st.elapsed_ms)} elapsed` + (st.eta_ms ? `, about ${seconds(st.eta_ms)} left` : "");
      }
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

// ---- the status, spoken ----

// announce says text in the live region: at once when the state changes
// (urgent), else at most every announceGap, the latest text then.
const announceGap = 5000;

function announce(text, urgent) {
  const a = state.announce || (state.announce = { at: 0, timer: null, text: "" });
  a.text = text;
  const say = () => {
    a.at = Date.now();
    a.timer = null;
    $("announce").textContent = a.text;
  };
  if (urgent || Date.now() - a.at >= announceGap) {
    clearTimeout(a.timer);
    say();
  } else if (!a.timer) {
    a.timer = setTimeout(say, a.at + announceGap - Date.now());
  }
}

// ---- the job in the picture ----

// watch shows a job in the picture and follows it through its event
// stream, previews included; photo, if known, is the job's photo, shown
// until the first preview.
function watch(st, photo) {
  if (state.events) state.events.close();
  state.job = st;
  state.jobPhoto = photo || null;
  state.entry = null;
  const live = $("live");
  live.removeAttribute("src");
  live.dataset.frames = "0";
  showView("live");
  $("cancel").hidden = false;
  $("cancel").disabled = false;
  $("back").hidden = true;
  show(st, true);
  const es = new EventSource(`/api/jobs/${st.id}/events`);
  state.events = es;
  es.addEventListener("status", (e) => {
    const s = JSON.parse(e.data);
    if (!state.job || s.id !== state.job.id) return;
    const changed = s.state !== state.job.state;
    state.job = s;
    show(s, changed);
    if (finishedState(s.state)) {
      es.close();
      finished(s);
    }
  });
  // A broken stream is the jobs stream's to notice (the connection
  // notice); the job's end comes from the list when this one is gone.
  es.onerror = () => {
    if (es.readyState !== EventSource.CLOSED) return; // the browser tries again
    state.events = null;
    if (!state.conn.lost && !state.jobs.has(st.id)) jobGone();
  };
  renderJobs();
}

function show(st, urgent) {
  const text = describe(st);
  $("status").textContent = text;
  announce(text, urgent);
  const bar = $("bar");
  bar.max = st.steps || 1;
  bar.value = st.state === "done" ? bar.max : st.step || 0;
  if (st.preview) {
    const live = $("live");
    live.src = st.preview;
    live.dataset.frames = String(Number(live.dataset.frames || 0) + 1);
  } else if (!$("live").src && state.jobPhoto && st.state !== "done") {
    $("live").src = state.jobPhoto; // until the first preview
  }
}

async function finished(st) {
  $("cancel").hidden = true;
  $("back").hidden = false;
  if (st.state === "failed") showMessage("The dream failed: " + st.error);
  if (st.state !== "done") return;
  if (st.client) { // another client's job on the queue: its result is its own
    showMessage(`Done: this dream is ${st.client}'s, and its result went to it.`);
    return;
  }
  let entry = null;
  if (st.entry) {
    try {
      entry = await api("GET", `/api/gallery/${st.entry}`);
    } catch (e) {
      showMessage(e.message);
    }
  }
  if (!state.job || state.job.id !== st.id) return; // another job is shown by now
  showResult({ result: st.result, original: entry ? entry.original : state.jobPhoto, entry });
  loadGallery();
}

async function cancelJob() {
  if (!state.job) return;
  await cancel(state.job.id);
}

async function cancel(id) {
  try {
    await api("DELETE", `/api/jobs/${id}`);
  } catch (e) {
    showMessage(e.message);
  }
}

// cancelGroup cancels every job of a group (the explorer's tiles, a
// sweep's) as one.
async function cancelGroup(g) {
  if (!g) return;
  for (const x of [state.explore, state.sweep]) {
    if (x && x.group === g.group) x.cancelled = true; // sends no more of its jobs
  }
  try {
    await api("DELETE", `/api/groups/${encodeURIComponent(g.group)}`);
  } catch (e) {
    showMessage(e.message);
  }
}

// ---- the studio's jobs ----

// watchJobs follows GET /api/jobs/events: the whole list, then each
// change, and a ping every 10 s. No word from the studio for
// silenceLimit, or a broken stream, and the page says the studio is lost
// and connects again, every retryGap, until it answers.
const silenceLimit = 15000, retryGap = 2000;

function watchJobs() {
  const c = state.conn;
  if (c.es) c.es.close();
  const es = new EventSource("/api/jobs/events");
  c.es = es;
  const heard = () => {
    c.heard = Date.now();
    if (c.lost) found();
  };
  es.addEventListener("jobs", (e) => {
    heard();
    state.jobs.clear();
    for (const j of JSON.parse(e.data).jobs) state.jobs.set(j.id, j);
    jobsChanged(null);
    if (!state.reattached) reattach();
  });
  es.addEventListener("job", (e) => {
    heard();
    const j = JSON.parse(e.data);
    state.jobs.set(j.id, j);
    jobsChanged(j);
  });
  es.addEventListener("ping", heard);
  es.onopen = heard;
  es.onerror = () => lost();
  clearInterval(c.watchdog);
  c.heard = Date.now();
  c.watchdog = setInterval(() => {
    if (!c.lost && Date.now() - c.heard > silenceLimit) lost();
  }, 1000);
}

// lost says the studio does not answer and tries again after retryGap;
// once it answers, the page follows the jobs again (or, if it never
// started, loads again).
function lost() {
  const c = state.conn;
  if (c.es) c.es.close();
  c.es = null;
  if (!c.lost) {
    c.lost = true;
    const n = $("connection");
    n.textContent = "The studio does not answer: reconnecting…";
    n.className = "connection lost";
    n.hidden = false;
  }
  clearTimeout(c.timer);
  c.timer = setTimeout(async () => {
    try {
      const res = await fetch("/api/config", { cache: "no-store" });
      if (!res.ok) throw new Error(res.statusText);
    } catch (e) {
      lost(); // still gone: try again later
      return;
    }
    if (!state.config) {
      location.reload(); // the page never started
      return;
    }
    watchJobs();
  }, retryGap);
}

function found() {
  const c = state.conn;
  c.lost = false;
  const n = $("connection");
  n.textContent = "Connected to the studio again.";
  n.className = "connection";
  setTimeout(() => {
    if (!c.lost) n.hidden = true;
  }, 4000);
  // The job in the picture: its stream may have broken with the
  // connection; follow it again if the studio still has it.
  if (state.job && !finishedState(state.job.state) && !state.events) {
    const j = state.jobs.get(state.job.id);
    if (j) watch(j, state.jobPhoto);
    else jobGone();
  }
}

// jobGone says the job in the picture is no longer the studio's.
function jobGone() {
  $("status").textContent = "The studio no longer has this dream (it restarted?).";
  $("cancel").hidden = true;
  $("back").hidden = false;
}

// reattach, after a reload, shows this page's latest unfinished dream in
// the picture and its explorer or sweep in their grids.
function reattach() {
  state.reattached = true;
  const mine = [...state.jobs.values()].filter((j) => j.owner === state.owner && !finishedState(j.state));
  const dreams = mine.filter((j) => ["dream", "zoom", "video"].includes(j.kind));
  if (dreams.length && !state.job) watch(dreams[dreams.length - 1]);
  reattachGroups(mine);
}

// jobsChanged updates what shows jobs: the panel, the grids, and the
// picture's job when its own stream is gone.
function jobsChanged(j) {
  renderJobs();
  updateGrids(j);
  if (state.job && !state.events) {
    const s = state.jobs.get(state.job.id);
    if (s && s.state !== state.job.state) {
      state.job = s;
      show(s, true);
      if (finishedState(s.state)) finished(s);
    }
  }
}

const kindNames = { dream: "Dream", explore: "Layer explorer", sweep: "Sweep", zoom: "Zoom", video: "Video" };

// renderJobs lists every unfinished job: a group (the explorer's tiles, a
// sweep) as one line, cancelled as one.
function renderJobs() {
  if (state.renderTimer) return; // at most every 250 ms
  state.renderTimer = setTimeout(() => {
    state.renderTimer = null;
    renderJobsNow();
  }, 250);
}

function renderJobsNow() {
  const list = $("jobs");
  const open = [...state.jobs.values()].filter((j) => !finishedState(j.state));
  const lines = [];
  const groups = new Map();
  for (const j of open) {
    if (!j.group) {
      lines.push({ jobs: [j] });
      continue;
    }
    if (!groups.has(j.group)) {
      const g = { group: j.group, jobs: [] };
      groups.set(j.group, g);
      lines.push(g);
    }
    groups.get(j.group).jobs.push(j);
  }
  list.replaceChildren(...lines.map(jobLine));
  $("jobs-empty").hidden = lines.length > 0;
}

function jobLine(line) {
  const j = line.jobs[0];
  const li = document.createElement("li");
  li.dataset.id = line.group || j.id;
  const mine = j.owner === state.owner;
  const title = document.createElement("span");
  title.className = "job-title";
  title.textContent = `${kindNames[j.kind] || j.kind}${line.group ? ` (${line.jobs.length} left)` : ""} · ` +
    `${j.model} ${(j.layers || []).join(" + ") || "default layer"}`;
  const who = document.createElement("span");
  who.className = "hint";
  who.textContent = j.client || (mine ? "this page" : "another page"); // j.client: another client's job on the queue
  const st = document.createElement("span");
  st.className = "job-state";
  const running = line.jobs.filter((x) => x.state === "running");
  const workers = [...new Set(running.map((x) => x.worker).filter((w) => w))];
  st.textContent = (line.group
    ? `${running.length} running, ${line.jobs.length - running.length} waiting`
    : describe(j)) + (workers.length ? ` · on ${workers.join(", ")}` : "");
  const bar = document.createElement("progress");
  bar.max = j.steps || 1;
  bar.value = j.step || 0;
  bar.setAttribute("aria-label", `Progress of ${title.textContent}`);
  const row = document.createElement("div");
  row.className = "row";
  if (!line.group) {
    const w = button("Watch", () => watch(j));
    w.disabled = state.job && state.job.id === j.id && state.view === "live";
    w.setAttribute("aria-label", `Watch ${title.textContent}`);
    row.append(w);
  }
  const c = button(line.group ? "Cancel all" : "Cancel",
    () => (line.group ? cancelGroup({ group: line.group }) : cancel(j.id)), "danger");
  c.setAttribute("aria-label", `Cancel ${title.textContent}`);
  row.append(c);
  li.append(title, who, st, bar, row);
  return li;
}
