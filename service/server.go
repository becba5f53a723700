package service

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Connection limits of every listener: a slow or idle client cannot hold
// a connection open (Slowloris), and WriteTimeout leaves room for the
// 30-second appraisal budget of submitEvidence.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 20 * time.Second
	writeTimeout      = 40 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
	// DefaultShutdownTimeout bounds how long shutdown waits for the
	// requests in flight.
	DefaultShutdownTimeout = 45 * time.Second
)

// Listener is one listener the service serves and what it serves there.
type Listener struct {
	Listener net.Listener
	Handler  http.Handler
	// TLS, when set, serves HTTPS with this configuration (for the admin
	// listener with ClientAuth set, mTLS).
	TLS *tls.Config
}

func newHTTPServer(h http.Handler, tc *tls.Config, log *slog.Logger) *http.Server {
	return &http.Server{
		// The server's own complaints (TLS handshakes, broken
		// connections) go to the service's log.
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		Handler:           h,
		TLSConfig:         tc,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// Serve serves the listeners, and the maintenance loop, until ctx ends;
// then it shuts down gracefully: the service reports TERMINATING, the
// listeners close, and the requests in flight (a session being appraised
// among them) finish, for at most shutdownTimeout (0: the default). It
// returns the first listener's failure, or nil after a clean shutdown.
func (s *Service) Serve(ctx context.Context, shutdownTimeout time.Duration, ls ...Listener) error {
	if shutdownTimeout <= 0 {
		shutdownTimeout = DefaultShutdownTimeout
	}
	servers := make([]*http.Server, len(ls))
	errc := make(chan error, len(ls))
	for i, l := range ls {
		srv := newHTTPServer(l.Handler, l.TLS, s.log)
		srv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
		servers[i] = srv
		go func() {
			var err error
			if l.TLS != nil {
				err = srv.ServeTLS(l.Listener, "", "")
			} else {
				err = srv.Serve(l.Listener)
			}
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errc <- err
		}()
	}
	mctx, stopMaintenance := context.WithCancel(ctx)
	defer stopMaintenance()
	go s.Maintain(mctx, 30*time.Second)

	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
	}
	s.SetTerminating()
	s.log.Info("shutting down: finishing the requests in flight", "timeout", shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Go(func() {
			if err := srv.Shutdown(sctx); err != nil {
				s.log.Warn("shutdown", "error", err)
				srv.Close()
			}
		})
	}
	wg.Wait()
	return first
}
