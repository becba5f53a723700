package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ccakit/cca/service/store"
)

// TestBatchedWrites: sessions created and completed at once by many
// callers (SQLite batches them into shared transactions) each get their
// own outcome, and every completed one is stored.
func TestBatchedWrites(t *testing.T) {
	ctx := context.Background()
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			const n = 96
			sessions := make([]*store.Session, n)
			for i := range sessions {
				sessions[i] = newSession(t, longTTL)
			}
			// Every third session reuses its predecessor's id: a
			// duplicate, which must not disturb the batch it is in.
			for i := 2; i < n; i += 3 {
				sessions[i].ID = sessions[i-1].ID
			}
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i, s := range sessions {
				wg.Go(func() { errs[i] = st[i%2].CreateSession(ctx, s) })
			}
			wg.Wait()
			for i := 2; i < n; i += 3 {
				a, b := errs[i-1], errs[i]
				if (a == nil) == (b == nil) || !errors.Is(errors.Join(a, b), store.ErrDuplicate) {
					t.Fatalf("one id twice: %v, %v; want one success and ErrDuplicate", a, b)
				}
				if b == nil { // the second won: keep its nonce
					sessions[i-1], sessions[i] = sessions[i], nil
				} else {
					sessions[i] = nil
				}
			}
			for i, err := range errs {
				if i%3 != 2 && i%3 != 1 && err != nil {
					t.Fatalf("create %d: %v", i, err)
				}
			}
			for i, s := range sessions {
				if s == nil {
					continue
				}
				wg.Go(func() {
					done := *s
					done.State, done.Result = store.Complete, "jwt "+s.ID
					errs[i] = st[i%2].CompleteSession(ctx, &done, time.Now(), true)
				})
			}
			wg.Wait()
			for i, s := range sessions {
				if s == nil {
					continue
				}
				got, err := st[0].Session(ctx, s.ID, time.Now())
				if errs[i] != nil || err != nil || got.State != store.Complete || got.Result != "jwt "+s.ID {
					t.Fatalf("session %d: complete %v; read %+v, %v", i, errs[i], got, err)
				}
			}
		})
	}
}

// TestBatchFailure: a database failure in one write undoes the whole
// transaction, and every caller in it is told.
func TestBatchFailure(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := newSession(t, longTTL)
	boom := errors.New("boom")
	// Hold the batcher so that the two writes below queue together.
	hold, release := make(chan struct{}), make(chan struct{})
	go st.write(ctx, true, func(context.Context, *sql.Tx) (error, error) { close(hold); <-release; return nil, nil })
	<-hold
	errs := make(chan error, 2)
	go func() {
		errs <- st.write(ctx, true, func(ctx context.Context, tx *sql.Tx) (error, error) {
			_, err := tx.ExecContext(ctx, `INSERT INTO used_nonces (nonce, used_ms) VALUES (?, 0)`, s.Nonce)
			return nil, err
		})
	}()
	go func() {
		for len(st.batch.queue) == 0 {
			time.Sleep(time.Millisecond)
		}
		errs <- st.write(ctx, true, func(context.Context, *sql.Tx) (error, error) { return nil, boom })
	}()
	for len(st.batch.queue) < 2 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	for range 2 {
		if err := <-errs; !errors.Is(err, boom) {
			t.Errorf("a write of the failed batch returned %v, want its failure", err)
		}
	}
	if used, err := st.NonceUsed(ctx, s.Nonce); err != nil || used {
		t.Fatalf("the failed batch's nonce is recorded: %v, %v", used, err)
	}
	if err := st.CreateSession(ctx, s); err != nil {
		t.Fatalf("the store after a failed batch: %v", err)
	}
}

// TestWritesAtClose: writes that race Close, or come after it, return (an
// error once closed) instead of waiting for ever on a batcher that
// stopped: a caller could queue its write after the loop's last drain.
func TestWritesAtClose(t *testing.T) {
	ctx := context.Background()
	within := func(t *testing.T, what string, f func()) {
		t.Helper()
		done := make(chan struct{})
		go func() { f(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still waiting after 10 s", what)
		}
	}
	for round := range 20 {
		s, err := Open(ctx, filepath.Join(t.TempDir(), "ccakit.db"))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for s.CreateSession(ctx, newSession(t, longTTL)) == nil {
				}
			})
		}
		time.Sleep(time.Millisecond)
		s.Close()
		within(t, fmt.Sprintf("round %d: writers racing Close", round), wg.Wait)
		for range 8 {
			within(t, "a write after Close", func() {
				if err := s.CreateSession(ctx, newSession(t, longTTL)); !errors.Is(err, sql.ErrConnDone) {
					t.Errorf("write after Close: %v, want sql.ErrConnDone", err)
				}
			})
		}
	}
}
