package graph

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

// onnxNodeTests is where Debian's libonnx-testdata puts the ONNX project's
// backend node tests: test_*/model.onnx and test_data_set_N/{input,output}_K.pb.
const onnxNodeTests = "/usr/share/libonnx-testdata/data/node"

// A node test runs when every operator of its model is one the engine
// registers (SupportedOps), whatever the test's name says
// (test_gather_elements uses GatherElements, not Gather): registering an
// operator enrolls all of its node tests.

// conformanceSkips lists the in-scope node tests the engine does not pass,
// and why. Every other in-scope test must pass.
var conformanceSkips = map[string]string{
	"test_identity_opt":                     "optional-typed input: the engine takes tensors only",
	"test_identity_sequence":                "sequence-typed input: the engine takes tensors only",
	"test_reshape_allowzero_reordered":      "empty tensor (a 0x3x4 input): the engine's tensors have every dimension >= 1",
	"test_averagepool_3d_default":           "3-D pooling: the engine pools 1-D and 2-D maps",
	"test_maxpool_3d_default":               "3-D pooling: the engine pools 1-D and 2-D maps",
	"test_convtranspose_3d":                 "3-D transposed convolution: the engine convolves 1-D and 2-D maps",
	"test_batchnorm_epsilon_training_mode":  "training mode BatchNorm (batch statistics): the engine runs inference",
	"test_batchnorm_example_training_mode":  "training mode BatchNorm (batch statistics): the engine runs inference",
	"test_training_dropout":                 "training mode Dropout (random mask): the engine runs inference",
	"test_training_dropout_default":         "training mode Dropout (random mask): the engine runs inference",
	"test_training_dropout_default_mask":    "training mode Dropout (random mask): the engine runs inference",
	"test_training_dropout_mask":            "training mode Dropout (random mask): the engine runs inference",
	"test_training_dropout_zero_ratio":      "training mode Dropout: the engine runs inference",
	"test_training_dropout_zero_ratio_mask": "training mode Dropout: the engine runs inference",

	// Shapes, slicing and reductions.
	"test_range_float_type_positive_delta":                   "float inputs fed at run time: Range's length depends on their values, and the engine fixes shapes at plan time (integer and constant ranges fold)",
	"test_split_zero_size_splits":                            "empty tensor (a 0-element input): the engine's tensors have every dimension >= 1",
	"test_reduce_log_sum_exp_default_axes_keepdims_example":  "float64 (DOUBLE) input: the engine computes in float32",
	"test_reduce_log_sum_exp_default_axes_keepdims_random":   "float64 (DOUBLE) input: the engine computes in float32",
	"test_reduce_log_sum_exp_do_not_keepdims_example":        "float64 (DOUBLE) input: the engine computes in float32",
	"test_reduce_log_sum_exp_do_not_keepdims_random":         "float64 (DOUBLE) input: the engine computes in float32",
	"test_reduce_log_sum_exp_keepdims_example":               "float64 (DOUBLE) input: the engine computes in float32",
	"test_reduce_log_sum_exp_keepdims_random":                "float64 (DOUBLE) input: the engine computes in float32",
	"test_reduce_log_sum_exp_negative_axes_keepdims_example": "float64 (DOUBLE) input: the engine computes in float32",
	"test_reduce_log_sum_exp_negative_axes_keepdims_random":  "float64 (DOUBLE) input: the engine computes in float32",

	// Element-wise operators (ops/unary.go, ops/elementwise.go, op_cast.go).
	"test_sqrt":                                "values match; the gradient check cannot pass: at the input 0.028 Sqrt curves so fast that central differences (steps of 0.01) are 1.6% off its slope, beyond the check's 1%",
	"test_sign":                                "values match; the gradient check cannot pass: the input holds 0, where Sign jumps, and central differences (steps of 0.01) see a slope of 100 there, where the engine's gradient is 0 (as PyTorch's)",
	"test_max_float16":                         "FLOAT16 inputs: the engine's runtime tensors are float32",
	"test_min_float16":                         "FLOAT16 inputs: the engine's runtime tensors are float32",
	"test_max_float64":                         "DOUBLE inputs: the engine's runtime tensors are float32",
	"test_min_float64":                         "DOUBLE inputs: the engine's runtime tensors are float32",
	"test_pow":                                 "values match; the gradient check cannot pass: the base holds 0, where a^b with a non-integer b is undefined to the left, so the finite difference there is NaN",
	"test_pow_types_float":                     "an integer base with a runtime float exponent makes an integer tensor at run time; integer tensors exist only as plan-time constants",
	"test_pow_types_int32_float32":             "an integer base with a runtime float exponent makes an integer tensor at run time; integer tensors exist only as plan-time constants",
	"test_pow_types_int64_float32":             "an integer base with a runtime float exponent makes an integer tensor at run time; integer tensors exist only as plan-time constants",
	"test_cast_BFLOAT16_to_FLOAT":              "the data set stores the BFLOAT16 input as UINT16 bit patterns, which are integers to the harness",
	"test_cast_FLOAT_to_BFLOAT16":              "the data set stores the BFLOAT16 output as UINT16 bit patterns; the engine also keeps float32 precision",
	"test_castlike_FLOAT_to_BFLOAT16_expanded": "the data set stores the BFLOAT16 output as UINT16 bit patterns; the engine also keeps float32 precision",
	"test_castlike_BFLOAT16_to_FLOAT_expanded": "the data set stores BFLOAT16 as UINT16 bit patterns, and its \"like\" input has rank 1 where the model declares 2",
	"test_cast_DOUBLE_to_FLOAT":                "DOUBLE input: the engine's runtime tensors are float32",
	"test_cast_DOUBLE_to_FLOAT16":              "DOUBLE input: the engine's runtime tensors are float32",
	"test_castlike_DOUBLE_to_FLOAT_expanded":   "DOUBLE input: the engine's runtime tensors are float32",
	"test_castlike_DOUBLE_to_FLOAT16_expanded": "DOUBLE input: the engine's runtime tensors are float32",
	"test_castlike_FLOAT_to_DOUBLE_expanded":   "DOUBLE input (\"like\"): the engine's runtime tensors are float32",
	"test_cast_FLOAT16_to_DOUBLE":              "FLOAT16 input: the engine's runtime tensors are float32",
	"test_cast_FLOAT16_to_FLOAT":               "FLOAT16 input: the engine's runtime tensors are float32",
	"test_castlike_FLOAT16_to_DOUBLE_expanded": "FLOAT16 input: the engine's runtime tensors are float32",
	"test_castlike_FLOAT16_to_FLOAT_expanded":  "FLOAT16 input: the engine's runtime tensors are float32",
	"test_castlike_FLOAT_to_FLOAT16_expanded":  "FLOAT16 input (\"like\"): the engine's runtime tensors are float32",
	"test_cast_FLOAT_to_STRING":                "string tensors: the engine has float and integer tensors only",
	"test_cast_STRING_to_FLOAT":                "string tensors: the engine has float and integer tensors only",
	"test_castlike_FLOAT_to_STRING_expanded":   "string tensors: the engine has float and integer tensors only",
	"test_castlike_STRING_to_FLOAT_expanded":   "string tensors: the engine has float and integer tensors only",
}

