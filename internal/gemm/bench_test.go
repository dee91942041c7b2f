package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchShapes are GoogLeNet layers as GEMMs: forward convolutions
// Y[m x n] = W[m x k] * col[k x n] at 224x224 and 1024x768 input, the
// input-gradient products dcol[k x n] = W^T * dY (TN), and a square.
var benchShapes = []struct {
	name           string
	transA, transB bool
	m, n, k        int
}{
	{"conv1_7x7_224", false, false, 64, 12544, 147},
	{"conv2_3x3_224", false, false, 192, 3136, 576},
	{"inception_3a_3x3_224", false, false, 128, 784, 864},
	{"inception_4c_3x3_224", false, false, 256, 196, 1152},
	{"inception_4c_1x1_224", false, false, 128, 196, 512},
	{"conv2_3x3_1024x768", false, false, 192, 49152, 576},
	{"inception_3a_3x3_1024x768", false, false, 128, 12288, 864},
	{"inception_4c_3x3_1024x768", false, false, 256, 3072, 1152},
	{"square_1024", false, false, 1024, 1024, 1024},
	{"conv2_3x3_dinput_224_TN", true, false, 576, 3136, 192},
	{"inception_4c_3x3_dinput_224_TN", true, false, 1152, 196, 256},
	{"conv2_3x3_dinput_1024x768_TN", true, false, 576, 49152, 192},
	{"inception_3a_3x3_dinput_1024x768_TN", true, false, 864, 12288, 128},
	{"fc_1024x1000_NT", false, true, 1, 1000, 1024},
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		ar, ac := s.m, s.k
		if s.transA {
			ar, ac = s.k, s.m
		}
		br, bc := s.k, s.n
		if s.transB {
			br, bc = s.n, s.k
		}
		var x, y, c []float32 // made on first use, so filtered-out shapes cost nothing
		for _, kn := range Available() {
			b.Run(fmt.Sprintf("%s_m%d_n%d_k%d/%s", s.name, s.m, s.n, s.k, kn.Name()), func(b *testing.B) {
				if c == nil {
					r := rand.New(rand.NewPCG(1, 1))
					x, y, c = randSlice(r, ar*ac), randSlice(r, br*bc), make([]float32, s.m*s.n)
				}
				for b.Loop() {
					kn.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, x, ac, y, bc, 0, c, s.n)
				}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkKernel measures a micro-kernel alone on packed panels that stay
// in cache: the ceiling for Sgemm with that kernel on one core.
func BenchmarkKernel(b *testing.B) {
	for _, kn := range kernels {
		b.Run(kn.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			const tiles = 16 // A panels swept per B panel, as in the driver
			ap := randSlice(r, tiles*kn.kc*kn.mr)
			bp := randSlice(r, kn.kc*kn.nr)
			c := make([]float32, tiles*kn.mr*kn.nr)
			for b.Loop() {
				for t := range tiles {
					kn.fn(kn.kc, ap[t*kn.kc*kn.mr:], bp, c[t*kn.mr*kn.nr:], kn.nr, 1)
				}
			}
			flops := 2 * float64(tiles*kn.mr*kn.nr*kn.kc) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
