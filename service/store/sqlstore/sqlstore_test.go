package sqlstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ccakit/cca/service/store"
)

// PostgresEnv names the environment variable that holds the DSN of a real
// PostgreSQL server for the tests (.ci/run sets it after starting one);
// without it the PostgreSQL tests skip and the SQLite ones still run.
const PostgresEnv = "CCAKIT_TEST_POSTGRES"

// backends opens one store per available database, and for PostgreSQL a
// second, independent one on the same database: two replicas.
func backends(t *testing.T) map[string][2]*Store {
	t.Helper()
	ctx := context.Background()
	out := map[string][2]*Store{}
	path := filepath.Join(t.TempDir(), "state", "ccakit.db")
	a, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	out["sqlite"] = [2]*Store{a, b}
	if dsn := os.Getenv(PostgresEnv); dsn != "" {
		a, err := Open(ctx, dsn)
		if err != nil {
			t.Fatalf("%s: %v", PostgresEnv, err)
		}
		b, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close(); b.Close() })
		out["postgres"] = [2]*Store{a, b}
	} else {
		t.Logf("%s not set: PostgreSQL tests skipped", PostgresEnv)
	}
	return out
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// longTTL outlives the purges other packages' tests make on a shared
// PostgreSQL database (go test runs packages at once; the service's expiry
// test purges what expires within its session TTL).
const longTTL = time.Hour

func newSession(t testing.TB, ttl time.Duration) *store.Session {
	return &store.Session{
		ID:      fmt.Sprintf("%x", randomBytes(t, 16)),
		Nonce:   randomBytes(t, 48),
		State:   store.Waiting,
		Accept:  []string{`application/eat-collection; profile="http://arm.com/CCA-SSD/1.0.0"`},
		Expires: time.Now().Add(ttl).Truncate(time.Millisecond).UTC(),
	}
}

// created is a new session stored in st.
func created(t *testing.T, st *Store, ttl time.Duration) *store.Session {
	t.Helper()
	sess := newSession(t, ttl)
	if err := st.CreateSession(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	return sess
}

func TestSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s, other := st[0], st[1]
			sess := created(t, s, longTTL)
			if err := s.CreateSession(ctx, sess); !errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("second create: %v, want ErrDuplicate", err)
			}
			got, err := other.Session(ctx, sess.ID, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got.State != store.Waiting || string(got.Nonce) != string(sess.Nonce) || !got.Expires.Equal(sess.Expires) || len(got.Accept) != 1 || got.Accept[0] != sess.Accept[0] {
				t.Fatalf("read back %+v, stored %+v", got, sess)
			}
			done := *sess
			done.State, done.EvidenceType, done.Evidence, done.Result = store.Complete, "t", []byte{1, 2}, "jwt"
			if err := other.CompleteSession(ctx, &done, time.Now(), true); err != nil {
				t.Fatal(err)
			}
			if used, err := s.NonceUsed(ctx, sess.Nonce); err != nil || !used {
				t.Fatalf("NonceUsed after completion = %v, %v", used, err)
			}
			again := done
			again.Result = "another jwt"
			if err := s.CompleteSession(ctx, &again, time.Now(), true); !errors.Is(err, store.ErrSessionUsed) {
				t.Fatalf("second completion: %v, want ErrSessionUsed", err)
			}
			got, err = other.Session(ctx, sess.ID, time.Now())
			if err != nil || got.State != store.Complete || got.Result != "jwt" || string(got.Evidence) != "\x01\x02" || got.EvidenceType != "t" {
				t.Fatalf("finished session: %+v, %v", got, err)
			}
			if err := other.DeleteSession(ctx, sess.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			for _, err := range []error{
				s.DeleteSession(ctx, sess.ID, time.Now()),
				func() error { _, err := s.Session(ctx, sess.ID, time.Now()); return err }(),
				s.CompleteSession(ctx, &done, time.Now(), true),
			} {
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("after delete: %v, want ErrNotFound", err)
				}
			}
		})
	}
}

