package dream

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randomPlanes(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	return x
}

// TestLaplacianPyramid checks lap_split's pieces at odd and even sizes
// down to 1 pixel: the blur-and-halve of a constant is the constant away
// from the zero-padded edges, the upsampling is its transpose times 4 (as
// TensorFlow's conv2d_transpose with 4 times the kernel), splitting then
// merging gives the planes back, and normalize is what TensorFlow's
// operators compute (refLapNormalize).
func TestLaplacianPyramid(t *testing.T) {
	for _, size := range [][2]int{{1, 1}, {2, 3}, {7, 5}, {16, 9}, {33, 40}} {
		h, w := size[0], size[1]
		l := newLaplacian(2, h, w, 3)
		f := level{h, w, randomPlanes(2*h*w, 1)}
		c := level{l.levels[1].h, l.levels[1].w, randomPlanes(len(l.levels[1].data), 2)}
		// <down(f), c> = <f, up(c)>/4
		down := level{c.h, c.w, make([]float32, len(c.data))}
		l.down(down, f)
		up := level{h, w, make([]float32, len(f.data))}
		l.up(up, c, 1)
		if a, b := dot(down.data, c.data), dot(f.data, up.data)/4; math.Abs(a-b) > 1e-5*(math.Abs(a)+1) {
			t.Errorf("%dx%d: <down f, c> = %g, <f, up c>/4 = %g: up is not down's transpose", h, w, a, b)
		}
		x := randomPlanes(2*h*w, 3)
		orig := append([]float32(nil), x...)
		l.split(x)
		l.merge()
		for i := range x {
			if math.Abs(float64(x[i]-orig[i])) > 1e-5 {
				t.Fatalf("%dx%d: split then merge moved value %d from %g to %g", h, w, i, orig[i], x[i])
			}
		}
		// lap_normalize as TensorFlow's ops define it, against normalize.
		want := refLapNormalize(orig, 2, h, w, 3)
		l.normalize(x)
		for i := range x {
			if math.Abs(float64(x[i])-want[i]) > 1e-4*(1+math.Abs(want[i])) {
				t.Fatalf("%dx%d: normalised value %d is %g, TensorFlow's lap_normalize gives %g", h, w, i, x[i], want[i])
			}
		}
	}
	// A constant, blurred and halved: the constant where no padding is
	// read (1 + 2 + 1... of the binomial kernel's 16ths).
	l := newLaplacian(1, 16, 16, 1)
	f := level{16, 16, make([]float32, 256)}
	for i := range f.data {
		f.data[i] = 3
	}
	l.down(l.levels[1], f)
	if v := l.levels[1].data[3*8+3]; math.Abs(float64(v)-3) > 1e-6 {
		t.Errorf("a constant 3 blurred and halved is %g inside", v)
	}
}

// refLapNormalize is the TensorFlow tutorial's lap_normalize of c planes
// of h x w with n splits, in float64, as its operators are defined:
// tf.nn.conv2d with a 5x5 kernel, stride 2 and SAME padding, then
// conv2d_transpose with 4 times the kernel scattering each input over
// the outputs it was computed from, each level divided by
// sqrt(mean(level^2)).
func refLapNormalize(x []float32, c, h, w, n int) []float64 {
	var k5 [5][5]float64
	for a, ka := range lapKernel {
		for b, kb := range lapKernel {
			k5[a][b] = float64(ka) * float64(kb)
		}
	}
	type lvl struct {
		h, w int
		v    []float64
	}
	conv := func(f lvl) lvl { // stride 2, SAME
		ch, cw := (f.h+1)/2, (f.w+1)/2
		py, px := pad(f.h), pad(f.w)
		out := lvl{ch, cw, make([]float64, c*ch*cw)}
		for p := range c {
			for i := range ch {
				for j := range cw {
					for a := range 5 {
						for b := range 5 {
							if y, x := 2*i+a-py, 2*j+b-px; y >= 0 && y < f.h && x >= 0 && x < f.w {
								out.v[(p*ch+i)*cw+j] += k5[a][b] * f.v[(p*f.h+y)*f.w+x]
							}
						}
					}
				}
			}
		}
		return out
	}
	transpose := func(co lvl, h, w int) lvl {
		py, px := pad(h), pad(w)
		out := lvl{h, w, make([]float64, c*h*w)}
		for p := range c {
			for i := range co.h {
				for j := range co.w {
					for a := range 5 {
						for b := range 5 {
							if y, x := 2*i+a-py, 2*j+b-px; y >= 0 && y < h && x >= 0 && x < w {
								out.v[(p*h+y)*w+x] += 4 * k5[a][b] * co.v[(p*co.h+i)*co.w+j]
							}
						}
					}
				}
			}
		}
		return out
	}
	cur := lvl{h, w, make([]float64, len(x))}
	for i, v := range x {
		cur.v[i] = float64(v)
	}
	var levels []lvl
	for range n {
		lo := conv(cur)
		up := transpose(lo, cur.h, cur.w)
		for i := range cur.v {
			cur.v[i] -= up.v[i]
		}
		levels = append(levels, cur)
		cur = lo
	}
	levels = append(levels, cur)
	for _, l := range levels {
		ss := 0.0
		for _, v := range l.v {
			ss += v * v
		}
		std := max(math.Sqrt(ss/float64(len(l.v))), 1e-10)
		for i := range l.v {
			l.v[i] /= std
		}
	}
	img := levels[n]
	for i := n - 1; i >= 0; i-- {
		up := transpose(img, levels[i].h, levels[i].w)
		for j := range up.v {
			up.v[j] += levels[i].v[j]
		}
		img = up
	}
	return img.v
}

func dot(a, b []float32) float64 {
	s := 0.0
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// TestGaussian: a blur keeps a constant (the edges are extended), spreads
// an impulse into the kernel, which sums to 1 and has the standard
// deviation asked for, and keeps the planes apart.
func TestGaussian(t *testing.T) {
	const h, w = 31, 31
	g := newGaussian(2, h, w, 2)
	x := make([]float32, 2*h*w)
	for i := range x[:h*w] {
		x[i] = 5
	}
	x[h*w+15*w+15] = 1 // an impulse in the middle of the second plane
	g.blur(x)
	for i, v := range x[:h*w] {
		if math.Abs(float64(v)-5) > 1e-5 {
			t.Fatalf("a constant 5 blurred is %g at %d", v, i)
		}
	}
	sum, varX := 0.0, 0.0
	for y := range h {
		for xx := range w {
			v := float64(x[h*w+y*w+xx])
			sum += v
			if y == 15 {
				varX += v * float64((xx-15)*(xx-15))
			}
		}
	}
	row := 0.0
	for xx := range w {
		row += float64(x[h*w+15*w+xx])
	}
	if math.Abs(sum-1) > 1e-4 {
		t.Errorf("an impulse blurred sums to %g, want 1 (the kernel's edges fall inside the plane)", sum)
	}
	if sd := math.Sqrt(varX / row); math.Abs(sd-2) > 0.05 {
		t.Errorf("an impulse blurred has a standard deviation of %g pixels along x, want 2", sd)
	}
}
