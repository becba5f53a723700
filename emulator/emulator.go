// Package emulator is the emulated Arm CCA machine: the EL3 monitor with
// its Granule Protection Table, the platform root of trust, and the RMM,
// assembled and exposed through the register-level ABI that hypervisors,
// guest kernels and conformance suites use (docs/architecture.md,
// "Register-level ABI"):
//
//   - the host (NS-EL2) issues SMCs (HostSMC) and touches memory through
//     the granule protection check (HostRead, HostWrite);
//   - realm software is Go code registered for an entry point
//     (SetRealmProgram) that runs when a REC with that PC is entered, and
//     calls RSI and PSCI through RealmCPU.SMC.
//
// FIDs, status packing and structure layouts are those of RMM 1.0-REL0
// (see emulator/rmm); nothing here bypasses them.
package emulator

import (
	"crypto"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"sync"

	"github.com/ccakit/cca/emulator/gpt"
	"github.com/ccakit/cca/emulator/monitor"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/emulator/rot"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/token"
)

// ErrGPF matches the error of an access the granule protection check
// refused.
var ErrGPF = gpt.ErrGPF

// RealmCPU is a REC as realm software sees it (see rmm.RealmCPU).
type RealmCPU = rmm.RealmCPU

// Config is the platform's identity and shape. The zero Config is a
// working machine with the fixed test keys of emulator/rot, emitting RMM
// 1.0-REL0 tokens.
type Config struct {
	// CPAK signs platform tokens; nil means rot.TestCPAKScalar.
	CPAK crypto.Signer
	// RAK is the realm attestation key EL3 provisions to the RMM (P-384);
	// nil means rot.TestRAKScalar.
	RAK *ecdsa.PrivateKey
	// Lifecycle of the platform; nil means secured (0x3003).
	Lifecycle *platform.Lifecycle
	// BootChain is measured into the platform token's software components;
	// nil means rot.DefaultBootChain().
	BootChain []rot.Image
	// ImplementationID (32 bytes) and PlatformConfig; nil means defaults.
	ImplementationID []byte
	PlatformConfig   []byte
	// TokenFormat: evidence.FormatREL0 (the default), FormatLegacy
	// (RMM 1.0-EAC5), FormatCMW (tag 907, TF-RMM v0.9.0) or
	// FormatTFRMMMain (what TF-RMM main emits: tag 907, the 2023 platform
	// token, a realm#2.0.0 realm token with instance id and MEC policy).
	TokenFormat evidence.Format
	// Layout is the physical memory map; the zero value is
	// monitor.DefaultLayout().
	Layout monitor.Layout
	// TokenHunkSize bounds each RMM_GET_PLAT_TOKEN transfer; 0 is the
	// monitor's default.
	TokenHunkSize int
	// Sharing switches on the RMM's inter-realm memory-sharing extension
	// (docs/sharing.md, package emulator/sharing). Off (the default) the
	// RMM is a strict 1.0-REL0 and answers the extension's FIDs with
	// SMC_UNKNOWN.
	Sharing bool
}

// Machine is an emulated CCA machine. It is safe for concurrent use.
type Machine struct {
	mon *monitor.Monitor
	rot *rot.RoT
	rmm *rmm.RMM

	mu       sync.RWMutex
	programs map[uint64]func(cpu RealmCPU)
}

// New boots a machine: the root of trust measures the boot chain, EL3
// builds the GPT and enables the GPC, and the RMM boots, fetching its RAK
// and the platform token from EL3.
func New(cfg Config) (*Machine, error) {
	var platformGen, realmGen token.Generation
	var wrapper token.Wrapper
	switch cfg.TokenFormat {
	case evidence.FormatREL0, evidence.FormatLegacy, evidence.FormatCMW, evidence.FormatTFRMMMain:
		f := cfg.TokenFormat
		platformGen, realmGen, wrapper = f.GenerationOf(token.SetPlatform), f.GenerationOf(token.SetRealm), f.Wrapper()
	default:
		return nil, fmt.Errorf("emulator: unknown token format %v", cfg.TokenFormat)
	}
	rt, err := rot.New(rot.Config{CPAK: cfg.CPAK, RAK: cfg.RAK, Lifecycle: cfg.Lifecycle, BootChain: cfg.BootChain,
		ImplementationID: cfg.ImplementationID, PlatformConfig: cfg.PlatformConfig, Generation: platformGen})
	if err != nil {
		return nil, err
	}
	mon, err := monitor.New(monitor.Config{Layout: cfg.Layout, RootOfTrust: rt, TokenHunkSize: cfg.TokenHunkSize})
	if err != nil {
		return nil, err
	}
	m := &Machine{mon: mon, rot: rt, programs: map[uint64]func(RealmCPU){}}
	var dram []gpt.Range
	for _, d := range mon.Layout().HostDRAM() {
		dram = append(dram, gpt.Range{Base: d.Base, Size: d.Size})
	}
	if len(dram) == 0 {
		return nil, errors.New("emulator: the memory map has no NS DRAM mapped by granules")
	}
	r, err := rmm.New(realmWorld{mon}, rmm.Config{DRAM: dram, SharedBuffer: mon.SharedPage(),
		Wrapper: wrapper, Generation: realmGen, Programs: m.program, Sharing: cfg.Sharing})
	if err != nil {
		return nil, err
	}
	m.rmm = r
	mon.RegisterRMM(r)
	return m, nil
}