func TestExpiryAndPurge(t *testing.T) {
	ctx := context.Background()
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := st[0]
			sess := newSession(t, time.Second)
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatal(err)
			}
			later := sess.Expires.Add(time.Millisecond)
			if _, err := s.Session(ctx, sess.ID, later); !errors.Is(err, store.ErrExpired) {
				t.Fatalf("read after expiry: %v", err)
			}
			done := *sess
			done.State = store.Complete
			if err := s.CompleteSession(ctx, &done, later, true); !errors.Is(err, store.ErrExpired) {
				t.Fatalf("completion after expiry: %v", err)
			}
			if n, err := s.Purge(ctx, later, later); err != nil || n < 1 {
				t.Fatalf("Purge = %d, %v", n, err)
			}
			if _, err := s.Session(ctx, sess.ID, time.Now()); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("read after purge: %v", err)
			}
		})
	}
}

// TestDeleteExpired: deleting an expired session removes it and reports
// ErrNotFound, as reading it does; a live one is deleted without error.
func TestDeleteExpired(t *testing.T) {
	ctx := context.Background()
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := st[0]
			sess := created(t, s, time.Second)
			later := sess.Expires.Add(time.Millisecond)
			if err := s.DeleteSession(ctx, sess.ID, later); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("delete after expiry: %v, want ErrNotFound", err)
			}
			if _, err := s.Session(ctx, sess.ID, sess.Expires.Add(-time.Second)); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("an expired session survived its deletion: %v", err)
			}
			live := created(t, s, longTTL)
			if err := s.DeleteSession(ctx, live.ID, time.Now()); err != nil {
				t.Fatalf("delete: %v", err)
			}
		})
	}
}

// TestClaimRace is the guarantee the service's replay protection rests on:
// of many claims racing through two independent connections pools (two
// replicas), on one session or on two sessions sharing a nonce, exactly one
// wins.
func TestClaimRace(t *testing.T) {
	ctx := context.Background()
	const rounds, racers = 20, 8
	claims := []struct {
		name  string
		claim func(*Store, *store.Session) error
	}{
		{"CompleteSession", func(s *Store, sess *store.Session) error {
			done := *sess
			done.State, done.EvidenceType, done.Evidence, done.Result = store.Complete, "t", []byte{1}, "jwt of "+sess.ID
			return s.CompleteSession(ctx, &done, time.Now(), true)
		}},
	}
	for name, st := range backends(t) {
		for _, c := range claims {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				for round := range rounds {
					shared := round%2 == 1 // odd rounds: one nonce, several sessions
					first := newSession(t, longTTL)
					sessions := make([]*store.Session, racers)
					for i := range sessions {
						sessions[i] = first
						if shared {
							s := newSession(t, longTTL)
							s.Nonce = first.Nonce
							sessions[i] = s
						}
						if i == 0 || shared {
							if err := st[i%2].CreateSession(ctx, sessions[i]); err != nil {
								t.Fatal(err)
							}
						}
					}
					var wg sync.WaitGroup
					errs := make([]error, racers)
					start := make(chan struct{})
					for i := range racers {
						wg.Go(func() {
							<-start
							errs[i] = c.claim(st[i%2], sessions[i])
						})
					}
					close(start)
					wg.Wait()
					wins := 0
					for _, err := range errs {
						switch {
						case err == nil:
							wins++
						case errors.Is(err, store.ErrSessionUsed), errors.Is(err, store.ErrNonceUsed):
						default:
							t.Fatalf("round %d: unexpected error %v", round, err)
						}
					}
					if wins != 1 {
						t.Fatalf("round %d (shared nonce %v): %d claims won, want exactly 1", round, shared, wins)
					}
					if c.name != "CompleteSession" {
						continue
					}
					// The winner's outcome is stored, the losers' nothing.
					complete := 0
					for i, err := range errs {
						got, rerr := st[0].Session(ctx, sessions[i].ID, time.Now())
						if rerr != nil {
							t.Fatal(rerr)
						}
						if err == nil && (got.State != store.Complete || got.Result != "jwt of "+sessions[i].ID) {
							t.Fatalf("round %d: winner's session %+v", round, got)
						}
						if got.State == store.Complete {
							complete++
						} else if shared && got.State != store.Failed {
							t.Fatalf("round %d: a loser's session is %s, want failed", round, got.State)
						}
					}
					if shared && complete != 1 {
						t.Fatalf("round %d: %d sessions of one nonce complete", round, complete)
					}
				}
			})
		}
	}
}

