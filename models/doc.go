// Package models knows the networks deepdream can dream with: the profile
// of each (how it wants its input preprocessed, its layer names), the
// ImageNet class names, and (with the registry) where to get it.
//
// The registry (Registry, Lookup) is a table of ONNX model zoo files. An
// Entry is identified by its size and sha256; its URLs are only places to
// look, tried in order. Each entry carries its preprocessing, a default
// dreaming layer, and friendly layer aliases (e.g. GoogLeNet's
// inception_4c/output for the Caffe2 tensor inception_4c/output_1).
//
// The cache is a directory of model files named as in the registry:
// $DEEPDREAM_MODELS, else deepdream/models under os.UserCacheDir. Resolve
// turns a --model value into a file: an existing file is used as is, a
// registry name is looked up in the cache and downloaded when missing.
// Nothing in the cache is ever partial: downloads and imports go to a
// temporary file in the cache directory, are checked against the sha256
// while they are written, and are renamed into place only when they match;
// on a mismatch, an error or a cancelled context the temporary file is
// removed. A download never waits for the server longer than
// Options.Timeout (30 s) at a time: to connect, for the headers, or for
// the next bytes of the body. When every URL fails, the error says how to get the file by hand
// and where to put it (or `deepdream models import`).
//
// An Entry's profile (dream.Profile) is its preprocessing, default layer,
// aliases, main layers and input size. A model file outside the registry
// takes its preprocessing from flags, else from a MODEL.onnx.json sidecar
// beside it, else from GoogLeNet, and its layer names from the sidecar;
// FileEntry makes that decision and says what it assumed. Entry.Open, the
// one way a model is opened, gives a file whose sidecar names no default
// layer GoogLeNet's names if it has GoogLeNet's inception modules, and
// otherwise the layer dream.NewNetwork chooses from its graph, and says
// which; and every profile without class names ImageNet's, for the class
// specs of a dream (dream --class). Find locates a model file by its
// sha256, as `dream --from` does (internal/recorded, which finds a
// dream's images too).
//
// Entries share their alias maps and slices with the table: callers must
// not modify them.
package models
