package queue

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// EmbedOptions set up a NATS server inside this process.
type EmbedOptions struct {
	// Dir holds JetStream's data (the studio's: <data>/nats).
	Dir string
	// Listen is the host:port workers connect to (127.0.0.1:4222 by
	// default in the command line; port 0 chooses a free one).
	Listen string
	// Token is the credential clients must give. Empty: none on a
	// loopback address, a generated one beyond it (Embedded.Token says
	// it).
	Token string
	// Name is the server's name (unique in a cluster).
	Name string
	// Cluster, when set, is the host:port of this server's cluster
	// routes, and Routes the other servers' (nats://host:port).
	Cluster string
	Routes  []string
	// TLSCert and TLSKey, when set, are the PEM files of the certificate
	// and key the server proves itself with: clients then connect over
	// TLS (tls://), checking the certificate against the system's roots
	// or the CA they are given. Both, or neither.
	TLSCert, TLSKey string
}

// Embedded is a running NATS server with JetStream.
type Embedded struct {
	*server.Server
	// URL is what clients connect to, Token their credential ("" when
	// none is required).
	URL, Token string
	cert       []byte // the DER of the TLS certificate, with TLS
}

// InProcess returns the options of a connection of this process to the
// server through memory, not the network (the studio's own): with TLS,
// the server's certificate is checked to be the one it was given, not
// against a CA (which this process may not have) and a host name (the
// certificate's are the network's).
func (e *Embedded) InProcess() []nats.Option {
	opts := []nats.Option{nats.InProcessServer(e.Server)}
	if e.cert != nil {
		opts = append(opts, nats.Secure(&tls.Config{
			InsecureSkipVerify: true, // replaced by VerifyConnection's check of the very certificate
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, e.cert) {
					return errors.New("queue: the in-process NATS server's certificate is not the one it was given")
				}
				return nil
			},
		}))
	}
	return opts
}

// Embed starts a NATS server with JetStream in this process.
func Embed(o EmbedOptions) (*Embedded, error) {
	host, portStr, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("queue: listen address %q: %w", o.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("queue: listen address %q: port %q: %w", o.Listen, portStr, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	} else if ln, err := net.Listen("tcp", o.Listen); err != nil { // the server would only log it
		return nil, fmt.Errorf("queue: NATS server: %w", err)
	} else {
		ln.Close()
	}
	token := o.Token
	if token == "" && !loopback(host) {
		b := make([]byte, 24)
		rand.Read(b)
		token = hex.EncodeToString(b)
	}
	opts := &server.Options{
		ServerName: o.Name, Host: host, Port: port, JetStream: true, StoreDir: o.Dir,
		Authorization: token, NoSigs: true, NoLog: true, MaxPayload: 8 << 20,
	}
	var cert []byte
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return nil, errors.New("queue: a TLS certificate and its key go together: give both, or neither")
	}
	if o.TLSCert != "" {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: o.TLSCert, KeyFile: o.TLSKey})
		if err != nil {
			return nil, fmt.Errorf("queue: TLS certificate %s and key %s: %w", o.TLSCert, o.TLSKey, err)
		}
		opts.TLS, opts.TLSConfig, opts.TLSTimeout = true, tc, 5
		cert = tc.Certificates[0].Certificate[0]
	}
	if o.Cluster != "" {
		ch, cp, err := net.SplitHostPort(o.Cluster)
		if err != nil {
			return nil, fmt.Errorf("queue: cluster address %q: %w", o.Cluster, err)
		}
		opts.Cluster.Name, opts.Cluster.Host = "deepdream", ch
		if opts.Cluster.Port, err = strconv.Atoi(cp); err != nil {
			return nil, fmt.Errorf("queue: cluster address %q: %w", o.Cluster, err)
		}
		for _, r := range o.Routes {
			opts.Routes = append(opts.Routes, server.RoutesFromStr(r)...)
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("queue: NATS server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("queue: the NATS server did not start within 30 s (is " + o.Listen + " taken?)")
	}
	return &Embedded{Server: ns, URL: ns.ClientURL(), Token: token, cert: cert}, nil // tls:// with TLS
}

// Close stops the server and waits for it.
func (e *Embedded) Close() {
	e.Shutdown()
	e.WaitForShutdown()
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
