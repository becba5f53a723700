package sharing

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/ccakit/cca/emulator/rmm"
)

// TestBenchModes runs every mode briefly at a few sizes, checking every
// byte of every message, and reconciles the events the cost model is fed
// (the monitor's, the RMM's and the realms' counters) with what the
// protocol of each workload implies, computed here from the protocol alone:
// N messages of n bytes in W windows of k.
func TestBenchModes(t *testing.T) {
	for _, size := range []int{64, 5000, 1 << 16} {
		for _, mode := range Modes {
			const msgs = 6
			ring := 4 * (size + 64)
			r, err := RunMode(mode, size, Options{Messages: msgs, RingBytes: ring, Verify: true})
			if err != nil {
				t.Fatalf("%s %d: %v", mode, size, err)
			}
			N, n := uint64(msgs), uint64(size)
			k := uint64(min(msgs, max(1, ring/(size+64))))
			W := (N + k - 1) / k
			slot := n
			if mode == Baseline || mode == SealedInPlace {
				slot += ChannelOverhead
			}
			g := uint64(Ring{Slots: int(k), SlotSize: int(slot)}.Granules())
			pages := (n + rmm.GranuleSize - 1) / rmm.GranuleSize
			want := Run{Counters: r.Counters}  // fields not listed below must be 0
			want.Counters.RealmExits = 2*W + 1 // window hand-overs, and the receiver's "done"
			switch mode {
			case Mediated:
				want.Share = rmm.ShareCounters{RSICalls: 2 * N, Invocations: 2 * N, CopyIn: N * n, CopyOut: N * n,
					ArgWalks: 2 * N * pages, RegionLocks: 2 * N}
			case MediatedBatch:
				B := min(k, max(1, uint64(BatchBytes)/(8+n)))
				if B == 1 { // one message per call: the mediated path
					want.Share = rmm.ShareCounters{RSICalls: 2 * N, Invocations: 2 * N, CopyIn: N * n, CopyOut: N * n,
						ArgWalks: 2 * N * pages, RegionLocks: 2 * N}
					break
				}
				var calls, walks uint64
				for left := N; left > 0; {
					inWindow := min(k, left)
					for c := inWindow; c > 0; {
						m := min(B, c)
						calls += 2
						walks += 2 * ((m*(8+n) + rmm.GranuleSize - 1) / rmm.GranuleSize)
						c -= m
					}
					left -= inWindow
				}
				want.Share = rmm.ShareCounters{RSICalls: calls, Invocations: calls, CopyIn: N * n, CopyOut: N * n,
					ArgWalks: walks, RegionLocks: calls}
			case Amortised:
				want.Share = rmm.ShareCounters{RSICalls: 4 * W, RegionLocks: 4 * W, LeaseWalks: 4 * W * ((g + 511) / 512),
					LeaseEntries: 4 * W * g, TLBIs: 2 * W}
				want.ReadMem = N * (8 + n)
			case Baseline:
				want.Counters.RealmExits += 2 * N // notify and fetch
				want.Sealed, want.Opened, want.SealOps, want.OpenOps = N*n, N*n, N, N
				want.CopyCache, want.CopyMem = N*(8+slot), N*(8+slot)
			case SealedInPlace:
				want.Sealed, want.Opened, want.SealOps, want.OpenOps = N*n, N*n, N, N
				want.ReadMem = N * (8 + slot)
			case Direct:
				want.CopyCache, want.ReadMem = N*(8+n), N*(8+n)
			}
			got := r
			got.Share.Steps, got.Share.LoadStore = 0, 0 // depend on the code, checked below
			want.Mode, want.Size, want.Messages, want.Window, want.Elapsed = r.Mode, r.Size, r.Messages, r.Window, r.Elapsed
			if got != want {
				t.Errorf("%s %d: counted\n%+v\nthe protocol implies\n%+v", mode, size, got, want)
			}
			if (mode == Mediated || mode == MediatedBatch) && (r.Share.Steps == 0 || r.Share.Steps > 2*N*64) {
				t.Errorf("%s %d: %d access-code steps for %d messages", mode, size, r.Share.Steps, N)
			}
			// The model's total is the table applied to those counts.
			c, p := r.Counts(), MidPoint()
			var sum float64
			for i := range c {
				sum += c[i] * CostTable[i].Mid
			}
			if math.Abs(r.Cycles(p)-sum) > 1e-6*sum {
				t.Errorf("%s %d: modelled %v, table × counts %v", mode, size, r.Cycles(p), sum)
			}
		}
	}
}

// TestReport renders a small report: the markdown has the cost table,
// the per-size bands, the geometric means and the goals; the CSV has a
// line per run; both charts are well-formed XML and the speedup chart
// draws the bands.
func TestReport(t *testing.T) {
	rep, err := RunAll(Modes, []int{256, 1 << 16}, Options{Messages: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	md := rep.Markdown()
	for _, want := range []string{"mediated", "amortised", "sealed-in-place", "direct", "## Cost model", "| **geomean** |",
		"## Goals", "paper's setting", "## Emulator wall clock", "You & Paek"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if n := strings.Count(rep.CSV(), "\n"); n != 1+len(rep.Runs) {
		t.Errorf("CSV has %d lines for %d runs", n, len(rep.Runs))
	}
	speed := rep.SpeedupSVG()
	if strings.Count(speed, "<polygon") != 3 {
		t.Errorf("speedup chart: %d bands, want 3", strings.Count(speed, "<polygon"))
	}
	for _, svg := range []string{rep.ThroughputSVG(), speed} {
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("SVG: %v", err)
			}
		}
	}
	for _, c := range []Comparison{MediatedVsBaseline, AmortisedVsSealed} {
		b, ok := rep.Geomean(c, 0, math.MaxInt)
		if !ok || !(b.Low <= b.Mid && b.Mid <= b.High) || b.Low == b.High {
			t.Errorf("%s: band %+v", c.Name, b)
		}
	}
}

// BenchmarkSharing measures messaging per mode and size; one op is one
// message. Besides the emulator's wall clock it reports the modelled
// cycles (middle constants) and host exits per message. The full sweep
// with the bands is `ccatoken bench sharing`.
func BenchmarkSharing(b *testing.B) {
	for _, size := range []int{64, 4 << 10, 64 << 10, 1 << 20} {
		for _, mode := range Modes {
			b.Run(fmt.Sprintf("%s/%s", mode, strings.ReplaceAll(sizeName(size), " ", "")), func(b *testing.B) {
				r, err := RunMode(mode, size, Options{Messages: max(b.N, 1)})
				if err != nil {
					b.Fatal(err)
				}
				n := float64(r.Messages)
				b.ReportMetric(float64(r.Elapsed.Nanoseconds())/n, "ns/op")
				b.ReportMetric(r.CyclesPerMessage(MidPoint()), "model-cycles/msg")
				b.ReportMetric(float64(r.Counters.RealmExits)/n, "exits/msg")
			})
		}
	}
}
