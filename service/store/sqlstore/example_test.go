package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ccakit/cca/service/store"
	"github.com/ccakit/cca/service/store/sqlstore"
)

// A session's life in the store: made, claimed once (a second claim loses),
// finished.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "ccakit-store-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(dir, "ccakit.db")) // or postgres://…
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	now := time.Now()
	s := &store.Session{ID: "6f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5", Nonce: make([]byte, 48), State: store.Waiting, Expires: now.Add(time.Minute)}
	if err := st.CreateSession(ctx, s); err != nil {
		fmt.Println(err)
		return
	}
	// The appraisal's outcome; the session's nonce is used once.
	done := *s
	done.State, done.Result = store.Complete, "the EAR"
	fmt.Println(st.CompleteSession(ctx, &done, now, true))
	fmt.Println(st.CompleteSession(ctx, &done, now, true))
	// Output:
	// <nil>
	// session already used: session 6f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5 is complete
}
