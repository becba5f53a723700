package sharing

import (
	"bytes"
	"fmt"
	"math"
)

// The cost model of the benchmark (docs/sharing.md §11): one table of
// every primitive either data path executes, each with a low, middle and
// high value and its source. A run's modelled cycles are the sum over
// primitives of (events counted) × (cycles per event); nothing is assumed
// per message. Events are counted where they are executed: the monitor
// counts realm exits to the host (monitor.Counters), the RMM counts what
// the sharing extension executes (rmm.ShareCounters), and the realms'
// software counts its own copies and AES-GCM operations (Run).

// Primitive is one row of the cost table.
type Primitive int

const (
	HostExit    Primitive = iota // realm exit to the host and back, through EL3
	HostWork                     // the host's own handling of an exit
	RSITrap                      // RSI call handled inside the RMM (R-EL2), no host
	WorldSwitch                  // a switch through EL3 not part of an exit
	S2Walk                       // a software stage-2 walk by the RMM
	RTTEntry                     // the RMM writing one RTT entry
	TLBI                         // TLB invalidation of a range and its DSB
	Lock                         // acquire and release of an uncontended lock
	Step                         // one access-code instruction
	CopyCache                    // memcpy per byte, source in the copying core's cache
	CopyMem                      // memcpy per byte, source written by another core
	ReadMem                      // read per byte of data another core wrote
	GCMByte                      // AES-128-GCM per byte (seal or open)
	GCMMsg                       // AES-128-GCM per message (IV, tag, finalisation)
	NumPrimitives
)

// Constant is a row of the table: cycles per event (or per byte).
type Constant struct {
	Name           string
	Unit           string
	Low, Mid, High float64
	Source         string
	Counted        string // where the emulator counts the events
}

// CostTable is the cost table. Ranges are the defensible span of each
// constant on an Armv9 / Neoverse-class server core; the sources say
// where each end comes from, and "estimate" where no published figure
// exists.
var CostTable = [NumPrimitives]Constant{
	HostExit: {"realm exit to host", "cycles", 932, 1865, 3730,
		"You & Paek (the paper): 1,865 cycles measured on Arm FVP; FVP is not cycle-accurate, so ×0.5..×2",
		"monitor: RMI_REC_ENTER returns (monitor.Counters.RealmExits)"},
	HostWork: {"host work per exit", "cycles", 100, 300, 1000,
		"estimate: KVM's exit dispatch and wake-up of the peer thread, beyond the switch itself",
		"monitor: as realm exits"},
	RSITrap: {"RSI call inside the RMM", "cycles", 200, 362, 1865,
		"mid: the paper's 362 cycles for a guest exit handled at EL2 (KVM); high: the paper's 1,865 (an RMM that leaves through EL3 as the paper's does); low: exception entry, register save and ERET",
		"RMM: sharing RSI calls (rmm.ShareCounters.RSICalls)"},
	WorldSwitch: {"world switch via EL3 (outside an exit)", "cycles", 0, 0, 0,
		"included in the realm-exit figure; no other switch happens in the measured interval",
		"monitor: world switches"},
	S2Walk: {"stage-2 walk by the RMM", "cycles", 16, 44, 400,
		"4 dependent loads: L1 hit 4 cycles, L2 11 cycles (Arm Neoverse N1 Software Optimization Guide), ~100 cycles each from DRAM",
		"RMM: argument pages (ArgWalks) and lease changes (LeaseWalks)"},
	RTTEntry: {"RTT entry write", "cycles", 1, 2, 10,
		"a store to a line the walk brought in; estimate",
		"RMM: LeaseEntries"},
	TLBI: {"TLB invalidation (range) + DSB", "cycles", 200, 1000, 5000,
		"estimate: broadcast TLBI RIPAS2E1IS (FEAT_TLBIRANGE) and DSB ISH; no published Neoverse figure, hence the wide range",
		"RMM: TLBIs (a lease taken away or reduced)"},
	Lock: {"lock acquire + release", "cycles", 20, 40, 100,
		"estimate: an LSE CAS and a store-release on an L1/L2 line",
		"RMM: RegionLocks"},
	Step: {"access-code instruction", "cycles", 0.5, 1, 4,
		"the RMM runs verified code natively (the interpreter is not the model): IPC 2..0.25",
		"RMM: Steps"},
	CopyCache: {"memcpy from cache", "cycles/B", 0.031, 0.0625, 0.125,
		"16 B/cycle (N1: two 16-byte loads, one 16-byte store per cycle, Software Optimization Guide); 32 B/cycle on V1/V2; 8 B/cycle from L2 (chipsandcheese, Deep Diving Neoverse N1, 2021: ~19 B/cycle L2 reads)",
		"RMM: CopyIn; realms: copies of their own fresh data"},
	CopyMem: {"memcpy from memory", "cycles/B", 0.1, 0.2, 0.4,
		"reads from another core's cache or DRAM: ~10 B/cycle (SLC) to ~2.5 B/cycle (DRAM, one core, chipsandcheese N1 2021), plus the store stream",
		"RMM: CopyOut, CopyWithin; realms: copies of data another realm wrote"},
	ReadMem: {"read from memory", "cycles/B", 0.05, 0.1, 0.2,
		"half the traffic of CopyMem (no store stream), same sources",
		"realms: in-place reads of data another realm wrote"},
	GCMByte: {"AES-128-GCM per byte", "cycles/B", 0.3, 0.6, 1.0,
		"low: Neoverse V1 with the unrolled EOR3 code (Arm community blog, AES-GCM optimizations for Armv8.4 on Neoverse V1, 2022); high: Armv8 Crypto Extensions '<1 cycle per byte' (Linux arm64 crypto, A. Biesheuvel)",
		"realms: bytes sealed and opened"},
	GCMMsg: {"AES-128-GCM per message", "cycles", 100, 250, 600,
		"estimate: counter setup, length block, tag; high end measured with Go crypto/aes on the development machine",
		"realms: seal and open operations"},
}

