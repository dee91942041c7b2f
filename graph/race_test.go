//go:build race

package graph_test

// raceEnabled skips the largest model runs, which take minutes under the
// race detector.
const raceEnabled = true
