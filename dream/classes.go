package dream

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/internal/edit"
)

// Classes: dreaming towards (or away from) the classes of the network's
// classifier, at any image size.

// Class makes a term of an Objective the score of one class of the
// network's classifier (its logit, before any softmax), so that a dream
// goes towards the class, at any image size. A network that computes its
// scores at any size (one that pools its last feature map globally:
// ResNet, ConvNeXt, MobileNet, SqueezeNet) gives them itself. One whose
// classifier takes one size only, as GoogLeNet's 7x7 average pool of the
// 7x7 map of inception_5b at 224x224, has the classifier applied to the
// mean of that feature map over all its positions (global average
// pooling), then its weights and bias for the class: at 224x224 the
// network's own score, at any other size the same classifier over the
// whole image. The gradient there is the class's weights over the number
// of positions, the same at every position of the map.
type Class struct {
	Index int    // the class's output of the classifier
	Label string // its name in the network's class list, "" if it has none
	// Spec is the class as a spec gave it, a name or an index, before
	// Network.Resolve matched it.
	Spec string
	head *classifier
}

// classifier is the head of a network that ends in a global average pool
// and (optionally) a fully connected layer.
type classifier struct {
	// features is the tensor class terms read: the feature map pooled,
	// N x C x H x W, or the scores themselves (N x K) when the network
	// computes them at any size.
	features string
	scores   string // the tensor of the class scores in the model
	k, c     int    // classes, channels of features
	// w holds the k x c weights, alpha folded in; nil when the features
	// are the scores, or their pooled mean is (SqueezeNet: a 1x1
	// convolution to the classes, then the pool). b holds the k biases,
	// beta folded in; nil when none.
	w, b []float32
}

// ParseClass reads a class spec NAME|INDEX[=WEIGHT]: a class of the
// network's classifier by its name (matched by Network.Resolve against
// Profile.Classes) or its index, with a weight that is 1 when not given,
// and may be negative (the dream then suppresses the class) but not 0.
// The term's tensor is the classifier's to name: Resolve sets it.
func ParseClass(s string) (Layer, error) {
	spec, w, err := splitWeight(s, "class")
	if err != nil {
		return Layer{}, err
	}
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return Layer{}, fmt.Errorf("no class name or index")
	}
	c := &Class{Index: -1, Spec: spec}
	if i, err := strconv.Atoi(spec); err == nil {
		if i < 0 {
			return Layer{}, fmt.Errorf("class %d is not a class index", i)
		}
		c.Index = i
	}
	return Layer{Weight: w, Class: c}, nil
}

// splitWeight splits "SPEC=WEIGHT" into the spec and its weight, 1 when
// not given; a weight must be a finite number other than 0 (what counts
// for nothing is left out). what names the term in the error.
func splitWeight(s, what string) (string, float32, error) {
	i := strings.LastIndexByte(s, '=')
	if i < 0 {
		return s, 1, nil
	}
	w, err := strconv.ParseFloat(s[i+1:], 32)
	if err != nil || math.IsNaN(w) || math.IsInf(w, 0) {
		return s, 0, fmt.Errorf("weight %q is not a number", s[i+1:])
	}
	if float32(w) == 0 {
		return s, 0, fmt.Errorf("weight %q is 0, which would dream nothing of the %s: leave the %s out instead", s[i+1:], what, what)
	}
	return s[:i], float32(w), nil
}

// ClassError is a class spec that names no class the network can dream:
// the network has no classifier it can use at any size, or no such
// class, or the name matches several.
type ClassError struct {
	Spec  string // as the request gives it, NAME|INDEX[=WEIGHT]
	Model string // the model file's name, "" for a model built in memory
	Err   error
}

func (e *ClassError) Error() string {
	model := ""
	if e.Model != "" {
		model = e.Model + ": "
	}
	return fmt.Sprintf("dream: %sclass %q: %v", model, e.Spec, e.Err)
}

func (e *ClassError) Unwrap() error { return e.Err }

// resolveClass completes a class term of ParseClass, of the spec spec:
// the classifier's feature map, the class by index or by name.
func (n *Network) resolveClass(l Layer, spec string) (Layer, error) {
	head, err := n.head()
	if err == nil {
		c := *l.Class
		c.head = head
		if c.Index < 0 {
			c.Index, err = n.classIndex(c.Spec, head.k)
		} else if c.Index >= head.k {
			err = fmt.Errorf("no such class: the classifier has %d, 0 to %d", head.k, head.k-1)
		}
		if err == nil {
			if len(n.Classes) == head.k {
				c.Label = n.Classes[c.Index]
			}
			l.Name, l.Class = head.features, &c
			return l, nil
		}
	}
	return l, &ClassError{Spec: spec, Model: strings.TrimSuffix(where(n.Model), ": "), Err: err}
}

