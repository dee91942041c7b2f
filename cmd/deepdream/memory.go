package main

import (
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/server"
)

// The memory of dream and sweep: --max-memory bounds the process's peak,
// the model and the program included. What the program holds when the
// photo is about to be dreamed (its resident memory then) is taken from
// it, and the rest is the dream's (dream.Request.MaxMemory), which
// chooses the tile (--tile 0) and refuses a dream that does not fit. The
// Go runtime is told the same bound (debug.SetMemoryLimit), so that its
// collector keeps the garbage between octaves out of it.

// memoryFlag is --max-memory: "auto" or a size (parseBytes).
type memoryFlag struct {
	value string
	bytes int64  // resolved by resolve
	how   string // where bytes comes from, for --dry-run
}

func (m *memoryFlag) register(fs interface {
	StringVar(p *string, name, value, usage string)
}) {
	fs.StringVar(&m.value, "max-memory", "auto", "the most memory the command may take, e.g. 1.5G or 512M (auto: half the RAM, or of the cgroup's limit, at most 3/4 of what is available); --tile 0 chooses the tile from it")
}

// resolve reads the flag; an error is a usage error.
func (m *memoryFlag) resolve(command string) error {
	if m.value == "auto" || m.value == "" {
		m.bytes, m.how = server.DefaultMaxMemory()
		return nil
	}
	n, err := parseBytes(m.value)
	if err != nil {
		return usagef("%s: --max-memory %q: %v", command, m.value, err)
	}
	m.bytes, m.how = n, "--max-memory"
	return nil
}

// dreamBudget returns what a dream of obj may take now: the bound less
// the process's resident memory (at least one byte: a dream then
// refuses, saying how much it needs), measured after planning obj once at
// the network's size, which makes what plans derive from the weights
// once (Winograd's filters). It also sets the runtime's memory limit.
func (m *memoryFlag) dreamBudget(lm *loadedModel, req dream.Request, obj dream.Objective) (int64, error) {
	w, h := lm.net.Size()
	if _, err := lm.net.NewStepper(h, w, obj, graph.Options{NoWinograd: !req.Winograd}, dream.Tiling{}); err != nil {
		return 0, err
	}
	debug.FreeOSMemory()
	debug.SetMemoryLimit(m.bytes)
	return max(1, m.bytes-residentBytes()), nil
}

// memoryHint adds to a dream's refusal for memory what can be done.
func memoryHint(err error) error {
	var me *dream.MemoryError
	if errors.As(err, &me) {
		return fmt.Errorf("%w: lower --max-size, give smaller tiles (--tile), or raise --max-memory", err)
	}
	var te *dream.TileError
	if errors.As(err, &te) {
		return usageError{err}
	}
	return err
}

// photoSize reads the size of the photo in a file from its header,
// before its EXIF orientation (which may swap them: the estimate is about
// the same either way).
func photoSize(path string) (w, h int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	return cfg.Width, cfg.Height, nil
}

// printEstimate writes --dry-run's report of a dream of a w x h photo.
func printEstimate(out io.Writer, photo string, w, h int, e dream.Estimate, program int64, m *memoryFlag) {
	fmt.Fprintf(out, "%s: %dx%d, dreamed at %dx%d\n", photo, w, h, e.Width, e.Height)
	switch {
	case e.Tiled():
		fmt.Fprintf(out, "tiles of %d pixels (halo %d): %d windows of %dx%d a step at the largest octave\n",
			e.Tile, e.Halo, e.Windows, e.WindowWidth, e.WindowHeight)
	case e.Tile > 0:
		fmt.Fprintf(out, "untiled: the largest octave fits in a tile of %d pixels\n", e.Tile)
	default:
		fmt.Fprintln(out, "untiled (--tile -1)")
	}
	fmt.Fprintf(out, "memory: %s at the peak, of which the network's buffers %s; with the program's %s (the model's weights and their transforms %s of it), %s (--max-memory %s: %s)\n",
		mb(e.Bytes), mb(e.Plan), mb(program), mb(e.Constants), mb(e.Bytes+program), mb(m.bytes), m.how)
}

// mb writes n bytes in MB.
func mb(n int64) string { return fmt.Sprintf("%d MB", (n+1<<19)>>20) }

// residentBytes returns the process's resident set size in bytes: VmRSS
// on Linux, else the Go runtime's view of the memory it obtained.
func residentBytes() int64 { return procStatus("VmRSS:") }

// peakRSS returns the process's peak resident set size in bytes: VmHWM on
// Linux, else the Go runtime's view of the memory it obtained.
func peakRSS() int64 { return procStatus("VmHWM:") }

// procStatus returns the field key of /proc/self/status in bytes, or,
// where there is none, the memory the Go runtime obtained.
func procStatus(key string) int64 {
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, key); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys)
}
