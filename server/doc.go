// Package server is the DeepDream web studio behind `deepdream serve`: the
// page of package web, a JSON API, a FIFO job queue and a gallery on disk.
// It dreams with package dream, in its own workers, or sends the dreams to
// the workers of a NATS JetStream queue (Config.Remote, package queue)
// under the same API.
//
// # API
//
//	GET    /api/config                 models, the dream request's fields (key,
//	                                   label, help, kind, default, bounds), the
//	                                   zoom's and video's options ("motion":
//	                                   motion.Fields, with the jobs each applies
//	                                   to), the presets (name, description,
//	                                   values by key), limits
//	GET    /api/estimate               ?width=W&height=H[&bytes=N][&format=F] and
//	                                   the request's fields: the dream's size,
//	                                   tile and windows, and its peak memory as
//	                                   the studio admits it, against the budget
//	GET    /api/models/{name}/layers   dreamable layers with channel counts, and
//	                                   the default layer
//	GET    /api/models/{name}/classes  the class names to suggest, or why the
//	                                   model cannot dream classes (unavailable)
//	POST   /api/jobs                   multipart: photo (or source=ID of a gallery
//	                                   entry), model, gallery (0: keep the result
//	                                   out of the gallery), and the request's
//	                                   fields (dream.Fields) under their keys:
//	                                   layers (NAME[:CH,..][=W]) and classes
//	                                   (NAME|INDEX[=W]), repeatable; octaves,
//	                                   octave_scale, iterations, step, jitter,
//	                                   seed, max_size, winograd, laplacian,
//	                                   smooth, keep_colors; an image field (mask,
//	                                   guide) as a file; kind (dream, explore,
//	                                   sweep, zoom, video: a zoom takes the
//	                                   photo and motion.Fields' zoom options
//	                                   under their keys, a video a clip file,
//	                                   MP4, WebM or AVI, and the video
//	                                   options), group and owner
//	                                   (client IDs, [A-Za-z0-9_-]{1,64}: jobs
//	                                   cancelled as one, the page that sent
//	                                   it); 202 with the job's Status
//	GET    /api/jobs                   {"jobs": [Status]}: every waiting and
//	                                   running job and the recently finished
//	                                   ones, oldest first, no previews
//	GET    /api/jobs/events            server-sent events: "jobs" (the list)
//	                                   first, then "job" (a Status, no preview)
//	                                   when a job is queued or changes state,
//	                                   and as it progresses at most twice a
//	                                   second; "ping" every 10 s
//	DELETE /api/groups/{group}         cancel the group's waiting and running
//	                                   jobs: {"cancelled": N}
//	GET    /api/jobs/{id}              the job's Status (kind, group, owner,
//	                                   created, worker: "" while it waits)
//	GET    /api/jobs/{id}/events       server-sent events "status", one per change,
//	                                   with a JPEG preview after each step
//	GET    /api/jobs/{id}/result       the PNG of a job kept out of the gallery
//	DELETE /api/jobs/{id}              cancel a waiting or running job
//	GET    /api/gallery                entries, newest first; "skipped": what the
//	                                   gallery directory holds that is not a whole
//	                                   entry, each {"name", "reason"}
//	GET    /api/gallery/{id}           one entry
//	GET    /api/gallery/{id}/{file}    original, result.png or a zoom's or a
//	                                   video's result.mp4 (?download=1), thumb.jpg,
//	                                   image-SHA256 (an image of its request: the
//	                                   entry's "images" give their URLs by name)
//	DELETE /api/gallery/{id}           delete an entry
//
// Every error is {"error": message} with a status the page shows as is:
// 400 bad parameters (then with "field" and "value" when one value is
// refused: an ambiguous class, a number out of bounds), 404 unknown model,
// job or entry, 405 wrong method, 408 an upload too slow, 410 an explorer
// result no longer kept, 413 a file over the byte or pixel limit or dream
// over the memory budget (then with "fit_max_size", the largest max size
// that fits), 415 not a photo, 429 queue or memory budget full ("busy"), 503 shutting down, 403
// a change requested by another site's page, 421 a request for another
// host. Messages name no file or directory of the server.
//
// # Trust
//
// The studio answers only requests whose Host is localhost, an IP
// address or one of Config.Hosts (DNS rebinding: another site's name made
// to resolve here), refuses changes whose Origin is another site, and sets
// a strict Content-Security-Policy and Cross-Origin-Resource-Policy.
// HTTPServer's timeouts bound every request; an upload and a download get
// time for their bytes at a minimum pace, an event stream a deadline per
// event (timeouts).
//
// # Jobs
//
// A submission is checked as the command line checks its flags, in the
// same order: the request's bounds (dream.Request.Validate) before its
// model is loaded or its files read, then its layers and classes on the
// model (dream.Network.Resolve), then the headers of the photo and of its
// images, then its memory: the dream's peak is estimated
// (dream.Network.PhotoPeak, memory.go) and a dream that cannot fit in
// Config.MaxMemory is refused. Only the job
// decodes the files, once: its images with dream.LoadImage, into the
// request's Images under the names the studio gives them (their field and
// format: "mask.png", "guide.jpg"; never a client's name), then the photo
// along the command line's path (dream.Network.DreamPhoto). An image field
// given as text, and a layer's @MASK (per-layer masks are the command
// line's), are refused.
//
// The queue keeps the files held and the running dreams within the
// budget: a job starts when its peak fits beside the running ones (queue).
//
// Workers (Config.Workers) take jobs in submission order; at most
// Config.Queue wait. A job runs under Config.JobTimeout. Progress goes to
// the job's status; a preview is encoded only while an event stream
// watches. A job does not depend on its page: when the browser goes away,
// the dream goes on into the gallery. Cancelling stops it within a step and
// keeps nothing. The layer explorer of the page submits one small job per
// main layer with gallery=0, kind "explore" and one group, through the same
// queue; a sweep one job per value, kind "sweep", in its group; their
// results stay in memory with the last finished jobs. The page follows
// every job through GET /api/jobs/events and knows its own by the owner it
// sends, so that a reload finds them again.
//
// # Jobs on a queue across restarts
//
// With Config.Remote, each job sent to the queue carries, in
// queue.Task.Client, the studio's ID (the file studio-id in DataDir, made
// at its first start), the job's kind, group, owner, whether it goes to
// the gallery and its photo's format. New takes back the jobs of its ID
// that the queue holds (queue.Client.Pending, Follow): listed as they
// were sent (so a reloaded page finds its own), followed to their end; a
// job done meanwhile is kept in the gallery at once (exactly once: an
// entry of its ID already there is only forgotten on the queue), a
// failed or cancelled one reported, one whose model (by sha256) the
// studio no longer offers fails, naming it. Other clients' jobs (another
// studio's, deepdream batch's) are not taken back.
//
// # Other clients' jobs
//
// The queue's other clients' jobs (others.go: queue.Client.Others, and
// Pending at start) are listed beside the studio's own, Status.Client
// naming whose they are, a batch's in one group per OUT_DIR; their state
// and progress follow the queue's, and a cancel from the page (a job's,
// a group's) is passed to the queue. Their results are their clients':
// never kept here.
//
// # Zoom and video
//
// A zoom or a video job (motion.go) is admitted like a dream, its peak
// that of a frame's dream and the frames it holds beside it; a clip is
// described by ffprobe at submission (a studio without ffmpeg refuses
// video jobs saying so). It runs package motion's RunFile, here in
// DataDir/work/<id> (cleared at start: a job does not outlive the
// studio) or on a worker of the queue (queue.Task's Kind and Motion), its
// status counting frames, the frame being dreamed its preview; the MP4
// and its last frame (the thumbnail) go to the gallery, the entry's kind,
// motion options and frame count in params.json.
//
// # Gallery
//
// Under Config.DataDir/gallery, one directory per entry named by its
// random ID: original (the uploaded bytes), image-SHA256 for each image of
// its request (the uploaded bytes, named by the sha256 its record keeps),
// result.png (with the dream's parameters embedded, as `deepdream dream`
// writes them; a zoom's or a video's result.mp4, its record in the
// comment tag, the original then a video's clip), thumb.jpg (an
// animation's last frame, with a play sign) and params.json. An entry is written in
// DataDir/tmp and renamed into place whole; New clears tmp and loads every
// whole entry, so a restart loses no finished dream and an interrupted one
// leaves nothing. An entry's directory without params.json (written last)
// is half-written, and removed; one whose params.json is malformed or
// names a file it lacks, and a file of someone else's, are left where
// they are, skipped: logged, and listed under "skipped" in the gallery's
// answer for the page to show. Only whole entries are listed and served. Paths are made only from IDs this package generated
// (checked against their form), fixed file names and the sha256s of an
// entry's record (checked against their form and the record); models come
// only from Config.Models, by name.
//
// # Shutdown
//
// Close stops taking jobs, cancels the waiting ones, and cancels or
// finishes the running ones; the jobs on Config.Remote's queue it would
// cancel it leaves there for the next start, unless
// Config.CancelRemote.
package server
