package queue

import (
	"context"
	"testing"
	"time"

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
