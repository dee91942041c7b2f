package dream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/gemm"
	"github.com/deepdream-go/deepdream/internal/shared"
)

var update = flag.Bool("update", false, "write the golden files of the tests that have them")

// TestDefaultDreamIsUnchanged dreams with the default request (fewer
// steps, to keep it short) on internal/tinynet and on BVLC GoogLeNet, and
// compares the dream's bytes with the sha256 kept in testdata/golden for
// this machine's GEMM kernel (the kernels round differently). The golden
// files were written before the options that shape the gradient and the
// look existed (--laplacian, --smooth, --keep-colors, --mask): off, as by
// default, they must leave the dream bit-identical. They change only with
// -update, which an engine change that moves the rounding needs too.
func TestDefaultDreamIsUnchanged(t *testing.T) {
	kernel := gemm.KernelName()
	for _, tc := range []struct {
		name string
		net  func(t *testing.T) *Network
		img  func(t *testing.T) image.Image
	}{
		{"tinynet", func(*testing.T) *Network { return tinyNetwork() }, func(*testing.T) image.Image { return testImage(40, 30) }},
		{"googlenet", func(t *testing.T) *Network {
			m, err := graph.Open(shared.GoogLeNet(t))
			if err != nil {
				t.Fatal(err)
			}
			n, err := NewNetwork(m, Profile{Preprocess: Caffe, DefaultLayer: "inception_4c/output_1"})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}, func(t *testing.T) image.Image {
			photo, err := imageio.ReadFile(shared.Path(t, "images/dog.jpg"), 0)
			if err != nil {
				t.Fatal(err)
			}
			return imageio.Resize(photo, 128, 96)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := Defaults()
			req.Octaves, req.Iterations, req.Seed = 3, 3, 5
			if tc.name == "tinynet" {
				req.Layers = []string{"r"}
			}
			out, err := tc.net(t).Dream(context.Background(), tc.img(t), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(out.(*image.NRGBA).Pix)
			got := hex.EncodeToString(sum[:])
			golden := filepath.Join("testdata", "golden", "default-"+tc.name+"-"+kernel+".sha256")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if os.IsNotExist(err) {
				t.Skipf("no golden file %s for the %s kernel: write it with -update on a machine whose fastest kernel it is, at a commit known to dream as before", golden, kernel)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != strings.TrimSpace(string(want)) {
				t.Errorf("the default dream's pixels have sha256 %s, %s has %s: the default dream changed", got, golden, strings.TrimSpace(string(want)))
			}
		})
	}
}
