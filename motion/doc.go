// Package motion runs the dreams that move as jobs: a zoom into a photo
// (dream.Network.Zoom) or a video dreamed frame by frame
// (dream.Network.Video), into an animation file (package video), with
// the options of their movement in one table (Fields), the record the
// animation and each frame carry, and a work directory of finished
// frames from which a job run again resumes. The command line's zoom
// and video, and the studio's zoom and video jobs (in the studio or on
// a worker of its queue), all run here.
//
// A Record is the dream record of the frames (dream.Record) with, under
// the kind of job, how they move: {"input", "input_sha256", the options
// of the kind by key, in the table's order}; a frame's has "frame" too.
// A work directory holds job.json (the job's record) and each finished
// frame as video.FrameName names it: frames 0 to n-1, consecutive. A
// directory of another job's frames is refused; the loose keys (a zoom's
// frames, a video's duration) may differ, since no frame depends on
// them.
package motion
