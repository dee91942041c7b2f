// Command deepdream dreams photos with trained convolutional networks, and
// probes and classifies with them. Each subcommand turns its flags into an
// options struct and calls a run function; main maps errors to exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/internal/gemm"
)

// Exit codes.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// usageError marks errors in how the command was called.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

var version = "dev"

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "deepdream",
		Short: "Dream photos with trained convolutional networks (DeepDream), in pure Go",
		Long: `deepdream runs Google's DeepDream algorithm: gradient ascent on a photo so that
what a chosen layer of a trained network sees grows stronger.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	serve := newServeCmd()
	if serve.Annotations == nil {
		serve.Annotations = map[string]string{}
	}
	serve.Annotations[secondSignal] = "cancels the dreams being finished"
	root.AddCommand(newDreamCmd(), newBatchCmd(), newSweepCmd(), newZoomCmd(), newVideoCmd(), newPresetsCmd(), serve, newLayersCmd(), newBenchCmd(), newProbeCmd(), newClassifyCmd(), newFlowCmd(), newModelsCmd(), newWorkerCmd(), newVersionCmd())
	groups(root)
	return root
}

// groups makes cmd and every command below it that only holds
// subcommands (deepdream, deepdream models) print their help when called
// alone, and refuse an unknown subcommand as a usage error (cobra exits 1
// for the root and shows the help, exit 0, below it).
func groups(cmd *cobra.Command) {
	if !cmd.HasSubCommands() {
		return
	}
	cmd.SuggestionsMinimumDistance = 2
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usageError{errors.New(msg)}
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	for _, sub := range cmd.Commands() {
		groups(sub)
	}
}

func main() {
	args := os.Args[1:]
	ctx, cancel := context.WithCancel(context.Background())
	interrupts(cancel, os.Stderr, !ownsSecondSignal(args))
	os.Exit(run(ctx, args, os.Stdout, os.Stderr))
}

// secondSignal is the annotation of a command that acts on a second
// SIGINT or SIGTERM itself (serve: it cancels the dreams it was letting
// finish) rather than exiting at once.
const secondSignal = "second-signal"

// ownsSecondSignal reports whether the command args call has the
// secondSignal annotation.
func ownsSecondSignal(args []string) bool {
	cmd, _, err := newRoot().Find(args)
	return err == nil && cmd.Annotations[secondSignal] != ""
}

// interrupts cancels the work at the first SIGINT or SIGTERM (the command
// stops within a step and leaves no partial file) and, with exitAtSecond,
// exits at once at the second, for work that does not check for the first
// soon (reading a large photo, loading a model, a step of a large dream):
// the temporary file a write may leave is removed by the next write of
// the same output.
func interrupts(cancel context.CancelFunc, stderr io.Writer, exitAtSecond bool) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel()
		if !exitAtSecond {
			for range sigs { // the command's own handler acts on them
			}
		}
		fmt.Fprintln(stderr, "deepdream: interrupting (interrupt again to exit at once)")
		<-sigs
		fmt.Fprintln(stderr, "deepdream: interrupted")
		os.Exit(exitInterrupted)
	}()
}

// run executes the command line args and maps the outcome to an exit code;
// cancelling ctx (Ctrl-C) stops the work within one step.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		fmt.Fprintln(stderr, "deepdream: interrupted")
		return exitInterrupted
	}
	fmt.Fprintln(stderr, "deepdream:", err)
	var u usageError
	if errors.As(err, &u) {
		return exitUsage
	}
	return exitError
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, and the Go runtime and matrix kernels in use",
		Long: `version prints the program's version, then the Go version, platform and
threads, the matrix-multiply micro-kernel in use and those this build can run
on this CPU (fastest first): the details a bug report about speed needs. A
kernel the CPU supports but whose start-up self-check failed is named with the
value it got wrong.`,
		Example: "  deepdream version",
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "deepdream", version)
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s/%s, %d threads, gemm kernel %s (available here: %s)\n",
				runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), gemm.KernelName(), strings.Join(gemm.Kernels(), ", "))
			for _, err := range gemm.Rejected() { // a bug: please report it
				fmt.Fprintln(cmd.OutOrStdout(), "not used:", err)
			}
			return nil
		},
	}
}

// exactArgs is cobra.ExactArgs with usage-error exit status.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