// The ONNX backend test tolerance (onnx/backend/test/runner).
const conformanceRtol, conformanceAtol = 1e-3, 1e-7

// maxGradCheckInputs bounds the runtime float input elements of a case whose
// gradients are checked by finite differences, to keep the test quick.
const maxGradCheckInputs = 4096

type conformanceCase struct {
	name  string
	dir   string
	model *onnx.Model
	ops   []string // the distinct operator types of its nodes, sorted
}

// caseOutcome is what became of one case; the zero value is "not run"
// (filtered out by -run).
type caseOutcome struct {
	status      string // "passed", "failed", "skipped"
	gradChecked bool
}

func TestONNXConformance(t *testing.T) {
	if _, err := os.Stat(onnxNodeTests); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("libonnx-testdata is missing: .ci/run installs it")
		}
		t.Skipf("ONNX node tests not found (%v); apt-get install libonnx-testdata to run them", err)
	}
	cases, outOfScope := loadConformanceCases(t)
	names := map[string]bool{}
	for _, c := range cases {
		names[c.name] = true
	}
	for name := range conformanceSkips {
		if !names[name] {
			t.Errorf("skip table lists %s, which is not an in-scope node test", name)
		}
	}

	outcomes := make([]caseOutcome, len(cases))
	for i, c := range cases {
		o := &outcomes[i]
		ok := t.Run(c.name, func(t *testing.T) {
			if reason, skip := conformanceSkips[c.name]; skip {
				o.status = "skipped"
				t.Skip(reason)
			}
			o.status = "failed"
			o.gradChecked = runConformanceCase(t, c)
		})
		if ok && o.status == "failed" {
			o.status = "passed"
		}
	}
	logConformanceTally(t, cases, outcomes, outOfScope)
}

