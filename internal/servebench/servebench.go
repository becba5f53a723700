// Package servebench is the load benchmark behind `ccatoken bench serve`:
// verification sessions per second through the service (Veraison's
// challenge-response API over loopback HTTP, with its store) against the
// verifier library's own ceiling on the same tokens, and the latency of a
// session (newSession and evidence submission) at the percentiles.
//
// Every session gets its own nonce and a token the emulated realm made for
// it over RSI (internal/realmtokens), made before the clock starts. The
// library ceiling verifies the same kind of tokens with in-memory stores:
// two P-384 signature verifications per token, of which the platform
// token's is cached after the first (verifier's platform cache); the
// service adds HTTP, the store (a session row, its claim with the nonce,
// its result) and the EAR's signature.
package servebench

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/internal/realmtokens"
	"github.com/ccakit/cca/service"
	"github.com/ccakit/cca/service/store/sqlstore"
	"github.com/ccakit/cca/verifier"
)

// Options bound the benchmark.
type Options struct {
	// Sessions per round (default 1000), Clients concurrent clients
	// (default 64), Rounds alternating library and service runs (default
	// 3; the median is reported).
	Sessions, Clients, Rounds int
	// MaxTime stops issuing sessions in a round after this long (default
	// 60s); the round's figures cover what was done.
	MaxTime time.Duration
	// DB is the service's database; "" is a fresh SQLite file in a
	// temporary directory.
	DB string
	// Progress, if set, receives a line per step.
	Progress io.Writer
}

// Figures are one run's measurements.
type Figures struct {
	Sessions int
	Elapsed  time.Duration
	PerSec   float64
	P50, P99 time.Duration
	// CPU is the process's CPU time per session (for the service: the
	// server and the benchmark's client, which share the process).
	CPU time.Duration
}

// Report is the benchmark's outcome.
type Report struct {
	Options    Options
	GOMAXPROCS int
	DB         string
	// Library: Verify alone with the platform cache (the ceiling the goal
	// refers to); LibraryEAR: Verify and the EAR's signature;
	// LibraryUncached: Verify with the cache off (two P-384
	// verifications per token).
	Library, LibraryEAR, LibraryUncached Figures
	Service                              Figures
	Rounds                               []RoundFigures
}

// RoundFigures are the sessions/s of one round.
type RoundFigures struct{ Library, LibraryEAR, Service float64 }

// Overhead is the share of the library's throughput the service loses:
// 1 - service/library.
func (r *Report) Overhead(library Figures) float64 {
	if library.PerSec == 0 {
		return 0
	}
	return 1 - r.Service.PerSec/library.PerSec
}

