package dream

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/shared"
)

// BenchmarkConcurrentSteps runs two dreams' steps (two Steppers of BVLC
// GoogLeNet to inception_4c, as `deepdream serve --workers 2` would) one
// dream after the other, then both at once, in every round, so that both
// ways see the same load. It reports:
//
//   - alone-s/step: a step of one dream running alone;
//   - both-s/step: the wall time of the concurrent phase per step of
//     either dream (the same throughput as alone-s/step if the two
//     share the cores without loss);
//   - both/alone: the concurrent phase's time over the sequential one's
//     (1 means the same throughput; below 1, better);
//   - slow/fast: the time the slower dream took for its steps over the
//     faster one's (1 means each progressed at the same rate).
//
// Needs ../shared (skips without it).
//
//	go test -run '^$' -bench ConcurrentSteps -benchtime 5x ./dream
func BenchmarkConcurrentSteps(b *testing.B) {
	m, err := graph.Open(shared.GoogLeNet(b))
	if err != nil {
		b.Fatal(err)
	}
	n, err := NewNetwork(m, Profile{Preprocess: Caffe})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ w, h, steps int }{{224, 224, 20}, {1024, 768, 3}} {
		b.Run(fmt.Sprintf("%dx%d", c.w, c.h), func(b *testing.B) {
			var dreams [2]dreamSteps
			for i := range dreams {
				s, err := n.NewStepper(c.h, c.w, Objective{{Name: "inception_4c/output_1"}}, graph.Options{}, Tiling{})
				if err != nil {
					b.Fatal(err)
				}
				dreams[i] = dreamSteps{s: s, src: make([]float32, 3*c.h*c.w)}
				for j := range dreams[i].src {
					dreams[i].src[j] = float32((j+i)%251) - 125
				}
				dreams[i].run(1) // warm-up
			}
			var alone, both, slowFast float64
			for b.Loop() {
				start := time.Now()
				for i := range dreams {
					dreams[i].run(c.steps)
				}
				alone += time.Since(start).Seconds()

				var took [2]time.Duration
				var wg sync.WaitGroup
				start = time.Now()
				for i := range dreams {
					wg.Go(func() { took[i] = dreams[i].run(c.steps) })
				}
				wg.Wait()
				both += time.Since(start).Seconds()
				slowFast += max(took[0], took[1]).Seconds() / min(took[0], took[1]).Seconds()
			}
			for i := range dreams {
				if dreams[i].err != nil {
					b.Fatal(dreams[i].err)
				}
			}
			b.ReportMetric(0, "ns/op")
			steps := float64(2 * c.steps * b.N)
			b.ReportMetric(alone/steps, "alone-s/step")
			b.ReportMetric(both/steps, "both-s/step")
			b.ReportMetric(both/alone, "both/alone")
			b.ReportMetric(slowFast/float64(b.N), "slow/fast")
		})
	}
}

// dreamSteps is one dream of BenchmarkConcurrentSteps.
type dreamSteps struct {
	s   *Stepper
	src []float32
	i   int // steps so far, for the jitter
	err error
}

// run does n steps and returns how long they took.
func (d *dreamSteps) run(n int) time.Duration {
	start := time.Now()
	for range n {
		if _, err := d.s.Step(context.Background(), d.src, d.i%7, d.i%5, 1.5); err != nil && d.err == nil {
			d.err = err
		}
		d.i++
	}
	return time.Since(start)
}