// loadConformanceCases reads every node test and keeps those whose
// operators are all in scope; it also counts the others.
func loadConformanceCases(t *testing.T) (cases []conformanceCase, outOfScope int) {
	dirs, err := filepath.Glob(filepath.Join(onnxNodeTests, "test_*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no node tests in %s (%v)", onnxNodeTests, err)
	}
	for _, dir := range dirs {
		m, err := onnx.ReadFile(filepath.Join(dir, "model.onnx"))
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		c := conformanceCase{name: filepath.Base(dir), dir: dir, model: m}
		inScope := true
		for _, n := range m.Graph.Nodes {
			if (n.Domain != "" && n.Domain != "ai.onnx") || !slices.Contains(SupportedOps(), n.OpType) {
				inScope = false
			}
			if !slices.Contains(c.ops, n.OpType) {
				c.ops = append(c.ops, n.OpType)
			}
		}
		if !inScope {
			outOfScope++
			continue
		}
		sort.Strings(c.ops)
		cases = append(cases, c)
	}
	return cases, outOfScope
}

// runConformanceCase runs every data set of c and compares every graph
// output; for the first data set it also checks the gradients of the first
// output where it has some. It reports whether a gradient was checked.
func runConformanceCase(t *testing.T, c conformanceCase) (gradChecked bool) {
	m, err := Load(c.model)
	if err != nil {
		t.Fatal(err)
	}
	sets, _ := filepath.Glob(filepath.Join(c.dir, "test_data_set_*"))
	if len(sets) == 0 {
		t.Fatalf("%s has no test_data_set_*", c.dir)
	}
	for si, set := range sets {
		spec, feeds := conformanceSpec(t, c, set)
		p, err := planConformance(m, &spec, feeds)
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range feeds {
			copy(p.Data(name), data)
		}
		if err := p.Forward(context.Background()); err != nil {
			t.Fatal(err)
		}
		for k, out := range c.model.Graph.Outputs {
			want := readTensorFile(t, filepath.Join(set, fmt.Sprintf("output_%d.pb", k)))
			if err := compareConformance(p, out.Name, want); err != nil {
				t.Errorf("%s: output %d %q: %v", filepath.Base(set), k, out.Name, err)
			}
		}
		if si == 0 && !t.Failed() {
			gradChecked = checkConformanceGradient(t, c, m, p, spec, feeds)
		}
	}
	return gradChecked
}

// conformanceSpec makes the forward plan's spec for one data set: float32
// inputs are fed at run time (feeds holds their data), integer and boolean
// inputs are plan-time constants, the targets are the graph outputs.
func conformanceSpec(t *testing.T, c conformanceCase, set string) (Spec, map[string][]float32) {
	spec := Spec{Consts: map[string]*Value{}}
	feeds := map[string][]float32{}
	for k, in := range c.model.Graph.Inputs {
		tp := readTensorProto(t, filepath.Join(set, fmt.Sprintf("input_%d.pb", k)))
		v, err := ValueOf(tp)
		if err != nil {
			t.Fatalf("input %d %q: %v", k, in.Name, err)
		}
		switch {
		case tp.DataType == onnx.Float:
			spec.Inputs = append(spec.Inputs, InputSpec{Name: in.Name, Shape: v.Shape})
			feeds[in.Name] = v.F
		case v.Int:
			spec.Consts[in.Name] = v
		default:
			t.Fatalf("input %d %q has element type %v: the engine takes float32 and integer inputs only", k, in.Name, tp.DataType)
		}
	}
	for _, out := range c.model.Graph.Outputs {
		spec.Targets = append(spec.Targets, out.Name)
	}
	return spec, feeds
}

// planConformance plans spec. A float input that a builder needs when the
// plan is made (a Resize's scales, which fix its output shape) becomes a
// constant of its value in feeds.
func planConformance(m *Model, spec *Spec, feeds map[string][]float32) (*Plan, error) {
	for {
		p, err := m.Plan(*spec)
		var pt *planTimeError
		if err == nil || !errors.As(err, &pt) || feeds[pt.name] == nil {
			return p, err
		}
		i := slices.IndexFunc(spec.Inputs, func(in InputSpec) bool { return in.Name == pt.name })
		spec.Consts[pt.name] = FloatValue(spec.Inputs[i].Shape, feeds[pt.name])
		spec.Inputs = slices.Delete(spec.Inputs, i, i+1)
		delete(feeds, pt.name)
	}
}

