// Package dream is Google's DeepDream algorithm (google/deepdream,
// dream.ipynb) on top of package graph: an octave pyramid, jitter, a
// gradient step normalised by the mean absolute gradient, clipping to the
// valid pixel range. The loop stays as small as the notebook's; the speed
// lives in the engine.
//
// A Network is a graph with its Profile: its preprocessing (Preprocess,
// pixels <-> input tensor), its layer names and default layer. Its
// Resolve is the one layer resolver: a layer spec NAME[:CH,...][=WEIGHT]
// names a tensor that changes with the image (an exact tensor name wins
// over an alias, and an alias applies only when its tensor exists), and
// the specs of a request become an Objective, the sum of weighted L2 norms
// that a dream maximises and `deepdream probe` prints (a negative weight
// suppresses a layer; a weight of 0 is refused). A profile without a
// default layer gets the output of the block at about two thirds of the
// network's depth (graph.Model.BlockOutputs).
//
// An Objective has two other kinds of terms. A class spec
// NAME|INDEX[=WEIGHT] (ParseClass) names a class of the network's
// classifier (by Profile.Classes, case aside, or whole words of one name,
// with suggestions when ambiguous or unknown): its term is the class's
// score, which the network computes itself at any size when it ends in a
// global pool, and which Class computes from the mean of the last feature
// map otherwise (GoogLeNet, whose 7x7 pool takes 224x224 images only: at
// that size the score is the network's own). A class alone is the
// objective; with layers, a Stepper balances the classes against them once
// per octave, so that a class of weight 1 moves the image as much as the
// layers together. A guide image (the notebook's guided dream) turns the
// layer terms into guided ones (Network.Guided): at each position of a
// layer, the gradient is the one of the guide's feature vectors at that
// layer that has the largest dot product with the layer's vector there,
// the guide being run once, its longer side scaled to the network's input
// size; a layer's mask weighs its guided term per cell as it does an L2
// term. A Request's Classes hold the class specs; its Guide names the
// guide, an image of its Images like a mask (below).
//
// A Request is one dream: layers, octaves, octave scale, iterations, step,
// jitter, seed and max size, and its look: Laplacian, smooth, keep colors
// and mask, and its classes and guide (all off by default, which is the
// notebook's dream, bit for bit). Its fields are described once, in the table
// Fields returns (name, flag, default, bounds, help, JSON key): the command
// line's flags, the studio's form and /api/config, Validate, and the Record
// embedded in every dream file (which --from reads back) are all made from
// it; the record adds the model's sha256 and preprocessing, so that a
// model file can be found, and used as it was, without its name or
// sidecar. Presets are named recipes of the same fields, by key: values
// that --preset, `deepdream presets` and the studio take from one table,
// Presets. The step is in pixel levels of 0..255 on every model, converted
// through the model's scale and std, so that the notebook's 1.5 dreams
// alike on a 0..255 Caffe model and on a normalised 0..1 PyTorch one;
// jitter is in pixels and the clipping range is 0..255.
//
// The look shapes each step (look.go). The gradient is first taken along
// the luminance if KeepColors asks (a pixel's three channels then move
// alike, in pixel levels, which leaves its Cb and Cr, BT.601, unchanged;
// a move is cut where a channel would leave 0..255), then normalised band
// by band over its Laplacian pyramid (Laplacian halvings, TensorFlow's
// lap_normalize, shape.go), then blurred by a Gaussian of Smooth pixels,
// and only then divided by its mean absolute value: the step keeps its
// size in pixel levels. Masks are grey images a request names (Mask, a
// layer's @MASK) and holds in Images, as it does its guide (Guide): the
// caller loads them (LoadImage; RenameImages visits every name a request
// uses) and a record keeps each one's name and sha256 under "images", by
// which --from finds the file again. A mask is its
// luminance over black (0 to 1), resized to the dreamed image by area;
// Request.Mask scales each step's move per pixel (after the
// normalisation, so that white dreams as without a mask) and a layer's
// mask weighs its term per cell, the mask averaged over the pixels under
// each cell of the jittered image. The smaller octaves' masks take, per
// pixel, the least of the pixels its detail reaches when it is zoomed up
// (mask.go), so that nothing spills into black: a pixel the mask makes
// black is the photo's, exactly. The look's buffers are made once per
// octave (Stepper.setLook): a step still allocates nothing.
//
// Network.DreamPhoto is the one path from a photo file to a dream file
// (decode with limits and EXIF orientation, dream, keep the alpha, encode
// with the record); Network.Dream runs the algorithm on an image, after
// refusing one smaller than the layers can take (TooSmallError, with the
// least side from Network.MinSide); a
// Stepper runs one notebook make_step at a fixed size, for tests and
// benchmarks.
//
// The package links no network code: the model registry and its download
// cache (package models) build on it, not the other way round.//
// A large octave is dreamed in tiles (tile.go, Request.Tile): a step runs
// the network window by window with one plan of a window's size, each
// window a core and a halo (four cells of the deepest layer's stride), its
// cells weighted so that the windows' objectives add up to the image's,
// and normalises and applies the gradient they make together, as an
// untiled step; the grid moves every step by a stream of the seed.
// Network.Estimate counts a dream's peak memory stage by stage before it
// starts and chooses the tile (memory.go); docs/tiling.md has the
// measurements.
package dream
