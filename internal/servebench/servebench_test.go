package servebench

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"
)

var (
	sessions = flag.Int("servebench.sessions", 40, "sessions per round (profiling: raise it)")
	clients  = flag.Int("servebench.clients", 8, "concurrent clients (the command's default is 64)")
)

// TestRun runs a small benchmark end to end: every session completes, and
// the report has every figure.
func TestRun(t *testing.T) {
	rep, err := Run(context.Background(), Options{Sessions: *sessions, Clients: *clients, Rounds: 1, MaxTime: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]Figures{"library": rep.Library, "library+EAR": rep.LibraryEAR, "uncached": rep.LibraryUncached, "service": rep.Service} {
		if f.Sessions != *sessions || f.PerSec <= 0 || f.P99 < f.P50 {
			t.Errorf("%s: %+v", name, f)
		}
	}
	if txt := rep.Text(); !strings.Contains(txt, "service overhead") {
		t.Errorf("report:\n%s", txt)
	}
	t.Log("\n" + rep.Text())
}