// classIndex finds a class by name in the profile's class list: the class
// of that name, case and underscores aside; else the one class whose name
// has it as whole words ("husky": "Siberian husky"). Several such classes,
// or none, are an error that suggests names.
func (n *Network) classIndex(name string, k int) (int, error) {
	if len(n.Classes) != k {
		return 0, fmt.Errorf("the model's %d classes have no names here; give the class by its index, 0 to %d", k, k-1)
	}
	norm := func(s string) string {
		return strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(s, "_", " ")), " "))
	}
	want := norm(name)
	var words []int
	for i, c := range n.Classes {
		switch c := norm(c); {
		case c == want:
			return i, nil
		case strings.Contains(" "+c+" ", " "+want+" "):
			words = append(words, i)
		}
	}
	if len(words) == 1 {
		return words[0], nil
	}
	if len(words) > 1 {
		return 0, fmt.Errorf("ambiguous: %s; give one of these names, or an index", n.classList(words, 10))
	}
	type cand struct{ i, d int }
	var cands []cand
	for i, c := range n.Classes {
		cands = append(cands, cand{i, edit.Distance(want, norm(c))})
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Compare(a.d, b.d) })
	var closest []int
	for _, c := range cands[:min(5, len(cands))] {
		closest = append(closest, c.i)
	}
	return 0, fmt.Errorf("no such class among the model's %d; closest: %s", k, n.classList(closest, 5))
}

// classList names classes with their indices: "Siberian husky (250), ...",
// at most max of them.
func (n *Network) classList(idx []int, max int) string {
	var s []string
	for _, i := range idx[:min(max, len(idx))] {
		s = append(s, fmt.Sprintf("%s (%d)", n.Classes[i], i))
	}
	if len(idx) > max {
		s = append(s, fmt.Sprintf("and %d more", len(idx)-max))
	}
	return strings.Join(s, ", ")
}

// eval returns the class's score on the feature map a (of this shape, its
// batch summed) and adds w times its gradient to g unless g is nil: the
// class's weights over the number of positions, at every position. With
// a mask m over the positions, the score is the mean over cells positions
// of each position's score (its features times the weights, plus the
// bias), weighed by m: the part of the image's score that a tiled step's
// window holds where m is 1 (its core), cells being the image's
// positions. Without m, the mean is over the map's own positions, each of
// weight 1.
func (c *Class) eval(a, g []float32, shape graph.Shape, w float32, m []float32, cells int) float64 {
	h := c.head
	plane := shape.Size() / (shape[0] * shape[1])
	weight := float64(plane) // of the positions m holds
	if m == nil {
		cells = plane
	} else {
		weight = 0
		for _, v := range m {
			weight += float64(v)
		}
	}
	score := 0.0
	for n := range shape[0] {
		if h.b != nil {
			score += float64(h.b[c.Index]) * weight / float64(cells)
		}
		for ch := range h.c {
			wt := h.weight(c.Index, ch)
			if wt == 0 {
				continue
			}
			off := (n*shape[1] + ch) * plane
			sum := 0.0
			if m == nil {
				for _, v := range a[off : off+plane] {
					sum += float64(v)
				}
			} else {
				for i, v := range a[off : off+plane] {
					sum += float64(m[i]) * float64(v)
				}
			}
			score += float64(wt) * sum / float64(cells)
			if g == nil {
				continue
			}
			d := w * wt / float32(cells)
			if m == nil {
				for i := range g[off : off+plane] {
					g[off+i] += d
				}
			} else {
				for i := range g[off : off+plane] {
					g[off+i] += d * m[i]
				}
			}
		}
	}
	return score
}

// weight returns the classifier's weight of channel ch for class k.
func (h *classifier) weight(k, ch int) float32 {
	switch {
	case h.w != nil:
		return h.w[k*h.c+ch]
	case k == ch:
		return 1
	}
	return 0
}

// findClassifier finds the classifier the network ends in: from its first
// output, back through a softmax and reshapes, the tensor of its scores.
// If the network computes it at other sizes than its own, class terms
// read it. Otherwise the scores must come from a fully connected layer
// (Gemm, or MatMul and an Add of the bias) or none, then reshapes, then a
// pool over the whole of a feature map (GlobalAveragePool, ReduceMean over
// H and W, or an AveragePool whose output is 1x1 at the network's size),
// which class terms pool themselves, at any size.
func (n *Network) findClassifier() (*classifier, error) {
	m := n.Model
	outs := m.Graph.Outputs
	if len(outs) == 0 {
		return nil, fmt.Errorf("the model declares no output")
	}
	through := func(t string, ops ...string) (string, *graph.Node) {
		for {
			node := m.Producer(t)
			if node == nil || !slices.Contains(ops, node.OpType) || len(node.Inputs) == 0 {
				return t, node
			}
			t = node.Inputs[0]
		}
	}
	reshapes := []string{"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"}
	scores, node := through(outs[0].Name, append(reshapes, "Softmax", "LogSoftmax")...)
	h := &classifier{scores: scores}
	if s, ok := n.shapes[scores]; ok && len(s) >= 2 && s.Size() == s[0]*s[1] && n.fits(n.h+32, n.w+32, Objective{{Name: scores}}) {
		h.features, h.k, h.c = scores, s[1], s[1]
		return h, nil
	}
	pooled := scores
	if node != nil {
		var err error
		if pooled, err = h.fullyConnected(m, node); err != nil {
			return nil, err
		}
	}
	pooled, node = through(pooled, reshapes...)
	if node == nil || !isGlobalPool(node, n.shapes) {
		what := "the model's input"
		if node != nil {
			what = fmt.Sprintf("node %d (%s %q)", node.Index, node.OpType, node.Outputs[0])
		}
		return nil, fmt.Errorf("its scores %q take one image size only, and come from %s, not from a pool over a whole feature map, which classes would pool at any size", scores, what)
	}
	h.features = node.Inputs[0]
	shape, ok := n.shapes[h.features]
	if !ok || len(shape) != 4 {
		return nil, fmt.Errorf("its pooled feature map %q has shape %v, want N x C x H x W", h.features, shape)
	}
	switch {
	case h.w == nil:
		h.k, h.c = shape[1], shape[1]
	case h.c != shape[1]:
		return nil, fmt.Errorf("its weights take %d features, its feature map %q has %d channels", h.c, h.features, shape[1])
	}
	if h.b != nil && len(h.b) != h.k {
		return nil, fmt.Errorf("its bias has %d values for %d classes", len(h.b), h.k)
	}
	return h, nil
}

