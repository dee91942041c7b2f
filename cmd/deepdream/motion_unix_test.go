//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/internal/race"
	"github.com/deepdream-go/deepdream/video"
)

// TestMotionKilledResumes kills a zoom and a video (SIGKILL: no chance to
// clean up) after their third frame, then runs the same command again:
// it resumes after the frames the work directory holds, without dreaming
// them again (their files are untouched, no progress is reported for
// them), removes what the killed run left beside the output, and makes
// the output an uninterrupted run makes.
func TestMotionKilledResumes(t *testing.T) {
	if testing.Short() && race.Enabled {
		t.Skip("run without -race (-short): the dreams it makes take minutes under the race detector, and the code it drives runs under it in the other tests")
	}
	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 96, 72)
	frames := writeFrames(t, 40, 96, 72)
	dream := []string{"--model", model, "--octaves", "1", "--iterations", "3", "--jitter", "4"}
	for _, c := range []struct {
		name   string
		args   []string
		frames int
	}{
		{"zoom", append([]string{"zoom", photo, "--frames", "60", "--rotate", "1"}, dream...), 60},
		{"video", append([]string{"video", frames, "--blend", "0.8"}, dream...), 40},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := filepath.Join(dir, c.name)
			if err := os.Mkdir(base, 0o777); err != nil {
				t.Fatal(err)
			}
			out, work := filepath.Join(base, "out"), filepath.Join(base, "work")
			args := append(append([]string(nil), c.args...), "-o", out, "--work-dir", work)
			cmd, stderr := startMain(t, args...)
			waitFor(t, stderr, "frame 3 done")
			cmd.Process.Kill()
			if err := cmd.Wait(); err == nil {
				t.Fatalf("the job ended before it was killed: make it longer; stderr:\n%s", stderr.String())
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("a killed job left its output")
			}
			done, err := video.Frames(work)
			if err != nil || len(done) < 3 {
				t.Fatalf("the work directory holds %v (%v), want at least 3 frames", done, err)
			}
			stamps := map[string]time.Time{}
			for _, n := range done {
				st, _ := os.Stat(filepath.Join(work, n))
				stamps[n] = st.ModTime()
			}
			time.Sleep(10 * time.Millisecond) // a frame written again would have a later time

			code, _, errOut := cli(t, context.Background(), args...)
			if code != 0 {
				t.Fatalf("the second run: exit %d: %s", code, errOut)
			}
			if want := fmt.Sprintf("resuming at frame %d\n", len(done)+1); !strings.Contains(errOut, want) {
				t.Errorf("the second run does not say %q:\n%.2000s", want, errOut)
			}
			if strings.Contains(errOut, "frame 1/") || strings.Contains(errOut, fmt.Sprintf("frame %d/", len(done))) {
				t.Errorf("the second run dreamed frames the work directory held:\n%.2000s", errOut)
			}
			for n, at := range stamps {
				if st, err := os.Stat(filepath.Join(work, n)); err != nil || !st.ModTime().Equal(at) {
					t.Errorf("%s was written again", n)
				}
			}
			entries, _ := os.ReadDir(base)
			if len(entries) != 2 {
				t.Errorf("beside the output: %v, want out and work only", entries)
			}

			whole := filepath.Join(base, "whole")
			plain := append(append([]string(nil), c.args...), "-o", whole, "-q")
			if code, _, errOut := cli(t, context.Background(), plain...); code != 0 {
				t.Fatalf("the uninterrupted run: exit %d: %s", code, errOut)
			}
			got, _ := readFrames(t, out)
			want, _ := readFrames(t, whole)
			if len(got) != c.frames || len(want) != c.frames {
				t.Fatalf("%d frames resumed, %d uninterrupted", len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i].Pix, want[i].Pix) {
					t.Errorf("frame %d of the resumed job differs from the uninterrupted one's", i+1)
				}
			}
		})
	}
}
