package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/gemm"
)

type benchOptions struct {
	model modelFlags
	sizes []string
	steps int
	layer string
	ops   bool
	nodes bool
	// engine are the engine's choices: --kernel and --winograd.
	engine   graph.Options
	winograd bool
	tile     int // --tile: as dream's, but -1 (untiled) by default
}

func newBenchCmd() *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench [--model M] [--size WxH]... [--steps N]",
		Short: "Measure the speed of dream steps",
		Long: `bench runs dream steps (forward to the layer, gradient back to the image, the
update) on a synthetic image at each --size and prints, per size, the median and
minimum seconds per step, the GFLOP/s (2 x the forward convolution FLOPs per step)
and the peak resident memory. Its last line summarises the last size:

  summary: 1024x768 median 0.312 s/step min 0.301 s/step 235.3 GFLOP/s peak-rss 512 MB`,
		Example: `  deepdream bench
  deepdream bench --size 224x224 --size 1024x768 --steps 10
  deepdream bench --model ../shared/models/googlenet-bvlc.onnx --size 2048x1536 --steps 3
  deepdream bench --size 1024x768 --steps 10 --nodes
  deepdream bench --size 1024x768 --kernel avx2          # another GEMM kernel (deepdream version lists them)
  deepdream bench --size 1024x768 --winograd=false       # direct convolutions only
  deepdream bench --size 1024x768 --size 6000x4000 --tile 0 --steps 1   # tiled as dream tiles: ns/pixel/step compare`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	o.model.register(cmd.Flags())
	cmd.Flags().StringArrayVar(&o.sizes, "size", []string{"224x224", "1024x768"}, "image size WxH, repeatable")
	cmd.Flags().IntVar(&o.steps, "steps", 5, "timed steps per size (after one warm-up step)")
	cmd.Flags().StringVar(&o.layer, "layer", "", "layer to dream, `NAME[:CH,...][=WEIGHT]` (default: the model's)")
	cmd.Flags().BoolVar(&o.ops, "ops", false, "also print, per size, the time per step of each operator, forward and backward")
	cmd.Flags().BoolVar(&o.nodes, "nodes", false, "like --ops, one line per node (named by its first output)")
	cmd.Flags().StringVar(&o.engine.Kernel, "kernel", "", "GEMM micro-kernel: a `KERNEL` of those deepdream version lists (default: the fastest)")
	cmd.Flags().BoolVar(&o.winograd, "winograd", true, "run 3x3 and 5x5 convolutions by Winograd's transforms (false: directly)")
	cmd.Flags().IntVar(&o.tile, "tile", -1, "step in tiles of at most TILE pixels a side, as dream does (0: the tile dream chooses; -1: untiled)")
	return cmd
}

