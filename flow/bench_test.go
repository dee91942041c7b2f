package flow

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkEstimate times the flow of a 640x480 pair of video frames (the
// box fixture's), with the default options: ms/pair is the wall time,
// cpu-ms/pair the processor time of all threads (on a machine shared
// with other work, the wall time says more about the others).
func BenchmarkEstimate(b *testing.B) {
	fa, fb := pair(b, "box")
	a, c := Gray(fa), Gray(fb)
	b.Run(fmt.Sprintf("%dx%d", a.W, a.H), func(b *testing.B) {
		var f Field
		ctx := context.Background()
		if err := EstimateTo(ctx, &f, a, c, Options{}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		cpu0, cpuOK := cpuTime()
		b.ResetTimer()
		for range b.N {
			if err := EstimateTo(ctx, &f, a, c, Options{}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/pair")
		if cpu1, _ := cpuTime(); cpuOK {
			b.ReportMetric(float64((cpu1-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/pair")
		}
	})
}
