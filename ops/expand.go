package ops

// NewExpand broadcasts a tensor of dims to out, numpy style: dims is
// aligned with the end of out, and an axis of size 1 is repeated along
// out's. The caller checks that the shapes broadcast.
func NewExpand(dims, out []int) (*RemapParams, error) {
	padded := onesPadded(dims, len(out))
	strides := contiguousStrides(padded)
	p := &RemapParams{Injective: true}
	for a, n := range out {
		step := strides[a]
		if padded[a] == 1 {
			step = 0
			p.Injective = p.Injective && n == 1
		}
		p.Dims = append(p.Dims, n)
		p.Src = append(p.Src, axisTable(n, func(i int) int { return i * step }))
	}
	return p.normalized()
}

// NewTile repeats a tensor of dims repeats[a] times along each axis a.
func NewTile(dims, repeats []int) (*RemapParams, error) {
	strides := contiguousStrides(dims)
	p := &RemapParams{Injective: true}
	for a, n := range dims {
		if repeats[a] > 1 {
			p.Injective = false
		}
		p.Dims = append(p.Dims, n*repeats[a])
		p.Src = append(p.Src, axisTable(n*repeats[a], func(i int) int { return i % n * strides[a] }))
	}
	return p.normalized()
}