func runBench(ctx context.Context, stdout, stderr io.Writer, o benchOptions) error {
	if o.steps < 1 {
		return usagef("bench: --steps must be at least 1")
	}
	if k := o.engine.Kernel; k != "" && !slices.Contains(gemm.Kernels(), k) {
		return usagef("bench: --kernel %s: this machine has %s", k, strings.Join(gemm.Kernels(), ", "))
	}
	for _, size := range o.sizes {
		if _, _, err := parseSize(size); err != nil {
			return err
		}
	}
	if o.layer != "" {
		if l, err := dream.ParseLayer(o.layer); err != nil {
			return usagef("bench: --layer %q: %v", o.layer, err)
		} else if l.Mask != "" {
			return usagef("bench: --layer %q: a mask (@%s) is for dream", o.layer, l.Mask)
		}
	}
	o.engine.NoWinograd = !o.winograd
	lm, err := o.model.load(ctx, stderr, false, use{defaultLayer: o.layer == ""})
	if err != nil {
		return err
	}
	req := dream.Defaults()
	if o.layer != "" {
		req.Layers = []string{o.layer}
	}
	obj, err := lm.resolve(&req)
	if err != nil {
		return err
	}
	net := lm.net
	kernel := o.engine.Kernel
	if kernel == "" {
		kernel = gemm.KernelName()
	}
	fmt.Fprintf(stdout, "model %s, layer %s, %d threads, gemm kernel %s, winograd %v\n", lm.entry.Name, strings.Join(req.Layers, " + "), runtime.GOMAXPROCS(0), kernel, !o.engine.NoWinograd)
	var summary string
	for _, size := range o.sizes {
		w, h, _ := parseSize(size) // checked above
		// As Dream does before each octave's plan: the garbage of loading
		// (and of the previous size) goes back to the system, so that the
		// peak RSS is the step's.
		debug.FreeOSMemory()
		r := req
		r.Tile, r.Winograd = o.tile, !o.engine.NoWinograd
		est, err := net.Estimate(w, h, r)
		if err != nil {
			return err
		}
		s, err := net.NewStepper(h, w, obj, o.engine, est.Tiling())
		if err != nil {
			return err
		}
		windows, tw, th := s.Windows()
		rng := rand.New(rand.NewPCG(1, 2))
		src := make([]float32, 3*h*w)
		for i := range src {
			src[i] = rng.Float32()*200 - 100
		}
		times := make([]float64, 0, o.steps)
		prof := opProfile{byNode: o.nodes}
		for i := range o.steps + 1 {
			if i == 1 && (o.ops || o.nodes) { // the first step warms caches and page-faults buffers in
				s.Observe(prof.add)
			}
			s.Shuffle(rng)
			start := time.Now()
			if _, err := s.Step(ctx, src, rng.IntN(2*req.Jitter+1)-req.Jitter, rng.IntN(2*req.Jitter+1)-req.Jitter, req.Step); err != nil {
				return err
			}
			if i > 0 {
				times = append(times, time.Since(start).Seconds())
			}
		}
		slices.Sort(times)
		median, fastest := times[len(times)/2], times[0]
		if len(times)%2 == 0 {
			median = (times[len(times)/2-1] + times[len(times)/2]) / 2
		}
		gflops := 2 * float64(windows) * float64(s.ForwardFLOPs()) / median / 1e9
		rss := peakRSS()
		tiles := ""
		if windows > 1 {
			tiles = fmt.Sprintf(" in %d tiles of %dx%d (tile %d, halo %d)", windows, tw, th, est.Tile, est.Halo)
		}
		fmt.Fprintf(stdout, "%dx%d%s: median %.3f s/step, min %.3f s/step, %.1f ns/pixel/step, %.1f GFLOP/s (forward %.2f GFLOP), peak RSS %d MB\n",
			w, h, tiles, median, fastest, 1e9*median/float64(w*h), gflops, float64(windows)*float64(s.ForwardFLOPs())/1e9, rss>>20)
		if o.ops || o.nodes {
			prof.print(stdout, times)
		}
		summary = fmt.Sprintf("summary: %dx%d median %.3f s/step min %.3f s/step %.1f GFLOP/s peak-rss %d MB", w, h, median, fastest, gflops, rss>>20)
	}
	fmt.Fprintln(stdout, summary)
	return nil
}

// opProfile sums the step times of a plan by operator, or by node, and
// direction.
type opProfile struct {
	byNode bool
	total  map[opKey]time.Duration
	calls  map[opKey]int
}

type opKey struct {
	op       string
	backward bool
}

func (p *opProfile) add(st graph.StepTime) {
	if p.total == nil {
		p.total, p.calls = map[opKey]time.Duration{}, map[opKey]int{}
	}
	op := st.Node.OpType
	if st.Fused != "" {
		op += "+" + st.Fused
	}
	if p.byNode && len(st.Node.Outputs) > 0 {
		op = st.Node.Outputs[0] + " " + op
	}
	k := opKey{op, st.Backward}
	p.total[k] += st.Elapsed
	p.calls[k]++
}

// print writes the mean time per step of each operator and direction,
// longest first, and what the step spent outside the graph (objective,
// normalised update, roll).
func (p *opProfile) print(w io.Writer, steps []float64) {
	n := float64(len(steps))
	wall := 0.0
	for _, t := range steps {
		wall += t
	}
	keys := make([]opKey, 0, len(p.total))
	inGraph := 0.0
	width := len("outside the graph")
	for k, d := range p.total {
		keys = append(keys, k)
		inGraph += d.Seconds()
		width = max(width, len(k.op)+len(" backward"))
	}
	slices.SortFunc(keys, func(a, b opKey) int {
		return cmp.Or(cmp.Compare(p.total[b], p.total[a]), cmp.Compare(a.op, b.op))
	})
	head := "operator"
	if p.byNode {
		head = "node"
	}
	fmt.Fprintf(w, "  %-*s %10s %7s %6s\n", width, head, "ms/step", "share", "nodes")
	for _, k := range keys {
		dir := "forward"
		if k.backward {
			dir = "backward"
		}
		sec := p.total[k].Seconds()
		fmt.Fprintf(w, "  %-*s %10.1f %6.1f%% %6d\n", width, k.op+" "+dir, 1e3*sec/n, 100*sec/wall, int(float64(p.calls[k])/n))
	}
	fmt.Fprintf(w, "  %-*s %10.1f %6.1f%%\n", width, "outside the graph", 1e3*(wall-inGraph)/n, 100*(wall-inGraph)/wall)
}
