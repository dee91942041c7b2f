package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/deepdream-go/deepdream/dream"
)

// --preset and `deepdream presets`: the recipes of dream.Presets.

// registerPreset makes the --preset flag into name.
func registerPreset(fs *pflag.FlagSet, name *string) {
	fs.StringVar(name, "preset", "", "set several dream flags at once to a recipe, `NAME`: "+strings.Join(dream.PresetNames(), ", ")+
		" ('deepdream presets' lists their flags); the flags given win over it")
}

// applyPreset sets the fields of the request that --preset names and the
// command line does not give to the preset's values. It comes after
// --from's record, which it wins over.
func applyPreset(fs *pflag.FlagSet, o *dreamOptions) error {
	if o.preset == "" {
		return nil
	}
	p, err := dream.LookupPreset(o.preset)
	if err != nil {
		return usagef("%s: --preset: %v", o.command, strings.TrimPrefix(err.Error(), "dream: "))
	}
	return p.Apply(&o.req, func(f dream.Field) bool { return fs.Changed(f.Flag) })
}

func newPresetsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "presets",
		Short: "List the recipes --preset takes, with the flags each sets",
		Long: `presets lists the recipes that dream's and sweep's --preset NAME take: each
sets several dream flags at once, as shown. Flags given on the command line win
over the preset's (dream --preset dog-slug --iterations 5 dreams 5 steps per
octave), and the preset wins over the parameters of --from. The layers named are
GoogLeNet's, the default model's.`,
		Example: `  deepdream presets
  deepdream dream photo.jpg -o dream.jpg --preset brush-stroke
  deepdream sweep photo.jpg -o steps.jpg --preset dog-slug --vary step=1,2,4`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			listPresets(cmd.OutOrStdout())
			return nil
		},
	}
}

// listPresets writes each preset's name, flags and description.
func listPresets(w io.Writer) {
	for i, p := range dream.Presets() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s\n  %s\n  %s\n", p.Name, presetFlags(p), p.Description)
	}
}

// presetFlags writes the flags a preset stands for, in the table's order.
func presetFlags(p dream.Preset) string {
	var args []string
	for _, f := range dream.Fields() {
		values, ok := p.Values[f.Key]
		if !ok {
			continue
		}
		if len(values) == 0 {
			args = append(args, fmt.Sprintf("(the default --%s)", f.Flag))
		}
		for _, v := range values {
			args = append(args, "--"+f.Flag+" "+shellQuote(v))
		}
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it holds more than letters,
// digits and the punctuation of layer specs and numbers.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/:,=.+-@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
