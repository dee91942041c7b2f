package graph

import "fmt"

// wantInputs checks the number of inputs present: at least lo, at most hi
// (hi < 0: no limit), and that the first lo are present.
func wantInputs(in []Input, lo, hi int) error {
	if len(in) < lo || (hi >= 0 && len(in) > hi) {
		if lo == hi {
			return fmt.Errorf("want %d inputs, have %d", lo, len(in))
		}
		if hi < 0 {
			return fmt.Errorf("want at least %d inputs, have %d", lo, len(in))
		}
		return fmt.Errorf("want %d to %d inputs, have %d", lo, hi, len(in))
	}
	for i := range lo {
		if !in[i].Present() {
			return fmt.Errorf("input %d is required", i)
		}
	}
	return nil
}
