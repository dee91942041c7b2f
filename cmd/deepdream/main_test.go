package main

import (
	"os"
	"testing"
)

// TestMain runs main itself, with the command line after the test
// binary's name, when DEEPDREAM_TEST_MAIN is 1: how the tests of what
// only main does (signals, exit) run the command in a process of its own.
func TestMain(m *testing.M) {
	if os.Getenv("DEEPDREAM_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}
