package motion_test

import (
	"fmt"

	"github.com/deepdream-go/deepdream/motion"
)

// The options of a zoom, set from text as a flag or a form gives them,
// checked, and written as the record of the animation keeps them.
func ExampleFields() {
	o := motion.Defaults()
	for _, f := range motion.Fields() {
		switch f.Key {
		case "frames":
			f.Set(&o, "48")
		case "rotate":
			f.Set(&o, "1.5")
		}
	}
	if err := o.Validate(motion.Zoom); err != nil {
		fmt.Println(err)
	}
	fmt.Println(motion.Record(`{"model":"googlenet"}`, motion.Zoom, motion.Input{Name: "dog.jpg", SHA256: "ab12"}, &o))
	// Output:
	// {"model":"googlenet","zoom":{"input":"dog.jpg","input_sha256":"ab12","frames":48,"zoom":1.05,"rotate":1.5,"pan":[0,0],"fps":"24"}}
}
