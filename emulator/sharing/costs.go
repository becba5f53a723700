package sharing

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ccakit/cca/emulator/monitor"
)

// The cycle model of the benchmark (docs/sharing.md §11). Exits come from
// the monitor's cost model (the paper's 1,865 cycles per realm exit, 362
// per normal VM exit); the data path is charged per byte with costs either
// measured on the running machine (Calibrate) or the fixed defaults below.

// Curve is the cost in cycles of an operation on n bytes: a fixed part and
// a per-byte part, or, where measured, the measured value at n.
type Curve struct {
	Fixed, PerByte float64
	Measured       map[int]float64
}

// At is the cost of one operation on n bytes.
func (c Curve) At(n int) float64 {
	if v, ok := c.Measured[n]; ok {
		return v
	}
	return c.Fixed + c.PerByte*float64(n)
}

// PerByteAt is the cost per byte of an operation on n bytes, what bytes
// moved in n-byte messages are charged (n > 0).
func (c Curve) PerByteAt(n int) float64 { return c.At(n) / float64(n) }

// Costs is the cycle model.
type Costs struct {
	Exits monitor.CostModel
	// Copy is a memory copy (memmove) of n bytes; Seal and Open are
	// AES-128-GCM encryption and decryption of an n-byte message.
	Copy, Seal, Open Curve
	// StepCycles is charged per access-code instruction the RMM executes:
	// one cycle, as for code a real RMM would run natively after checking
	// it (the paper loads the code; the emulator's interpreter is not the
	// model).
	StepCycles float64
	// RTTEntryCycles is charged per stage-2 entry the RMM rewrites to grant
	// or revoke a lease. An estimate (a store and its share of the TLB
	// invalidation by VMID and IPA); no measurement backs it.
	RTTEntryCycles float64
	// GHz converts measured times to cycles.
	GHz float64
	// Source says where the data-path costs come from.
	Source string
}

// Fixed defaults, measured with Calibrate on the development machine (AMD
// EPYC, 2.25 GHz, a virtual machine; Go 1.26 crypto/aes with AES-NI and
// PCLMULQDQ; copy is Go's memmove) over 64 B–1 MiB, three runs, rounded:
// copy 0.08–0.11 cycles/B plus about 25 per call; seal and open 0.9–1.9
// cycles/B plus about 600 per message. For comparison: the best
// published AES-GCM figure on x86 is 0.64 cycles/byte (Drucker, Gueron and
// Krasnov, "Making AES great again", 2018), and Arm's crypto extensions
// give "<1 cycle per byte" for AES (Linux arm64 crypto, A. Biesheuvel).
// The sensitivity of the results to these figures is in the report.
const (
	DefaultGHz            = 2.25
	DefaultCopyFixed      = 25
	DefaultCopyPerByte    = 0.09
	DefaultGCMFixed       = 600
	DefaultGCMPerByte     = 1.3
	DefaultStepCycles     = 1
	DefaultRTTEntryCycles = 10
)

// DefaultCosts is the fixed model (no measurement).
func DefaultCosts() Costs {
	return Costs{
		Exits:          monitor.DefaultCostModel(),
		Copy:           Curve{Fixed: DefaultCopyFixed, PerByte: DefaultCopyPerByte},
		Seal:           Curve{Fixed: DefaultGCMFixed, PerByte: DefaultGCMPerByte},
		Open:           Curve{Fixed: DefaultGCMFixed, PerByte: DefaultGCMPerByte},
		StepCycles:     DefaultStepCycles,
		RTTEntryCycles: DefaultRTTEntryCycles,
		GHz:            DefaultGHz,
		Source:         fmt.Sprintf("fixed defaults (copy %.2f cycles/B, AES-128-GCM %.1f cycles/B + %d)", DefaultCopyPerByte, DefaultGCMPerByte, DefaultGCMFixed),
	}
}

// CPUGHz reads the clock of the first CPU from /proc/cpuinfo, or returns
// 0 when it cannot.
func CPUGHz() float64 {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "cpu MHz" {
			mhz, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil && mhz > 0 {
				return mhz / 1000
			}
		}
	}
	return 0
}

// Calibrate measures copy, seal and open at each size on this machine
// (the median of several timed loops of about 2 ms each) and converts them
// to cycles at ghz.
func Calibrate(sizes []int, ghz float64) (Costs, error) {
	c := DefaultCosts()
	c.GHz = ghz
	c.Copy.Measured, c.Seal.Measured, c.Open.Measured = map[int]float64{}, map[int]float64{}, map[int]float64{}
	priv, err := NewChannelKey()
	if err != nil {
		return c, err
	}
	peer, err := NewChannelKey()
	if err != nil {
		return c, err
	}
	for _, n := range sizes {
		src, dst := make([]byte, n), make([]byte, n+ChannelOverhead)
		c.Copy.Measured[n] = ghz * timeOp(func() { copy(dst, src) })
		tx, err := NewChannel(priv, peer.PublicKey().Bytes(), true)
		if err != nil {
			return c, err
		}
		c.Seal.Measured[n] = ghz * timeOp(func() { dst = tx.Seal(dst[:0], src) })
		// Open needs a message sealed with the matching nonce each time:
		// measure seal+open and subtract seal.
		rx, err := NewChannel(peer, priv.PublicKey().Bytes(), false)
		if err != nil {
			return c, err
		}
		tx.sendSeq = 0
		pt := make([]byte, n)
		var openErr error
		both := ghz * timeOp(func() {
			ct := tx.Seal(dst[:0], src)
			if pt, err = rx.Open(pt[:0], ct); err != nil {
				openErr = err
			}
		})
		if openErr != nil {
			return c, openErr
		}
		c.Open.Measured[n] = max(both-c.Seal.Measured[n], c.Seal.Measured[n]/2)
	}
	c.Source = fmt.Sprintf("measured on this machine at %.2f GHz (Go memmove, Go crypto/aes AES-128-GCM)", ghz)
	return c, nil
}

// timeOp returns the median time of f in nanoseconds.
func timeOp(f func()) float64 {
	const rounds = 7
	iters := 1
	for {
		start := time.Now()
		for range iters {
			f()
		}
		if time.Since(start) > 2*time.Millisecond || iters >= 1<<24 {
			break
		}
		iters *= 2
	}
	var ns []float64
	for range rounds {
		start := time.Now()
		for range iters {
			f()
		}
		ns = append(ns, float64(time.Since(start).Nanoseconds())/float64(iters))
	}
	slices.Sort(ns)
	return ns[rounds/2]
}

// Describe renders the data-path costs at the given sizes.
func (c Costs) Describe(sizes []int) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Cost model: realm exit %d cycles, normal exit %d, world switch %d; access-code step %.0f; lease RTT entry %.0f (estimate). Data path: %s.\n\n",
		c.Exits.RealmExitCycles, c.Exits.NormalExitCycles, c.Exits.WorldSwitchCycles, c.StepCycles, c.RTTEntryCycles, c.Source)
	fmt.Fprintf(&b, "| size | copy cycles/B | AES-GCM seal cycles/B | open cycles/B |\n|---:|---:|---:|---:|\n")
	for _, n := range sizes {
		fmt.Fprintf(&b, "| %s | %.3f | %.2f | %.2f |\n", sizeName(n), c.Copy.PerByteAt(n), c.Seal.PerByteAt(n), c.Open.PerByteAt(n))
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