// Run runs the benchmark.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Sessions <= 0 {
		o.Sessions = 1000
	}
	if o.Clients <= 0 {
		o.Clients = 64
	}
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.MaxTime <= 0 {
		o.MaxTime = 60 * time.Second
	}
	say := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", args...)
		}
	}
	rep := &Report{Options: o, GOMAXPROCS: runtime.GOMAXPROCS(0)}

	realm, err := realmtokens.Start(emulator.Config{})
	if err != nil {
		return nil, err
	}
	defer realm.Close()
	corims, err := realm.CoRIMs()
	if err != nil {
		return nil, err
	}
	say("making %d tokens over RSI on the emulated realm...", o.Sessions*o.Rounds)
	nonces := make([][]byte, o.Sessions*o.Rounds)
	tokens := make([][]byte, len(nonces))
	for i := range nonces {
		nonces[i] = make([]byte, service.DefaultNonceSize)
		rand.Read(nonces[i])
		if tokens[i], err = realm.Token(nonces[i]); err != nil {
			return nil, err
		}
	}

	lib, err := corims.Verifier(verifier.WithPlatformCacheSize(verifier.DefaultPlatformCacheSize))
	if err != nil {
		return nil, err
	}
	uncached, err := corims.Verifier(verifier.WithPlatformCacheSize(0))
	if err != nil {
		return nil, err
	}
	earKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}

	dbURL := o.DB
	if dbURL == "" {
		dir, err := os.MkdirTemp("", "ccakit-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		dbURL = filepath.Join(dir, "bench.db")
	}
	st, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rep.DB = st.Kind
	prov := &service.CoRIMProvisioner{Store: st}
	for _, c := range []struct {
		profile string
		body    []byte
	}{{service.CCAPlatformProfile, corims.Anchors}, {service.CCAPlatformProfile, corims.Platform}, {service.CCARealmProfile, corims.Realm}} {
		if err := prov.Provision(ctx, `application/rim+cbor; profile="`+c.profile+`"`, c.profile, c.body); err != nil {
			return nil, err
		}
	}
	storeV, cache, err := service.NewStoreVerifier(st)
	if err != nil {
		return nil, err
	}
	svc, err := service.New(service.Config{Store: st, Appraiser: storeV, Sync: cache.Sync, EARKey: earKey})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- svc.Serve(sctx, 10*time.Second, service.Listener{Listener: ln, Handler: svc.PublicHandler()})
	}()
	defer func() { stop(); <-served }()
	base := "http://" + ln.Addr().String()

	libTokens, libNonces := tokens[:o.Sessions], nonces[:o.Sessions]
	say("library with the platform cache off (two P-384 verifications per token)...")
	if rep.LibraryUncached, err = runLibrary(ctx, uncached, nil, libTokens, libNonces, o); err != nil {
		return nil, err
	}
	var libs, libEARs, svcs []Figures
	for r := range o.Rounds {
		say("round %d/%d: library...", r+1, o.Rounds)
		f, err := runLibrary(ctx, lib, nil, libTokens, libNonces, o)
		if err != nil {
			return nil, err
		}
		libs = append(libs, f)
		fe, err := runLibrary(ctx, lib, earKey, libTokens, libNonces, o)
		if err != nil {
			return nil, err
		}
		libEARs = append(libEARs, fe)
		say("round %d/%d: service (%d clients over loopback, %s)...", r+1, o.Rounds, o.Clients, st.Kind)
		lo, hi := r*o.Sessions, (r+1)*o.Sessions
		fs, err := runService(ctx, base, tokens[lo:hi], nonces[lo:hi], o)
		if err != nil {
			return nil, err
		}
		svcs = append(svcs, fs)
		rep.Rounds = append(rep.Rounds, RoundFigures{f.PerSec, fe.PerSec, fs.PerSec})
	}
	rep.Library, rep.LibraryEAR, rep.Service = median(libs), median(libEARs), median(svcs)
	return rep, nil
}

// runLibrary verifies the tokens with as many workers as clients (the
// library's throughput is bounded by the cores either way), signing each
// EAR when earKey is set.
func runLibrary(ctx context.Context, v *verifier.Verifier, earKey *ecdsa.PrivateKey, tokens, nonces [][]byte, o Options) (Figures, error) {
	return measure(len(tokens), o, func(i int) error {
		res, err := v.Verify(ctx, tokens[i], nonces[i])
		if err != nil {
			return err
		}
		if !res.Trustworthy {
			return fmt.Errorf("library: token %d not trustworthy: %s", i, res.Reason())
		}
		if earKey != nil {
			_, err = res.EARJWT(earKey)
		}
		return err
	})
}

// runService runs one session per token: newSession with the token's nonce,
// then the evidence; the session must come back complete.
func runService(ctx context.Context, base string, tokens, nonces [][]byte, o Options) (Figures, error) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: o.Clients, MaxIdleConnsPerHost: o.Clients, IdleConnTimeout: 30 * time.Second}}
	defer client.CloseIdleConnections()
	return measure(len(tokens), o, func(i int) error {
		q := "?nonce=" + base64.RawURLEncoding.EncodeToString(nonces[i])
		status, hdr, _, err := post(ctx, client, base+service.PathNewSession+q, "", nil)
		if err != nil {
			return err
		}
		if status != http.StatusCreated {
			return fmt.Errorf("newSession: %d", status)
		}
		loc := hdr.Get("Location")
		status, _, body, err := post(ctx, client, base+"/challenge-response/v1/"+loc, service.CCAEvidenceMediaType, tokens[i])
		if err != nil {
			return err
		}
		var s struct{ Status string }
		if status != http.StatusOK || json.Unmarshal(body, &s) != nil || s.Status != "complete" {
			return fmt.Errorf("evidence: %d %s", status, body)
		}
		return nil
	})
}