// Point is a value for each constant.
type Point [NumPrimitives]float64

// MidPoint is every constant at its middle value.
func MidPoint() Point {
	var p Point
	for i, c := range CostTable {
		p[i] = c.Mid
	}
	return p
}

// With returns p with constant i set to v.
func (p Point) With(i Primitive, v float64) Point {
	p[i] = v
	return p
}

// PaperSetting is the middle point with every sharing RSI call charged as
// a full realm exit, as in the paper's implementation.
func PaperSetting() Point { return MidPoint().With(RSITrap, CostTable[HostExit].Mid) }

// Counts are a run's events by primitive (bytes for per-byte rows).
type Counts [NumPrimitives]float64

// Cycles is the modelled cost of the counted events at p.
func (c Counts) Cycles(p Point) float64 {
	var sum float64
	for i := range c {
		sum += c[i] * p[i]
	}
	return sum
}

// DefaultGHz converts modelled cycles to time for throughput figures: a
// Neoverse N1 server core (Graviton2) runs at 2.5 GHz.
const DefaultGHz = 2.5

// Band is a ratio at the middle point and its range when each constant in
// turn takes its low and its high value (the others at the middle).
type Band struct {
	Mid, Low, High float64
	// LowBy names the constant whose range end gives Low.
	LowBy string
}

// band evaluates f at the middle point and at each constant's range ends.
func band(f func(Point) float64) Band {
	mid := MidPoint()
	b := Band{Mid: f(mid), Low: math.Inf(1), High: math.Inf(-1)}
	for i := range CostTable {
		for _, v := range []float64{CostTable[i].Low, CostTable[i].High} {
			r := f(mid.With(Primitive(i), v))
			if r < b.Low {
				b.Low, b.LowBy = r, CostTable[i].Name
			}
			b.High = max(b.High, r)
		}
	}
	b.Low, b.High = min(b.Low, b.Mid), max(b.High, b.Mid)
	return b
}

// DescribeTable renders the cost table in markdown.
func DescribeTable() string {
	var b bytes.Buffer
	b.WriteString("| primitive | unit | low | mid | high | counted by | source |\n|---|---|---:|---:|---:|---|---|\n")
	for _, c := range CostTable {
		fmt.Fprintf(&b, "| %s | %s | %g | %g | %g | %s | %s |\n", c.Name, c.Unit, c.Low, c.Mid, c.High, c.Counted, c.Source)
	}
	return b.String()
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
