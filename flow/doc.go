// Package flow computes dense optical flow between two frames, in pure
// Go: for every pixel of the first frame, where it is in the second. It
// is for carrying a dream from one video frame to the next (DeepDream
// videos warp the last dream along the flow and dream on), and for
// looking at motion.
//
// # Data
//
// An Image is grey, float32 0..255, row-major (Gray converts any
// image.Image, BT.601 luma). A Field holds per pixel i = y*W+x its motion
// (D[2i], D[2i+1]) = (dx, dy), forward: the pixel (x, y) of the first
// frame is at (x+dx, y+dy) in the second, so second(x + flow(x)) ~
// first(x). D is OpenCV's layout, and a C-order H x W x 2 array: WriteNpy
// and DecodeField write and read it as .npy. Warp carries planes (C x H x
// W, a dream's RGB say) along a field; Consistent compares a forward and
// a backward field to find occlusions; Color draws a field in the
// Middlebury colour coding.
//
// None of the functions keeps its arguments. Warp's dst and src must not
// overlap. Estimate and EstimateTo may run concurrently; each takes
// buffers from a free list and returns them.
//
// # Method
//
// Estimate is DIS, dense inverse search (Kroeger, Timofte, Dai and Van
// Gool, ECCV 2016), the method of OpenCV's DISOpticalFlow, followed by a
// variational refinement (Brox et al., ECCV 2004, as OpenCV's
// VariationalRefinement), all in float32:
//
//  1. A pyramid of both frames, halved by 2x2 means down to the level
//     where a patch is a quarter of the longer side (DIS's choice: motions
//     up to about a quarter of the frame are found).
//  2. At each level from the coarsest down to Options.FinestScale (full
//     resolution by default): patches of 8x8 pixels of the first frame, 4
//     pixels apart, each find where they are in the second by Gauss-Newton
//     steps on the sum of squared differences after removing each
//     patch's mean (robust to changes of light), the inverse
//     compositional way (the first frame's gradients, Sobel / 8, and their
//     2x2 structure tensor, computed once per patch). A patch starts from
//     the best of the coarser level's flow at its centre and its already
//     searched neighbours' flows, in a forward pass and a backward one;
//     the flow propagates along stripes of 16 patch rows, searched in
//     parallel, so the result does not depend on the number of cores. A
//     patch that moves further than its side from where it started keeps
//     its start. Each pixel then takes the mean of the flows of the
//     patches covering it, weighted by 1/max(1, |error|) as DIS does.
//  3. At the finest level, a variational refinement: robust (L1-like)
//     brightness constancy, gradient constancy and smoothness terms
//     (weights Delta 5, Gamma 10, Alpha 20, OpenCV's), linearised about
//     the flow, the data terms normalised by their gradients so that they
//     measure errors in pixels of motion; Options.Refine fixed-point
//     iterations of Options.SOR red-black SOR sweeps (omega 1.6).
//
// # Choices, measured
//
// Measured on ../shared/fixtures/motion with OpenCV 4.6's figures from its
// REFERENCE.md (go test -run Fixture -v ./flow): mean end-point error
// against the truth of the synthetic pairs, px, and warp error (the mean
// absolute difference, 0..255, between the first frame and the second
// sampled at x + flow(x)) on the real ones.
//
//	                 synth_a EPE  synth_b EPE  walk warp  box warp
//	this package     0.248        0.142        0.755      1.126
//	  no refinement  0.287        0.182        0.750      1.122
//	OpenCV DIS med.  0.192        0.204        0.942      1.241
//	OpenCV Farneback 1.291        0.691        1.066      1.210
//	zero flow        -            -            2.128      2.880
//
// Unlike OpenCV's DIS medium preset, which stops at half resolution and
// refines at every level, this package searches at full resolution and
// refines only there. Stopping at half resolution (FinestScale 1, with
// stride 3 and five fixed-point iterations at every level, the preset's
// recipe) gave end-point errors of 0.175 and 0.180 but a warp error of
// 1.261 on box, above Farneback's: the half-resolution flow misses the
// fine detail of the moving box. Refining the coarser levels changed no
// figure by more than 0.005, so they are not refined. Stride 4 instead of
// 3 costs 0.02 px of end-point error and 0.02 of warp error and saves
// 40% of the search. Three Gauss-Newton steps per pass gave errors as low
// as twelve (the steps are exact Gauss-Newton ones, on true derivatives;
// OpenCV's take 1/8 steps on unnormalised Sobel gradients and need more).
// One fixed-point iteration of the refinement lowers the end-point
// errors by 0.04 at a cost in warp error of 0.005, and makes the flow
// smoother (its mean absolute gradient a third lower on every pair, the
// forward and backward flows consistent on a little more of the frame),
// which a video carried along it needs; it is about 40% of the time.
//
// Speed: go test -bench Estimate ./flow times a 640x480 pair of video
// frames, in wall time and processor time (all threads). On one core
// (-cpu 1) a pair took 76 to 140 ms of processor time from run to run on
// the shared 2-core machine this was written on (load average 13 to 19),
// about 40% less with Refine -1; on two cores the loops share the work,
// for 88 to 159 ms of processor time in all. The wall time there, 180
// to 600 ms a pair, measured the other work more than this.
package flow
