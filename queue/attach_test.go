package queue

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestAttachKeepsTheStudiosConfiguration: a client that attaches to the
// queue a studio set up leaves its AckWait as it was (NewClient would set
// its own), and one on a bare server sets the queue up.
func TestAttachKeepsTheStudiosConfiguration(t *testing.T) {
	e, err := Embed(EmbedOptions{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	ackWait := func() time.Duration {
		js, err := jetstream.New(connect(t, e.URL))
		if err != nil {
			t.Fatal(err)
		}
		c, err := js.Consumer(ctx, streamName, consumerName)
		if err != nil {
			t.Fatal(err)
		}
		return c.CachedInfo().Config.AckWait
	}

	bare, err := Attach(ctx, connect(t, e.URL), Config{AckWait: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	bare.Close()
	if got := ackWait(); got != 3*time.Second {
		t.Fatalf("Attach on a bare server set up an AckWait of %s, want 3s", got)
	}
	studio, err := NewClient(ctx, connect(t, e.URL), Config{AckWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer studio.Close()
	batch, err := Attach(ctx, connect(t, e.URL), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Close()
	if got := ackWait(); got != 2*time.Second {
		t.Errorf("after Attach the studio's AckWait is %s, want 2s", got)
	}
}

// failingJetStream is a JetStream whose consumer lookups fail with err.
type failingJetStream struct {
	jetstream.JetStream
	err error
}

func (f failingJetStream) Consumer(context.Context, string, string) (jetstream.Consumer, error) {
	return nil, f.err
}

// TestAttachSetsUpOnlyAMissingQueue: a lookup of the queue that fails for
// another reason than a missing stream (a timeout here) is returned,
// naming the stream and the server, and leaves the studio's queue as it
// was; one that finds no stream sets the queue up.
func TestAttachSetsUpOnlyAMissingQueue(t *testing.T) {
	e, err := Embed(EmbedOptions{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	nc := connect(t, e.URL)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := attach(ctx, nc, failingJetStream{js, jetstream.ErrStreamNotFound}, Config{AckWait: 3 * time.Second}); err != nil {
		t.Fatalf("with no stream: %v, want the queue set up", err)
	} else {
		c.Close()
	}
	studio, err := NewClient(ctx, connect(t, e.URL), Config{AckWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer studio.Close()
	c, err := attach(ctx, nc, failingJetStream{js, nats.ErrTimeout}, Config{})
	if err == nil {
		c.Close()
	}
	if !errors.Is(err, nats.ErrTimeout) || !strings.Contains(err.Error(), "stream "+streamName+" at nats://127.0.0.1:") {
		t.Errorf("a lookup that timed out: %v, want the timeout, naming the stream and the server", err)
	}
	cons, err := js.Consumer(ctx, streamName, consumerName)
	if err != nil {
		t.Fatal(err)
	}
	if got := cons.CachedInfo().Config.AckWait; got != 2*time.Second {
		t.Errorf("after a failed Attach the studio's AckWait is %s, want 2s", got)
	}
}
