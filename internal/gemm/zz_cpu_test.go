package gemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"unsafe"
)

func threadCPU() float64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0)
	return float64(ts.Nano()) / 1e9
}

func TestZZCPU(t *testing.T) {
	if os.Getenv("ZZCPU") == "" {
		t.Skip()
	}
	runtime.GOMAXPROCS(1)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	restore, _ := SetKernel(os.Getenv("ZZCPU"))
	defer restore()
	kn := current.Load()
	saved := *kn
	defer func() { *kn = saved }()
	fmt.Sscan(os.Getenv("ZZKC"), &kn.kc)
	fmt.Sscan(os.Getenv("ZZMC"), &kn.mc)
	fmt.Sscan(os.Getenv("ZZNC"), &kn.nc)
	workspaces = sync.Pool{New: func() any { return new(workspace) }}
	fmt.Println("kc mc nc", kn.kc, kn.mc, kn.nc)
	total := 0.0
	for _, s := range benchShapes {
		ar, ac := s.m, s.k
		if s.transA {
			ar, ac = s.k, s.m
		}
		br, bc := s.k, s.n
		if s.transB {
			br, bc = s.n, s.k
		}
		r := rand.New(rand.NewPCG(1, 1))
		x, y, c := randSlice(r, ar*ac), randSlice(r, br*bc), make([]float32, s.m*s.n)
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		reps := max(int(1e9/flops), 1)
		Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, x, ac, y, bc, 0, c, s.n)
		best := 0.0
		for range 3 {
			t0 := threadCPU()
			for range reps {
				Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, x, ac, y, bc, 0, c, s.n)
			}
			best = max(best, flops*float64(reps)/(threadCPU()-t0)/1e9)
		}
		fmt.Printf("%-40s %6.1f GFLOP/s/core\n", s.name, best)
		if s.m > 1 {
			total += 1 / best
		}
	}
	fmt.Printf("harmonic mean %.1f\n", float64(len(benchShapes)-1)/total)
}

func TestZZKernel(t *testing.T) {
	if os.Getenv("ZZCPU") == "" {
		t.Skip()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, kn := range kernels[:len(kernels)-1] {
		for _, tiles := range []int{1, 4, 16, 64} {
			r := rand.New(rand.NewPCG(1, 1))
			ap := randSlice(r, tiles*kn.kc*kn.mr)
			bp := randSlice(r, kn.kc*kn.nr)
			c := make([]float32, tiles*kn.mr*kn.nr)
			reps := 200000 / tiles
			best := 0.0
			for range 5 {
				t0 := threadCPU()
				for range reps {
					for t := range tiles {
						kn.fn(kn.kc, ap[t*kn.kc*kn.mr:], bp, c[t*kn.mr*kn.nr:], kn.nr, 1)
					}
				}
				best = max(best, 2*float64(tiles*kn.mr*kn.nr*kn.kc*reps)/(threadCPU()-t0)/1e9)
			}
			fmt.Printf("%s tiles=%d %.1f GFLOP/s\n", kn.name, tiles, best)
		}
	}
}