func readTensorProto(t *testing.T, path string) *onnx.Tensor {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := onnx.DecodeTensor(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tp
}

func readTensorFile(t *testing.T, path string) *Value {
	t.Helper()
	v, err := ValueOf(readTensorProto(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// compareConformance checks tensor name of p against want: same shape, and
// values within the ONNX tolerance (NaN matching NaN), or exactly equal for
// integer outputs.
func compareConformance(p *Plan, name string, want *Value) error {
	got, shape := p.Data(name), p.Shape(name)
	if got == nil {
		return fmt.Errorf("the plan has no such tensor")
	}
	if !shape.Equal(want.Shape) {
		return fmt.Errorf("shape %v, want %v", shape, want.Shape)
	}
	if want.Int {
		gotInts := p.tensors[name].cnst
		for i, w := range want.I {
			// An integer constant is compared as integers; a kernel's
			// float output holding integers (indices) as floats.
			if gotInts != nil && gotInts.Int {
				if gotInts.I[i] != w {
					return fmt.Errorf("[%d] = %d, want %d", i, gotInts.I[i], w)
				}
			} else if got[i] != float32(w) {
				return fmt.Errorf("[%d] = %v, want %d", i, got[i], w)
			}
		}
		return nil
	}
	bad, first := 0, -1
	for i, w := range want.F {
		a, b := float64(got[i]), float64(w)
		if a == b || (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) <= conformanceAtol+conformanceRtol*math.Abs(b) {
			continue
		}
		if bad++; first < 0 {
			first = i
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d values differ; first [%d] = %v, want %v", bad, len(want.F), first, got[first], want.F[first])
	}
	return nil
}

// checkConformanceGradient checks, by finite differences, the gradient of
// the case's first output with respect to each runtime float input the
// engine can differentiate, at the data set's point. It is skipped for a
// constant or integer first output (Shape) and for large inputs. It
// reports whether any input was checked.
func checkConformanceGradient(t *testing.T, c conformanceCase, m *Model, fwd *Plan, spec Spec, feeds map[string][]float32) bool {
	first := c.model.Graph.Outputs[0].Name
	if fwd.tensors[first].cnst != nil || len(spec.Inputs) == 0 {
		return false
	}
	size := 0
	for _, in := range spec.Inputs {
		size += in.Shape.Size()
	}
	if size > maxGradCheckInputs {
		return false
	}
	checked := false
	for i, in := range spec.Inputs {
		gspec := spec
		gspec.Inputs = slices.Clone(spec.Inputs)
		gspec.Inputs[i].Grad = true
		gspec.Targets = []string{first}
		gspec.Backward = true
		p, err := m.Plan(gspec)
		if err != nil {
			// Weights (Conv W), shapes and ratios are not differentiated
			// by the engine, and an input may not reach the first output.
			if strings.Contains(err.Error(), "cannot differentiate") || strings.Contains(err.Error(), "does not depend on an input with a gradient") {
				continue
			}
			t.Errorf("gradient plan for %q: %v", in.Name, err)
			continue
		}
		for name, data := range feeds {
			copy(p.Data(name), data)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		if kinks := checkPlanGradient(t, rng, p, first, []string{in.Name}, c.name); kinks > 0 {
			t.Logf("d%s/d%s: %d sampled elements lie within eps of a kink and were not compared", first, in.Name, kinks)
		}
		checked = true
	}
	return checked
}

// logConformanceTally logs, per operator and in total, how many cases
// passed, failed, were skipped and had their gradients checked.
func logConformanceTally(t *testing.T, cases []conformanceCase, outcomes []caseOutcome, outOfScope int) {
	type tally struct{ passed, failed, skipped, grad int }
	count := func(s *tally, o caseOutcome) {
		switch o.status {
		case "passed":
			s.passed++
		case "failed":
			s.failed++
		case "skipped":
			s.skipped++
		}
		if o.gradChecked {
			s.grad++
		}
	}
	perOp := map[string]*tally{}
	var total tally
	for i, c := range cases {
		for _, op := range c.ops {
			if perOp[op] == nil {
				perOp[op] = &tally{}
			}
			count(perOp[op], outcomes[i])
		}
		count(&total, outcomes[i])
	}
	format := func(s tally) string {
		line := fmt.Sprintf("%d passed, %d skipped, %d gradient-checked", s.passed, s.skipped, s.grad)
		if s.failed > 0 {
			line += fmt.Sprintf(", %d FAILED", s.failed)
		}
		return line
	}
	ops := make([]string, 0, len(perOp))
	for op := range perOp {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		t.Logf("%s: %s", op, format(*perOp[op]))
	}
	t.Logf("total: %s (%d node tests use operators out of scope)", format(total), outOfScope)
}
