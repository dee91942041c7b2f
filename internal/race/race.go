//go:build race

// Package race reports whether the race detector is on, for tests that
// skip the largest model runs (minutes under the detector).
package race

// Enabled is true when built with -race.
const Enabled = true
