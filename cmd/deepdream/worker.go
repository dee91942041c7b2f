package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/models"
	"github.com/deepdream-go/deepdream/queue"
	"github.com/deepdream-go/deepdream/server"
)

type workerOptions struct {
	nats      string
	token     string
	ca        string // --nats-ca
	modelsDir string
	name      string
	workDir   string
	mem       memoryFlag // --max-memory
}

func newWorkerCmd() *cobra.Command {
	o := &workerOptions{}
	cmd := &cobra.Command{
		Use:   "worker --nats URL [--token TOKEN] [--models DIR] [--name NAME] [--max-memory 4G]",
		Short: "Dream the studio's jobs on this machine",
		Long: `worker connects to the NATS server of a studio ('deepdream serve' prints its URL
and, beyond loopback, its token) or to a NATS cluster the studio uses, and dreams
its jobs one at a time until SIGINT or SIGTERM (a job running then goes back to
the queue at once).

A job names its model by sha256: the worker looks for that file in --models DIR
and in the model cache, downloading a registry model into the cache if needed; a
job whose model it lacks fails and says which. A job whose memory estimate is
over --max-memory is left to a worker with more. The result goes back to the
studio, which keeps it in its gallery; a worker killed mid-job loses nothing:
the job goes to another worker once its lease (the studio's --ack-wait) runs out.

Zoom and video jobs need ffmpeg and ffprobe (Debian's ffmpeg package): a worker
without them says so when it starts, and fails such a job saying why. Their
finished frames are kept in --work-dir until the job ends: a job given back to
this worker (stopped, or cut off from the queue) resumes from them.`,
		Example: `  deepdream worker --nats nats://studio.lan:4222 --token 5f1c...
  deepdream worker --nats nats://a:4222,nats://b:4222,nats://c:4222 --models ./onnx --max-memory 8G`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorker(cmd.Context(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.nats, "nats", "", "URL of the studio's NATS server, or a comma-separated list of a cluster's (required)")
	f.StringVar(&o.token, "token", "", "the NATS server's token, as 'deepdream serve' printed it (default: $DEEPDREAM_NATS_TOKEN)")
	f.StringVar(&o.ca, "nats-ca", "", natsCAHelp)
	f.StringVar(&o.modelsDir, "models", "", "directory of .onnx models, looked for by sha256 before the cache")
	f.StringVar(&o.name, "name", "", "name of this worker in the studio's jobs (default: HOST/PID)")
	f.StringVar(&o.workDir, "work-dir", "", "`DIR` of the frames of the zoom and video jobs running here, each job's kept until it ends (default: deepdream-worker-NAME in the system's temporary directory)")
	f.StringVar(&o.mem.value, "max-memory", "auto", "memory a dream may take here, e.g. 4G (auto: half the RAM, or of the cgroup's limit)")
	return cmd
}

func runWorker(ctx context.Context, stderr io.Writer, o *workerOptions) error {
	if o.nats == "" {
		return usagef("worker: --nats URL is required (deepdream serve prints it)")
	}
	if err := o.mem.resolve("worker"); err != nil {
		return err
	}
	o.token = natsToken(o.token)
	if o.name == "" {
		host, _ := os.Hostname()
		o.name = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	nc, err := connectNATS(o.nats, o.token, o.ca, "worker "+o.name)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer nc.Close()
	logger := log.New(stderr, "deepdream: ", log.LstdFlags)
	w := &queue.Worker{Name: o.name, Budget: o.mem.bytes, Network: filesBySHA(o.modelsDir, logger.Printf), Logf: logger.Printf, WorkDir: o.workDir}
	return w.Run(ctx, nc)
}

// natsToken is a --token flag's value, or $DEEPDREAM_NATS_TOKEN when it
// is empty.
func natsToken(flag string) string {
	if flag == "" {
		return os.Getenv("DEEPDREAM_NATS_TOKEN")
	}
	return flag
}

// natsCAHelp is the help of --nats-ca.
const natsCAHelp = "PEM `FILE` of the CA that signed the NATS server's TLS certificate (a tls:// URL), when it is not one the system trusts"

// connectNATS connects to a NATS server (or a cluster, URLs separated by
// commas) and keeps reconnecting while the process lives. ca, if set, is
// the PEM file of the CA of the server's TLS certificate; extra are more
// options (the studio's in-process connection).
func connectNATS(url, token, ca, name string, extra ...nats.Option) (*nats.Conn, error) {
	opts := append([]nats.Option{nats.Name("deepdream " + name), nats.MaxReconnects(-1)}, extra...)
	if token != "" {
		opts = append(opts, nats.Token(token))
	}
	if ca != "" {
		if _, err := os.Stat(ca); err != nil {
			return nil, fmt.Errorf("--nats-ca: %w", err)
		}
		opts = append(opts, nats.RootCAs(ca))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok && ca == "" {
			return nil, fmt.Errorf("NATS at %s: %w (give the CA that signed its certificate with --nats-ca FILE)", url, err)
		}
		return nil, fmt.Errorf("NATS at %s: %w", url, err)
	}
	return nc, nil
}

// filesBySHA finds a job's model by its sha256: a registry model in dir
// or the cache (downloaded into the cache if missing), else an .onnx file
// of dir whose sha256 is the job's (a file hashed again only when its
// size or time changed: one copied there after the worker started is
// found by the next job that asks for it). It opens each
// model once.
func filesBySHA(dir string, logf func(string, ...any)) func(context.Context, dream.Record) (*dream.Network, error) {
	var mu sync.Mutex
	nets := map[string]*dream.Network{}
	hashed := map[string]string{} // sha256 → path, of dir's .onnx files
	seen := map[string]string{}   // path → size and time, of the files of dir hashed
	return func(ctx context.Context, rec dream.Record) (*dream.Network, error) {
		mu.Lock()
		defer mu.Unlock()
		sum := rec.ModelSHA256
		missing := func(err error) error {
			return &queue.ModelError{Model: rec.Model, SHA256: sum, Err: err}
		}
		if sum == "" {
			return nil, missing(errors.New("the job names no model sha256"))
		}
		if net := nets[sum]; net != nil {
			return net, nil
		}
		open := func(e *models.Entry, path string) (*dream.Network, error) {
			net, note, err := e.Open(path)
			if err != nil {
				return nil, missing(err)
			}
			if note != "" {
				logf("%s", note)
			}
			nets[sum] = net
			return net, nil
		}
		for _, e := range models.Registry() {
			if e.SHA256 != sum {
				continue
			}
			if dir != "" {
				if st, err := os.Stat(e.Path(dir)); err == nil && st.Size() == e.Size {
					return open(&e, e.Path(dir))
				}
			}
			logf("model %s (sha256 %s): fetching it into the cache", e.Name, sum)
			path, err := models.Pull(ctx, &e, models.Options{})
			if err != nil {
				return nil, missing(err)
			}
			return open(&e, path)
		}
		if dir != "" { // the files copied there since are hashed too
			files, _ := filepath.Glob(filepath.Join(dir, "*.onnx"))
			for _, p := range files {
				st, err := os.Stat(p)
				if err != nil {
					continue
				}
				stamp := fmt.Sprint(st.Size(), st.ModTime())
				if seen[p] == stamp {
					continue // hashed as it is
				}
				maps.DeleteFunc(hashed, func(_, q string) bool { return q == p }) // its old sum
				if _, s, err := models.HashFile(p); err == nil {
					hashed[s], seen[p] = p, stamp
				}
			}
		}
		if p, ok := hashed[sum]; ok {
			e, _, err := models.FileEntry(p, models.Override{})
			if err != nil {
				return nil, missing(err)
			}
			return open(e, p)
		}
		where := "not in the registry, and no --models DIR"
		if dir != "" {
			where = "not in the registry, and no .onnx file of " + dir + " has it"
		}
		return nil, missing(errors.New(where + "; copy the studio's model file there"))
	}
}

// catalogBySHA finds a job's model among the studio's (its in-process
// workers dream with the networks the studio opened).
func catalogBySHA(catalog []*server.Model, logf func(string, ...any)) func(context.Context, dream.Record) (*dream.Network, error) {
	return func(_ context.Context, rec dream.Record) (*dream.Network, error) {
		if m := server.ModelOf(catalog, rec); m != nil {
			return m.Open(logf)
		}
		return nil, &queue.ModelError{Model: rec.Model, SHA256: rec.ModelSHA256, Err: errors.New("not among the studio's models: " + strings.Join(modelNames(catalog), ", "))}
	}
}

func modelNames(catalog []*server.Model) []string {
	names := make([]string, len(catalog))
	for i, m := range catalog {
		names[i] = m.Name
	}
	return names
}
