package gemm

// Packing copies a block of op(A) or op(B) into the panel layout the
// micro-kernel streams through: consecutive k steps of one panel are
// contiguous, and panels are zero-padded to a full mr or nr so the kernel
// never needs an edge case.

// panelPad separates consecutive packed panels by one extra cache line.
// Without it a panel is often a multiple of 4 KiB long (kb*nr*4 bytes with
// kb a multiple of 64), and the k step that packing writes into every panel
// at once would land in a single L1 set.
const panelPad = 16

// panelStride is the distance between packed panels of width w and depth kb.
func panelStride(kb, w int) int { return kb*w + panelPad }

// packA packs rows [i0, i0+mb) and depth [p0, p0+kb) of alpha*op(A) into
// ceil(mb/mr) panels of kb*mr floats, panelStride apart.
func packA(dst []float32, g *problem, i0, mb, p0, kb, mr int) {
	panels := (mb + mr - 1) / mr
	ps := panelStride(kb, mr)
	dst = dst[:panels*ps]
	full := mb / mr * mr
	a, lda, alpha := g.a, g.lda, g.alpha // locals: stores to dst could alias g
	if g.transA {
		// op(A)[i][p] = a[p*lda+i]: row p of the stored block is
		// contiguous and feeds step p of every panel.
		for p := range kb {
			src := a[(p0+p)*lda+i0:][:mb]
			d := dst[p*mr:]
			for ir, off := 0, 0; ir < full; ir, off = ir+mr, off+ps {
				dd := d[off : off+mr]
				for r, v := range src[ir : ir+mr] {
					dd[r] = alpha * v
				}
			}
			if full < mb {
				dd := d[full/mr*ps:][:mr]
				for r, v := range src[full:] {
					dd[r] = alpha * v
				}
				clear(dd[mb-full:])
			}
		}
		return
	}
	// op(A)[i][p] = a[i*lda+p]: each row is contiguous, scattered with
	// stride mr into its panel.
	for i := range panels * mr {
		d := dst[i/mr*ps+i%mr:]
		if i >= mb {
			for p := range kb {
				d[p*mr] = 0
			}
			continue
		}
		for p, v := range a[(i0+i)*lda+p0:][:kb] {
			d[p*mr] = alpha * v
		}
	}
}

// packB packs depth [p0, p0+kb) and columns [j0, j0+nb) of op(B) into
// ceil(nb/nr) panels of kb*nr floats, panelStride apart. The source is read
// in memory order, so the hardware prefetchers stream it.
func packB(dst []float32, g *problem, p0, kb, j0, nb, nr int, copyB copyFunc) {
	panels := (nb + nr - 1) / nr
	ps := panelStride(kb, nr)
	dst = dst[:panels*ps]
	if !g.transB {
		// op(B)[p][j] = b[p*ldb+j]: row p of the block is contiguous and
		// feeds row p of every panel.
		// Rows of B are often far apart (a 1024x768 image has 49152
		// columns), so the hardware prefetchers lose the stream at each
		// row; copyB prefetches the row pfAhead rows down.
		const pfAhead = 4
		full := nb / nr * nr
		for p := range kb {
			src := g.b[(p0+p)*g.ldb+j0:][:nb]
			pf := g.b[(p0+min(p+pfAhead, kb-1))*g.ldb+j0:][:nb]
			d := dst[p*nr:]
			copyB(d, src, pf, full/nr, nr, ps)
			if full < nb {
				dd := d[full/nr*ps:][:nr]
				copy(dd, src[full:])
				clear(dd[nb-full:])
			}
		}
		return
	}
	// op(B)[p][j] = b[j*ldb+p]: column j of the block is contiguous and
	// is scattered with stride nr into its panel.
	for j := range panels * nr {
		d := dst[j/nr*ps+j%nr:]
		if j >= nb {
			for p := range kb {
				d[p*nr] = 0
			}
			continue
		}
		src := g.b[(j0+j)*g.ldb+p0:][:kb]
		for p, v := range src {
			d[p*nr] = v
		}
	}
}
