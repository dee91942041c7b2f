package graph

import (
	"fmt"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("Gemm", buildGemm)
	Register("MatMul", buildMatMul)
}

// Gemm: Y = alpha*op(A)*op(B) + beta*C, A and B 2-D, C broadcast to Y
// (opset 7+ semantics for every opset; C optional from opset 11).
// Every input is differentiable.
func buildGemm(n *Node, in []Input) (*Built, error) {
	required := 3
	if n.Opset >= 11 {
		required = 2
	}
	if err := wantInputs(in, required, 3); err != nil {
		return nil, err
	}
	as, bs := in[0].Shape, in[1].Shape
	if len(as) != 2 || len(bs) != 2 {
		return nil, fmt.Errorf("Gemm: A is %v and B is %v, both must be 2-D", as, bs)
	}
	transA, err := n.Int("transA", 0)
	if err != nil {
		return nil, err
	}
	transB, err := n.Int("transB", 0)
	if err != nil {
		return nil, err
	}
	p := ops.GemmParams{M: as[0], K: as[1], N: bs[1], TransA: transA != 0, TransB: transB != 0, Kernel: n.kernel}
	kb := bs[0]
	if p.TransA {
		p.M, p.K = as[1], as[0]
	}
	if p.TransB {
		p.N, kb = bs[0], bs[1]
	}
	if kb != p.K {
		return nil, fmt.Errorf("Gemm: op(A) is %dx%d but op(B) is %dx%d (transA %d, transB %d)", p.M, p.K, kb, p.N, transA, transB)
	}
	if p.Alpha, err = n.Float("alpha", 1); err != nil {
		return nil, err
	}
	if p.Beta, err = n.Float("beta", 1); err != nil {
		return nil, err
	}
	if len(in) > 2 && in[2].Present() {
		cs := in[2].Shape
		p.CRows, p.CCols = 1, 1
		switch len(cs) {
		case 2:
			p.CRows, p.CCols = cs[0], cs[1]
		case 1:
			p.CCols = cs[0]
		case 0:
		default:
			return nil, fmt.Errorf("Gemm: C is %v, want at most 2-D", cs)
		}
		if (p.CRows != 1 && p.CRows != p.M) || (p.CCols != 1 && p.CCols != p.N) {
			return nil, fmt.Errorf("Gemm: C is %v, does not broadcast to the %dx%d output", cs, p.M, p.N)
		}
	}
	return &Built{Out: []Shape{{p.M, p.N}}, Kernel: &gemmKernel{p}, FLOPs: 2 * int64(p.M) * int64(p.N) * int64(p.K)}, nil
}

type gemmKernel struct{ p ops.GemmParams }

// The slices of the optional C are nil when the node has only A and B.
func (k *gemmKernel) Forward(r *Run) {
	var c []float32
	if len(r.In) > 2 {
		c = r.In[2]
	}
	ops.Gemm(r.Out[0], r.In[0], r.In[1], c, &k.p)
}

func (k *gemmKernel) Backward(r *Run) {
	if r.DOut[0] == nil {
		return
	}
	var dc []float32
	if len(r.DIn) > 2 {
		dc = r.DIn[2]
	}
	ops.GemmBackward(r.DIn[0], r.DIn[1], dc, r.DOut[0], r.In[0], r.In[1], &k.p)
}

// MatMul: numpy matmul. 1-D operands are promoted (A to a row, B to a
// column) and the promoted axis dropped from the result; leading batch axes
// broadcast. Both inputs are differentiable.
func buildMatMul(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	as, bs := in[0].Shape, in[1].Shape
	if len(as) == 0 || len(bs) == 0 {
		return nil, fmt.Errorf("MatMul: A is %v and B is %v; scalars are not allowed", as, bs)
	}
	a, b := as, bs
	if len(a) == 1 {
		a = Shape{1, a[0]}
	}
	if len(b) == 1 {
		b = Shape{b[0], 1}
	}
	m, k, kb, nn := a[len(a)-2], a[len(a)-1], b[len(b)-2], b[len(b)-1]
	if k != kb {
		return nil, fmt.Errorf("MatMul: A is %v and B is %v: inner dimensions %d and %d differ", as, bs, k, kb)
	}
	batch, aOff, bOff, err := broadcastBatch(a[:len(a)-2], b[:len(b)-2], m*k, k*nn)
	if err != nil {
		return nil, fmt.Errorf("MatMul: A is %v and B is %v: %v", as, bs, err)
	}
	out := batch
	if len(as) > 1 {
		out = append(out, m)
	}
	if len(bs) > 1 {
		out = append(out, nn)
	}
	p := ops.MatMulParams{Gemm: ops.GemmParams{M: m, N: nn, K: k, Alpha: 1, Kernel: n.kernel}, AOff: aOff, BOff: bOff}
	flops := 2 * int64(len(aOff)) * int64(m) * int64(nn) * int64(k)
	return &Built{Out: []Shape{out}, Kernel: &matMulKernel{p}, FLOPs: flops}, nil
}

// broadcastBatch broadcasts the batch shapes a and b (numpy rules) and
// returns the result and, per batch element in row-major order, the offset
// of its matrix in each operand, whose matrices have aSize and bSize
// elements.
func broadcastBatch(a, b Shape, aSize, bSize int) (batch Shape, aOff, bOff []int, err error) {
	rank := max(len(a), len(b))
	batch = make(Shape, rank)
	// Dimension i of the result, and of a and b right-aligned (1 if absent).
	dim := func(s Shape, i int) int {
		if j := i - (rank - len(s)); j >= 0 {
			return s[j]
		}
		return 1
	}
	for i := range rank {
		da, db := dim(a, i), dim(b, i)
		switch {
		case da == db || db == 1:
			batch[i] = da
		case da == 1:
			batch[i] = db
		default:
			return nil, nil, nil, fmt.Errorf("batch dimensions %v and %v do not broadcast", a, b)
		}
	}
	count := batch.Size()
	aOff, bOff = make([]int, count), make([]int, count)
	for e := range count {
		// Walk the index of e from the last axis, accumulating each
		// operand's offset with stride 0 along its broadcast axes.
		rest, as, bs := e, aSize, bSize
		for i := rank - 1; i >= 0; i-- {
			idx := rest % batch[i]
			rest /= batch[i]
			if d := dim(a, i); d > 1 {
				aOff[e] += idx * as
				as *= d
			}
			if d := dim(b, i); d > 1 {
				bOff[e] += idx * bs
				bs *= d
			}
		}
	}
	return batch, aOff, bOff, nil
}

type matMulKernel struct{ p ops.MatMulParams }

func (k *matMulKernel) Forward(r *Run) {
	ops.MatMul(r.Out[0], r.In[0], r.In[1], &k.p)
}

func (k *matMulKernel) Backward(r *Run) {
	if r.DOut[0] == nil {
		return
	}
	ops.MatMulBackward(r.DIn[0], r.DIn[1], r.DOut[0], r.In[0], r.In[1], &k.p)
}