func post(ctx context.Context, c *http.Client, url, ct string, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b, err
}

// measure runs work(i) for i in [0, n) on o.Clients goroutines until done
// or o.MaxTime, and returns the throughput and latency percentiles.
func measure(n int, o Options, work func(int) error) (Figures, error) {
	var next atomic.Int64
	lat := make([]time.Duration, n)
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	start, cpu0 := time.Now(), cpuNow()
	deadline := start.Add(o.MaxTime)
	var wg sync.WaitGroup
	for range o.Clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || time.Now().After(deadline) {
					return
				}
				t0 := time.Now()
				if err := work(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				lat[i] = time.Since(t0)
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuNow()-cpu0
	if firstErr != nil {
		return Figures{}, firstErr
	}
	d := int(done.Load())
	got := make([]time.Duration, 0, d)
	for _, l := range lat {
		if l > 0 {
			got = append(got, l)
		}
	}
	if len(got) == 0 {
		return Figures{}, errors.New("no session finished within the time bound")
	}
	slices.Sort(got)
	pct := func(p float64) time.Duration { return got[min(len(got)-1, int(p*float64(len(got))))] }
	return Figures{Sessions: d, Elapsed: elapsed, PerSec: float64(d) / elapsed.Seconds(), P50: pct(0.50), P99: pct(0.99),
		CPU: cpu / time.Duration(d)}, nil
}

func median(fs []Figures) Figures {
	s := slices.Clone(fs)
	slices.SortFunc(s, func(a, b Figures) int {
		switch {
		case a.PerSec < b.PerSec:
			return -1
		case a.PerSec > b.PerSec:
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}

// Text renders the report.
func (r *Report) Text() string {
	var b bytes.Buffer
	row := func(name string, f Figures) {
		fmt.Fprintf(&b, "  %-44s %6.0f sessions/s  CPU %7s/session  p50 %8s  p99 %8s  (%d in %s)\n", name, f.PerSec,
			f.CPU.Round(time.Microsecond), f.P50.Round(10*time.Microsecond), f.P99.Round(10*time.Microsecond), f.Sessions, f.Elapsed.Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "verification sessions, %d concurrent clients, GOMAXPROCS %d, median of %d rounds of %d\n",
		r.Options.Clients, r.GOMAXPROCS, r.Options.Rounds, r.Options.Sessions)
	row("library Verify, cache off (2 P-384 verifies)", r.LibraryUncached)
	row("library Verify, platform cache (the ceiling)", r.Library)
	row("library Verify + EAR JWT (ES256)", r.LibraryEAR)
	row("service over loopback HTTP, "+r.DB, r.Service)
	for i, rf := range r.Rounds {
		fmt.Fprintf(&b, "  round %d: library %.0f/s, library+EAR %.0f/s, service %.0f/s\n", i+1, rf.Library, rf.LibraryEAR, rf.Service)
	}
	fmt.Fprintf(&b, "service overhead vs the library ceiling: %.1f%% of the throughput (goal: under 15%%), %+.0f%% CPU per session; vs library+EAR: %.1f%%, %+.0f%% CPU\n",
		100*r.Overhead(r.Library), 100*cpuRatio(r.Service, r.Library), 100*r.Overhead(r.LibraryEAR), 100*cpuRatio(r.Service, r.LibraryEAR))
	return b.String()
}

// cpuRatio is how much more CPU per session a takes than b.
func cpuRatio(a, b Figures) float64 {
	if b.CPU == 0 {
		return 0
	}
	return float64(a.CPU)/float64(b.CPU) - 1
}