// fullyConnected reads the weights and bias of the layer that computes the
// scores, node (a Gemm, a MatMul, or an Add of a MatMul and a constant),
// into h, and returns the tensor it reads; a node of another kind computes
// no weights (SqueezeNet), and the tensor is the scores themselves.
func (h *classifier) fullyConnected(m *graph.Model, node *graph.Node) (string, error) {
	bad := func(why string, args ...any) error {
		return fmt.Errorf("its classifier, node %d (%s %q), %s", node.Index, node.OpType, node.Outputs[0], fmt.Sprintf(why, args...))
	}
	var alpha, beta float32 = 1, 1
	transB := false
	var wIn, bIn string
	switch node.OpType {
	case "Gemm":
		ta, err1 := node.Int("transA", 0)
		tb, err2 := node.Int("transB", 0)
		a, err3 := node.Float("alpha", 1)
		b, err4 := node.Float("beta", 1)
		if err := cmp.Or(err1, err2, err3, err4); err != nil {
			return "", bad("%v", err)
		}
		if ta != 0 || len(node.Inputs) < 2 {
			return "", bad("is not features times weights")
		}
		alpha, beta, transB, wIn = a, b, tb != 0, node.Inputs[1]
		if len(node.Inputs) > 2 {
			bIn = node.Inputs[2]
		}
	case "Add":
		mm := m.Producer(node.Inputs[0])
		bIn = node.Inputs[1]
		if m.Const(bIn) == nil {
			mm, bIn = m.Producer(node.Inputs[1]), node.Inputs[0]
		}
		if mm == nil || mm.OpType != "MatMul" || m.Const(bIn) == nil {
			return "", bad("does not add a bias to a matrix product")
		}
		node, wIn = mm, mm.Inputs[1]
	case "MatMul":
		wIn = node.Inputs[1]
	default:
		return node.Outputs[0], nil
	}
	wv := m.Const(wIn)
	if wv == nil || len(wv.Shape) != 2 || wv.Int {
		return "", bad("has no constant weight matrix")
	}
	rows, cols := wv.Shape[0], wv.Shape[1]
	h.k, h.c = cols, rows // features x classes
	if transB {
		h.k, h.c = rows, cols
	}
	h.w = make([]float32, h.k*h.c)
	for k := range h.k {
		for c := range h.c {
			i := c*cols + k
			if transB {
				i = k*cols + c
			}
			h.w[k*h.c+c] = alpha * wv.F[i]
		}
	}
	if bIn != "" {
		bv := m.Const(bIn)
		if bv == nil || bv.Int || bv.Shape.Size() != h.k {
			return "", bad("has a bias that is not %d constants", h.k)
		}
		h.b = make([]float32, h.k)
		for i, v := range bv.F {
			h.b[i] = beta * v
		}
	}
	return node.Inputs[0], nil
}

// isGlobalPool reports whether node averages whole feature maps: a
// GlobalAveragePool, a ReduceMean over H and W, or an AveragePool whose
// output has one position at the network's size (GoogLeNet's 7x7 pool of
// a 7x7 map).
func isGlobalPool(node *graph.Node, shapes map[string]graph.Shape) bool {
	switch node.OpType {
	case "GlobalAveragePool":
		return true
	case "AveragePool":
		s := shapes[node.Outputs[0]]
		return len(s) == 4 && s[2] == 1 && s[3] == 1
	case "ReduceMean":
		axes, err := node.Ints("axes", nil)
		if err != nil || len(axes) != 2 {
			return false
		}
		slices.Sort(axes)
		return slices.Equal(axes, []int{2, 3}) || slices.Equal(axes, []int{-2, -1})
	}
	return false
}
