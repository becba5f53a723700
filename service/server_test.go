package service

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ccakit/cca/verifier"
)

// gatedAppraiser holds each appraisal until released, to have a session in
// flight at shutdown.
type gatedAppraiser struct {
	inner   Appraiser
	entered chan struct{}
	release chan struct{}
}

func (g *gatedAppraiser) Verify(ctx context.Context, ev, nonce []byte) (*verifier.Result, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.inner.Verify(ctx, ev, nonce)
}

// TestGracefulShutdown: a session being appraised when shutdown begins
// finishes (200, complete), while the listener stops taking connections
// and discovery reports TERMINATING meanwhile.
func TestGracefulShutdown(t *testing.T) {
	realm := startEmulatedRealm(t)
	st := openStore(t, testDatabases(t)["sqlite"])
	gate := &gatedAppraiser{inner: provisionedAppraiser(t, st, realm), entered: make(chan struct{}), release: make(chan struct{})}
	svc, err := New(Config{Store: st, Appraiser: gate, EARKey: newEARKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, 10*time.Second, Listener{Listener: ln, Handler: svc.PublicHandler()}) }()

	url, nonce := newSessionFor(t, base, "")
	tok, err := realm.Token(nonce)
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status int
		body   []byte
	}
	answered := make(chan answer, 1)
	go func() {
		status, _, body := do(t, "POST", url, CCAEvidenceMediaType, "", tok)
		answered <- answer{status, body}
	}()
	<-gate.entered
	cancel()
	// The listener closes while the session is in flight.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if svc.serviceState() != "TERMINATING" {
		t.Fatalf("service state %s during shutdown", svc.serviceState())
	}
	close(gate.release)
	a := <-answered
	if a.status != http.StatusOK || sessionOf(t, a.body).Status != "complete" {
		t.Fatalf("in-flight session: %d %s", a.status, a.body)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