// TestCompleteSession: the one-transaction claim writes the outcome and
// consumes the nonce, and says why it cannot.
func TestCompleteSession(t *testing.T) {
	ctx := context.Background()
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s, other := st[0], st[1]
			sess := created(t, s, longTTL)
			done := *sess
			done.State, done.EvidenceType, done.Evidence, done.Result = store.Complete, "t", []byte{1, 2}, "jwt"
			done.Nonce = []byte("not the session's nonce") // the stored one is consumed
			done.Expires = sess.Expires.Add(time.Minute)
			if err := other.CompleteSession(ctx, &done, time.Now(), true); err != nil {
				t.Fatal(err)
			}
			got, err := s.Session(ctx, sess.ID, time.Now())
			if err != nil || got.State != store.Complete || got.Result != "jwt" || string(got.Evidence) != "\x01\x02" ||
				got.EvidenceType != "t" || !got.Expires.Equal(done.Expires) {
				t.Fatalf("completed session: %+v, %v", got, err)
			}
			if used, err := s.NonceUsed(ctx, sess.Nonce); err != nil || !used {
				t.Fatalf("NonceUsed after completion = %v, %v", used, err)
			}
			if err := s.CompleteSession(ctx, &done, time.Now(), true); !errors.Is(err, store.ErrSessionUsed) {
				t.Fatalf("second completion: %v, want ErrSessionUsed", err)
			}
			late := created(t, s, time.Second)
			if err := s.CompleteSession(ctx, late, late.Expires, true); !errors.Is(err, store.ErrExpired) {
				t.Fatalf("completion at expiry: %v, want ErrExpired", err)
			}
			gone := newSession(t, longTTL)
			if err := s.CompleteSession(ctx, gone, time.Now(), true); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("completing an unknown session: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	for _, u := range []string{"", "sqlite:", "file:/tmp/x.db?_pragma=foo", "postgres://%zz"} {
		if _, err := Open(context.Background(), u); !errors.Is(err, ErrURL) {
			t.Errorf("Open(%q) = %v, want ErrURL", u, err)
		}
	}
}

// TestCompleteSessionWithoutNonce: evidence that did not answer its
// session's nonce completes the session without using the nonce up: of
// racers for one session exactly one wins all the same (through two
// replicas), the nonce stays usable, and a twin session holding it can
// then complete with it.
func TestCompleteSessionWithoutNonce(t *testing.T) {
	ctx := context.Background()
	const racers = 8
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			sess := created(t, st[0], longTTL)
			twin := newSession(t, longTTL)
			twin.Nonce = sess.Nonce
			if err := st[1].CreateSession(ctx, twin); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, racers)
			start := make(chan struct{})
			for i := range racers {
				wg.Go(func() {
					<-start
					done := *sess
					done.State, done.Result = store.Complete, fmt.Sprint("jwt ", i)
					errs[i] = st[i%2].CompleteSession(ctx, &done, time.Now(), false)
				})
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner < 0:
					winner = i
				case err == nil:
					t.Fatalf("racers %d and %d both completed the session", winner, i)
				case !errors.Is(err, store.ErrSessionUsed):
					t.Fatalf("racer %d: %v, want ErrSessionUsed", i, err)
				}
			}
			got, err := st[1].Session(ctx, sess.ID, time.Now())
			if winner < 0 || err != nil || got.State != store.Complete || got.Result != fmt.Sprint("jwt ", winner) {
				t.Fatalf("winner %d, session %+v, %v", winner, got, err)
			}
			if used, err := st[0].NonceUsed(ctx, sess.Nonce); err != nil || used {
				t.Fatalf("NonceUsed after a completion without it = %v, %v", used, err)
			}
			done := *twin
			done.State, done.Result = store.Complete, "jwt of the twin"
			if err := st[0].CompleteSession(ctx, &done, time.Now(), true); err != nil {
				t.Fatalf("the twin, with the nonce: %v", err)
			}
			if used, err := st[1].NonceUsed(ctx, sess.Nonce); err != nil || !used {
				t.Fatalf("NonceUsed after the twin = %v, %v", used, err)
			}
		})
	}
}
