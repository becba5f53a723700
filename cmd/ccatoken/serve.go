package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ccakit/cca/internal/textsafe"
	"github.com/ccakit/cca/service"
	"github.com/ccakit/cca/service/store/sqlstore"
	"github.com/ccakit/cca/token"
)

type serveOptions struct {
	listen, adminListen, db, earKey   string
	tokenFile, tlsCert, tlsKey, caCrt string
	corimKeys                         []string
	nonceEncoding, logFormat          string
	logLevel                          string
	nonceSize                         int
	sessionTTL, shutdown              time.Duration
	maxBody                           int64
	// stdin is read for the one file argument given as "-".
	stdin io.Reader
}

func newServeCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve [--listen ADDR] [--db URL] [--ear-key KEY] [flags]",
		Short: "Run a verification service that Veraison's clients use unchanged",
		Long: `serve runs a CCA verification service with Veraison's REST APIs, so that
Veraison's clients (veraison/apiclient, evcli, Confidential Containers'
attestation service) work against it unchanged (docs/serve.md):

  POST   /challenge-response/v1/newSession[?nonce=B64URL|?nonceSize=N]
  POST   /challenge-response/v1/session/ID   evidence (a CCA token, or a CMW record)
  GET    /challenge-response/v1/session/ID   the session and its EAR
  DELETE /challenge-response/v1/session/ID
  GET    /.well-known/veraison/verification  media types, endpoints, EAR key (JWK)
  POST   /endorsement-provisioning/v1/submit CoRIM trust anchors and reference values
  GET    /.well-known/veraison/provisioning
  GET    /healthz, /metrics (Prometheus)

The verdict is an EAR (EAT Attestation Result) JWT signed with --ear-key;
evidence that fails verification is an EAR with status contraindicated, not
an HTTP error.

Listeners: --listen (public) serves challenge-response, discovery and health.
--admin-listen serves provisioning, metrics and health; it is on loopback by
default, and a non-loopback address needs --provisioning-token-file or
--client-ca (mTLS). With --provisioning-token-file the provisioning API is
also served on the public listener, behind "Authorization: Bearer TOKEN".

Storage: --db is an SQLite file (the default, under the user's state
directory: $XDG_STATE_HOME/ccakit or ~/.local/state/ccakit) or a PostgreSQL
URL (postgres://...) shared by several replicas behind a load balancer.
Sessions, used nonces and endorsements live there, so any replica answers
any request and a nonce is appraised once. With SQLite and no --ear-key, a
P-256 key is generated once and kept beside the database (ear-key.pem, mode
0600); with PostgreSQL every replica needs the same --ear-key.

Nonces: the service mints nonces whose base64 is the same text in the
standard and the URL-safe alphabets, 48 bytes by default (no padding), so
that apiclient (padded standard base64) and current Veraison clients
(base64url) read them alike; --nonce-encoding base64url writes unpadded
base64url for every nonce, as current Veraison services do.

SIGINT or SIGTERM shut down gracefully: discovery says TERMINATING, health
answers 503, and the sessions being appraised finish.`,
		Example: `  # one machine, no set-up: SQLite under ~/.local/state/ccakit
  ccatoken serve
  curl -X POST -H 'Content-Type: application/rim+cbor; profile="tag:arm.com,2025:cca_platform#1.0.0"' \
       --data-binary @platform.corim http://127.0.0.1:8888/endorsement-provisioning/v1/submit

  # public on :8443 with TLS, provisioning with a bearer token
  ccatoken serve --listen :8443 --tls-cert srv.crt --tls-key srv.key \
       --provisioning-token-file /etc/ccakit/token --ear-key /etc/ccakit/ear.pem

  # one of several replicas sharing PostgreSQL
  ccatoken serve --listen :8080 --db 'postgres://ccakit@db/ccakit?sslmode=verify-full' \
       --ear-key /etc/ccakit/ear.pem --admin-listen '' --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			o.stdin = cmd.InOrStdin()
			return runServe(ctx, cmd.ErrOrStderr(), o, nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "public listener `ADDR`: challenge-response, discovery, health")
	f.StringVar(&o.adminListen, "admin-listen", "127.0.0.1:8888", "admin listener `ADDR`: provisioning, metrics, health ('' disables it)")
	f.StringVar(&o.db, "db", "", "database `URL`: an SQLite path or postgres://... (default: ccakit.db under the user's state directory)")
	f.StringVar(&o.earKey, "ear-key", "", "EAR signing `KEY` (PEM or JWK private key; P-256 gives ES256 as in Veraison)")
	f.StringVar(&o.tokenFile, "provisioning-token-file", "", "`FILE` holding the bearer token provisioning requires")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this certificate chain `FILE` (PEM), on both listeners")
	f.StringVar(&o.tlsKey, "tls-key", "", "private key `FILE` of --tls-cert (PEM)")
	f.StringVar(&o.caCrt, "client-ca", "", "require client certificates signed by the CAs in `FILE` (PEM) on the admin listener (mTLS; needs --tls-cert)")
	f.StringArrayVar(&o.corimKeys, "corim-key", nil, "public `KEY` that may sign CoRIMs submitted as application/rim+cose (PEM or JWK; repeatable)")
	f.IntVar(&o.nonceSize, "nonce-size", service.DefaultNonceSize, "size `N` of the nonce minted when a client asks for none (32..64)")
	f.StringVar(&o.nonceEncoding, "nonce-encoding", "compat", "session nonce encoding `E`: compat (padded standard base64, read by every client) or base64url")
	f.DurationVar(&o.sessionTTL, "session-ttl", service.DefaultSessionTTL, "lifetime `D` of a challenge-response session")
	f.Int64Var(&o.maxBody, "max-body", service.DefaultMaxBody, "largest request body in bytes, `N` (evidence, CoRIMs)")
	f.DurationVar(&o.shutdown, "shutdown-timeout", service.DefaultShutdownTimeout, "how long shutdown waits for requests in flight, `D`")
	f.StringVar(&o.logFormat, "log-format", "text", "log format `F` on standard error: text or json")
	f.StringVar(&o.logLevel, "log-level", "info", "log level `L`: debug, info, warn or error")
	return cmd
}

// stateDir is where the default database and EAR key live:
// $XDG_STATE_HOME/ccakit, else ~/.local/state/ccakit (XDG Base Directory
// Specification 0.8).
func stateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "ccakit"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", usagef("no --db given and no home directory for the default: %v", err)
	}
	return filepath.Join(home, ".local", "state", "ccakit"), nil
}

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// ready, when set, is told the listeners' addresses once they listen
// (tests).
type readyFunc func(public, admin string)

func runServe(ctx context.Context, stderr io.Writer, o serveOptions, ready readyFunc) error {
	logger, err := newLogger(stderr, o.logFormat, o.logLevel)
	if err != nil {
		return err
	}
	if err := checkServeLimits(o); err != nil {
		return err
	}
	if countStdin(append([]string{o.earKey, o.tokenFile, o.caCrt}, o.corimKeys...)...) > 1 {
		return usagef("only one of --ear-key, --provisioning-token-file, --client-ca and --corim-key can be - (standard input)")
	}
	enc, err := service.ParseNonceEncoding(o.nonceEncoding)
	if err != nil {
		return usagef("--nonce-encoding: %v", err)
	}
	if o.db == "" {
		dir, err := stateDir()
		if err != nil {
			return err
		}
		o.db = filepath.Join(dir, "ccakit.db")
	}
	earKey, err := serveEARKey(o)
	if err != nil {
		return err
	}
	var token string
	if o.tokenFile != "" {
		b, err := readFile(o.tokenFile, "--provisioning-token-file", o.stdin)
		if err != nil {
			return err
		}
		if token = strings.TrimSpace(string(b)); len(token) < 16 {
			return usagef("--provisioning-token-file %s: the token must be at least 16 characters", textsafe.Escape(o.tokenFile))
		}
	}
	var corimKeys []crypto.PublicKey
	for _, p := range o.corimKeys {
		k, err := readPublicKey("corim-key", p, o.stdin)
		if err != nil {
			return err
		}
		corimKeys = append(corimKeys, k)
	}
	tlsConf, adminTLS, err := serveTLS(o)
	if err != nil {
		return err
	}
	if o.adminListen != "" && !loopback(o.adminListen) && token == "" && o.caCrt == "" {
		return usagef("--admin-listen %s is not a loopback address: provisioning there needs --provisioning-token-file or --client-ca", textsafe.Escape(o.adminListen))
	}

	st, err := sqlstore.Open(ctx, o.db)
	if err != nil {
		return usagef("--db: %v", err)
	}
	defer st.Close()
	appraiser, sync, provisioner, err := newServeBackend(st, corimKeys)
	if err != nil {
		return err
	}
	metrics := service.NewMetrics()
	svc, err := service.New(service.Config{
		Store: st, Appraiser: appraiser, Sync: sync, Provisioner: provisioner, EARKey: earKey,
		ProvisioningToken: token, SessionTTL: o.sessionTTL, NonceSize: o.nonceSize, NonceEncoding: enc,
		MaxBody: o.maxBody, Version: "ccakit " + version(), Logger: logger, Metrics: metrics,
	})
	if err != nil {
		return usageError(err)
	}
	pub, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usagef("--listen: %v", err)
	}
	ls := []service.Listener{{Listener: pub, Handler: svc.PublicHandler(), TLS: tlsConf}}
	adminAddr := ""
	if o.adminListen != "" {
		adm, err := net.Listen("tcp", o.adminListen)
		if err != nil {
			pub.Close()
			return usagef("--admin-listen: %v", err)
		}
		adminAddr = adm.Addr().String()
		ls = append(ls, service.Listener{Listener: adm, Handler: svc.AdminHandler(metrics.Handler()), TLS: adminTLS})
	}
	logger.Info("serving", "public", pub.Addr().String(), "admin", adminAddr, "db", st.Kind+":"+st.Where,
		"tls", tlsConf != nil, "provisioning-token", token != "", "nonce-encoding", enc.String())
	if ready != nil {
		ready(pub.Addr().String(), adminAddr)
	}
	return svc.Serve(ctx, o.shutdown, ls...)
}

// checkServeLimits refuses the numeric flags the service would otherwise
// replace by its defaults without a word: "--max-body 0" must not serve 1
// MiB bodies, nor "--session-ttl 0" sessions of 2m30s.
func checkServeLimits(o serveOptions) error {
	switch {
	case o.nonceSize < service.MinNonceSize || o.nonceSize > service.MaxNonceSize:
		return usagef("--nonce-size: nonce size %d: want %d..%d", o.nonceSize, service.MinNonceSize, service.MaxNonceSize)
	case o.sessionTTL <= 0:
		return usagef("--session-ttl %v: a session lifetime must be positive", o.sessionTTL)
	case o.maxBody <= 0:
		return usagef("--max-body %d: the largest request body must be positive", o.maxBody)
	case o.shutdown <= 0:
		return usagef("--shutdown-timeout %v: must be positive", o.shutdown)
	}
	return nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

// serveEARKey reads --ear-key, or with SQLite and none given, loads or
// creates the P-256 key kept beside the database.
func serveEARKey(o serveOptions) (crypto.Signer, error) {
	if o.earKey != "" {
		return readPrivateKey("ear-key", o.earKey, o.stdin)
	}
	if isPostgres(o.db) {
		return nil, usagef("--ear-key is required with PostgreSQL: every replica must sign EARs with the same key")
	}
	path := filepath.Join(filepath.Dir(strings.TrimPrefix(strings.TrimPrefix(o.db, "sqlite:"), "file:")), "ear-key.pem")
	if data, err := os.ReadFile(path); err == nil {
		k, err := token.ParsePrivateKey(data)
		if err != nil {
			return nil, usagef("EAR key %s: %v", textsafe.Escape(path), err)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, usagef("EAR key: %v", pathErr(err))
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, usagef("EAR key: %v", pathErr(err))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, usagef("EAR key: %v", pathErr(err))
	}
	defer f.Close()
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		return nil, err
	}
	return k, f.Close()
}

// serveTLS builds the listeners' TLS configurations: none without
// --tls-cert; the admin one requires client certificates with --client-ca.
func serveTLS(o serveOptions) (public, admin *tls.Config, err error) {
	if o.tlsCert == "" && o.tlsKey == "" {
		if o.caCrt != "" {
			return nil, nil, usagef("--client-ca needs --tls-cert and --tls-key")
		}
		return nil, nil, nil
	}
	if o.tlsCert == "" || o.tlsKey == "" {
		return nil, nil, usagef("--tls-cert and --tls-key go together")
	}
	cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
	if err != nil {
		return nil, nil, usagef("--tls-cert/--tls-key: %v", err)
	}
	public = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	admin = public.Clone()
	if o.caCrt != "" {
		pemData, err := readFile(o.caCrt, "--client-ca", o.stdin)
		if err != nil {
			return nil, nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, nil, usagef("--client-ca %s: no PEM certificate", textsafe.Escape(o.caCrt))
		}
		admin.ClientCAs = pool
		admin.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return public, admin, nil
}

// loopback reports whether a listen address is on loopback only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newServeBackend is the verifier over the store's endorsements (looked up
// per evidence, so every replica sees a submission once it is committed)
// and the CoRIM provisioner that fills them.
func newServeBackend(st *sqlstore.Store, corimKeys []crypto.PublicKey) (service.Appraiser, func(context.Context) error, service.Provisioner, error) {
	v, cache, err := service.NewStoreVerifier(st)
	if err != nil {
		return nil, nil, nil, err
	}
	return v, cache.Sync, &service.CoRIMProvisioner{Store: st, SignerKeys: corimKeys}, nil
}
