// Package dream is Google's DeepDream algorithm (google/deepdream,
// dream.ipynb) on top of package graph: an octave pyramid, jitter, a
// gradient step normalised by the mean absolute gradient, clipping to the
// valid pixel range. The loop stays as small as the notebook's; the speed
// lives in the engine.
//
// Network.Dream runs the whole algorithm on an image; a Stepper runs one
// notebook make_step at a fixed size, for tests and benchmarks. Preprocess
// converts between pixels and a model's input tensor. The package links no
// network code: the model registry and its download cache (package models)
// build on it, not the other way round.
package dream
