package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/deepdream-go/deepdream/queue"
	"github.com/deepdream-go/deepdream/server"
)

// studioQueue is the studio's NATS side: the embedded server (unless
// --nats names another), the client the studio submits with, and the
// in-process workers.
type studioQueue struct {
	embedded *queue.Embedded
	nc       *nats.Conn
	client   *queue.Client
	stop     context.CancelFunc
	workers  sync.WaitGroup
}

// startQueue starts the embedded NATS server (or connects to --nats),
// sets up the queue and starts --workers in-process workers, each with a
// share of the memory budget.
func startQueue(ctx context.Context, stderr io.Writer, o *serveOptions, catalog []*server.Model, maxMemory int64, logf func(string, ...any)) (*studioQueue, error) {
	q := &studioQueue{}
	url, token := o.nats, natsToken(o.natsToken)
	if url == "" {
		e, err := queue.Embed(queue.EmbedOptions{Dir: filepath.Join(o.data, "nats"), Listen: o.natsListen, Token: token, TLSCert: o.natsCert, TLSKey: o.natsKey})
		if err != nil {
			return nil, fmt.Errorf("serve: %w (--nats-listen chooses another address)", err)
		}
		q.embedded, url, token = e, e.URL, e.Token
		msg := fmt.Sprintf("deepdream: NATS for workers at %s", url)
		worker := "deepdream worker --nats " + url
		if token != "" {
			worker += " --token " + token
		}
		if o.natsCert != "" {
			worker += " [--nats-ca CA.pem]"
			msg += ", TLS with the certificate " + o.natsCert
		}
		switch {
		case token != "":
			msg += fmt.Sprintf(" (token %s: %s)", token, worker)
		case o.natsCert != "":
			msg += fmt.Sprintf(" (%s)", worker)
		}
		fmt.Fprintln(stderr, msg)
	}
	var err error
	var inProcess []nats.Option
	if q.embedded != nil { // the studio's own connection: through memory
		inProcess = q.embedded.InProcess()
	}
	if q.nc, err = connectNATS(url, token, o.natsCA, "studio", inProcess...); err != nil {
		q.close()
		return nil, fmt.Errorf("serve: %w", err)
	}
	if q.client, err = queue.NewClient(ctx, q.nc, queue.Config{AckWait: o.ackWait, Replicas: o.replicas}); err != nil {
		q.close()
		return nil, fmt.Errorf("serve: %w", err)
	}
	wctx, stop := context.WithCancel(context.Background())
	q.stop = stop
	host, _ := os.Hostname()
	for i := range o.workers {
		w := &queue.Worker{
			Name: fmt.Sprintf("%s/studio-%d", host, i+1), Budget: maxMemory / int64(o.workers),
			Network: catalogBySHA(catalog, logf), Logf: logf, WorkDir: filepath.Join(o.data, "worker-work"),
		}
		q.workers.Go(func() {
			if err := w.Run(wctx, q.nc); err != nil {
				logf("worker %s: %v", w.Name, err)
			}
		})
	}
	return q, nil
}

// close stops the in-process workers (a job running goes back to the
// queue), the client and the embedded server.
func (q *studioQueue) close() {
	if q.stop != nil {
		q.stop()
		q.workers.Wait()
	}
	if q.client != nil {
		q.client.Close()
	}
	if q.nc != nil {
		q.nc.Close()
	}
	if q.embedded != nil {
		q.embedded.Close()
	}
}