// realmWorld is the RMM's view of the machine: the Realm security state.
type realmWorld struct{ mon *monitor.Monitor }

func (w realmWorld) Read(pas gpt.PAS, pa uint64, p []byte) error {
	return w.mon.Access(gpt.StateRealm, pas, pa, p, false)
}

func (w realmWorld) Write(pas gpt.PAS, pa uint64, p []byte) error {
	return w.mon.Access(gpt.StateRealm, pas, pa, p, true)
}

func (w realmWorld) CopyGranule(dstPAS gpt.PAS, dst uint64, srcPAS gpt.PAS, src uint64, see func([]byte)) error {
	return w.mon.CopyGranule(gpt.StateRealm, dstPAS, dst, srcPAS, src, see)
}

func (w realmWorld) Check(pas gpt.PAS, pa uint64) error { return w.mon.Check(gpt.StateRealm, pas, pa) }

func (w realmWorld) EL3(fid uint64, args ...uint64) [5]uint64 {
	return w.mon.SMC(gpt.StateRealm, fid, args...)
}

// HostSMC is an SMC by the Normal-world host: X0 = fid, X1.. = args. It
// returns X0..X4 as the host sees them.
func (m *Machine) HostSMC(fid uint64, args ...uint64) [5]uint64 {
	return m.mon.SMC(gpt.StateNonSecure, fid, args...)
}

// HostRead reads physical memory as the host: NS PAS, through the GPC. A
// refused access copies nothing and returns an error matching ErrGPF.
func (m *Machine) HostRead(pa uint64, p []byte) error {
	return m.mon.Access(gpt.StateNonSecure, gpt.PASNonSecure, pa, p, false)
}

// HostWrite writes physical memory as the host (see HostRead).
func (m *Machine) HostWrite(pa uint64, p []byte) error {
	return m.mon.Access(gpt.StateNonSecure, gpt.PASNonSecure, pa, p, true)
}

// NSMemory returns the first NS DRAM bank, the memory the host owns at
// reset and delegates granules from.
func (m *Machine) NSMemory() (base, size uint64) {
	d := m.mon.Layout().HostDRAM()[0]
	return d.Base, d.Size
}

// SetRealmProgram registers realm software for an entry point: a REC whose
// PC equals entry runs prog when it is first entered. nil removes it.
func (m *Machine) SetRealmProgram(entry uint64, prog func(cpu RealmCPU)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if prog == nil {
		delete(m.programs, entry)
		return
	}
	m.programs[entry] = prog
}

func (m *Machine) program(pc uint64) (rmm.Program, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p, ok := m.programs[pc]
	return p, ok
}

// CPAK returns the platform attestation public key, what a verifier must
// trust for this machine's tokens.
func (m *Machine) CPAK() crypto.PublicKey { return m.rot.CPAK() }

// RootOfTrust returns the platform root of trust (identity, lifecycle).
func (m *Machine) RootOfTrust() *rot.RoT { return m.rot }

// Monitor returns the EL3 monitor (GPT, counters, other worlds' accesses).
func (m *Machine) Monitor() *monitor.Monitor { return m.mon }

// Counters returns the world-switch and exit counters.
func (m *Machine) Counters() monitor.Counters { return m.mon.Counters() }

// ShareCounters returns the events of the RMM's sharing extension
// (Config.Sharing): RSI calls, access-code work, stage-2 and TLB work.
func (m *Machine) ShareCounters() rmm.ShareCounters { return m.rmm.ShareCounters() }

// Close stops the realm software parked on the machine's RECs and switches
// the memory off, giving its storage back for reuse by the next machine.
// The machine must not be used afterwards.
func (m *Machine) Close() {
	m.rmm.Close()
	m.mon.Close()
}

// RaiseIRQ makes a physical interrupt pending for the CPU running the REC
// at rec: the REC exits to the host with RMI_EXIT_IRQ at its next
// interruptible point (its realm software's next SMC), and resumes when
// entered again. It reports whether rec is a REC.
func (m *Machine) RaiseIRQ(rec uint64) bool { return m.rmm.RaiseIRQ(rec) }

// RealmFault returns why the realm software on the REC at rec stopped with
// an SError exit: a *rmm.RealmFault (matching rmm.ErrRealmFault) with the
// panic value and the realm goroutine's stack, or the entry point that had
// no software; nil if it has not. An RMM invariant broken while it served
// a realm is not a realm fault: RMI_REC_ENTER panics on the host's
// goroutine with an *rmm.InvariantPanic.
func (m *Machine) RealmFault(rec uint64) error { return m.rmm.RealmFault(rec) }
