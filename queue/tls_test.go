package queue

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/deepdream-go/deepdream/internal/testcert"
)

// TestEmbedWithTLS starts the embedded server with a certificate: its
// URL is tls://, a client given the CA sets up the queue over it, this
// process connects through memory without the CA, a client without it
// is refused for the certificate's unknown authority, and a
// certificate without its key is refused at start.
func TestEmbedWithTLS(t *testing.T) {
	files := testcert.Write(t)
	e, err := Embed(EmbedOptions{Dir: t.TempDir(), Listen: "127.0.0.1:0", TLSCert: files.Cert, TLSKey: files.Key})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !strings.HasPrefix(e.URL, "tls://127.0.0.1:") {
		t.Errorf("URL %s, want tls://127.0.0.1:PORT", e.URL)
	}
	nc, err := nats.Connect(e.URL, nats.RootCAs(files.CA))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if !nc.TLSRequired() {
		t.Error("the connection is not TLS")
	}
	c, err := NewClient(context.Background(), nc, Config{})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	in, err := nats.Connect(e.URL, e.InProcess()...) // the studio's own, through memory
	if err != nil {
		t.Fatalf("in process: %v", err)
	}
	in.Close()

	if nc, err := nats.Connect(e.URL, nats.NoReconnect()); err == nil {
		nc.Close()
		t.Error("a client without the CA connected")
	} else if _, ok := errors.AsType[x509.UnknownAuthorityError](err); !ok {
		t.Errorf("a client without the CA: %v, want an unknown authority", err)
	}

	if _, err := Embed(EmbedOptions{Dir: t.TempDir(), Listen: "127.0.0.1:0", TLSCert: files.Cert}); err == nil || !strings.Contains(err.Error(), "give both") {
		t.Errorf("a certificate without its key: %v", err)
	}
}
