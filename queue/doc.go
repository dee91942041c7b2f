// Package queue runs dream jobs over NATS JetStream: the studio (or any
// Client) submits a job, Workers anywhere on the network dream it, and
// the result comes back through JetStream.
//
// # Layout on the server
//
//	stream  DREAMS        work queue, subjects dream.jobs.<id>: one message
//	                      per job, a Task (JSON), with the job ID as its
//	                      Nats-Msg-Id (a job sent twice is one message)
//	KV      dream-jobs    a job's State by job ID: queued, running (by
//	                      which worker, at which attempt), done (the name
//	                      of its result object), failed, cancelled
//	KV      dream-workers each worker's announcement (WorkerInfo), kept
//	                      while it lives (a TTL it renews)
//	objects dream-files   a job's files: <id>/photo (a video job's clip)
//	                      and <id>/<image name>, its Task as submitted
//	                      <id>/task (the stream's message goes at the
//	                      ack), and its result <id>/result.<attempt> (a
//	                      PNG, or an animation's MP4 with its last frame
//	                      <id>/thumb.<attempt>)
//	subject dream.progress.<id>  Progress of a running job (core NATS)
//	subject dream.cancel.<id>    asks the worker running it to stop
//
// # Delivery
//
// Each worker takes one job at a time from the one shared pull consumer.
// A job whose memory estimate (Task.Peak) exceeds the worker's budget
// goes back (a delayed nak) for a worker with more. A worker marks the
// job running with a compare-and-set on its State, tells JetStream it is
// still at work every AckWait/3, stores the result object, marks the
// State done (compare-and-set again: a cancel or another attempt that
// won makes it delete its object instead), and only then acknowledges
// the message. A worker that dies mid-job is redelivered after AckWait
// to another; a job started MaxAttempts times without an end fails.
// A State already done, failed or cancelled makes a redelivered message
// acknowledged at once: the job is stored at most once, by its ID.
//
// The Client watches the States and the progress, and the caller (the
// studio) takes the result, stores it (in the gallery, idempotent on the
// job ID) and then Forgets the job: its files and State go. A client
// that went away before (a crash, a restart) leaves its jobs in the
// queue; the next one lists them (Pending: each State with its Task, and
// Task.Client, what the submitter kept with it) and takes back its own
// with Follow, which gives the State at once: a job that ended meanwhile
// is collected as if followed all along.
package queue
