package rmm

import (
	"errors"
	"strings"
	"testing"

	"github.com/ccakit/cca/emulator/gpt"
)

// errGuestBug is what the crashing realm software of the fault tests
// panics with.
var errGuestBug = errors.New("guest bug")

// crashingGuest is realm software that makes one RSI call and then
// panics: the host must see an SError exit, and the panic with its stack
// must be kept.
func crashingGuest(cpu RealmCPU) {
	if x := cpu.SMC(RSIVersion, ABIVersion); x[0] != RSISuccess {
		return // the test sees a CPU_OFF exit instead of the SError
	}
	panic(errGuestBug)
}

func TestRealmPanicIsAnSErrorExitWithARecord(t *testing.T) {
	w := newGuestWorld(t)
	g := w.newGuestRealm(guestOpts{}, crashingGuest)
	rec := g.recs[0]
	if err := w.r.RealmFault(rec); err != nil {
		t.Fatalf("RealmFault before the REC ran: %v", err)
	}
	x0, x := w.enter(g, rec)
	if x0 != RMISuccess || x.reason != ExitSError {
		t.Fatalf("REC_ENTER of a crashing realm: X0 %#x, %v; want SUCCESS and an SError exit", x0, x)
	}
	err := w.r.RealmFault(rec)
	var f *RealmFault
	if !errors.As(err, &f) || !errors.Is(err, ErrRealmFault) || !errors.Is(err, errGuestBug) {
		t.Fatalf("RealmFault = %v; want a *RealmFault matching ErrRealmFault and the panic value", err)
	}
	if f.REC != rec || f.Value != errGuestBug {
		t.Errorf("fault REC %#x value %v; want %#x, %v", f.REC, f.Value, rec, errGuestBug)
	}
	// The stack is the realm goroutine's, down to the panicking function.
	if !strings.Contains(string(f.Stack), "crashingGuest") || !strings.Contains(err.Error(), "guest bug") {
		t.Errorf("the fault does not show the panic and where it happened:\n%v", err)
	}
	// The crashed REC is not runnable: the next entry fails (rec_runnable).
	if x0, _ := w.enter(g, rec); x0 != Pack(RMIErrorRec, 0) {
		t.Errorf("REC_ENTER after the crash: X0 %#x, want RMI_ERROR_REC", x0)
	}
	// Another REC's record is its own.
	if err := w.r.RealmFault(g.recs[0] + GranuleSize*1000); err != nil {
		t.Errorf("RealmFault of no REC = %v", err)
	}
}

func TestNoRealmSoftwareIsAFault(t *testing.T) {
	w := newGuestWorld(t)
	g := w.newGuestRealm(guestOpts{}, nil) // the entry point has no program
	x0, x := w.enter(g, g.recs[0])
	if x0 != RMISuccess || x.reason != ExitSError {
		t.Fatalf("REC_ENTER without software: X0 %#x, %v; want an SError exit", x0, x)
	}
	err := w.r.RealmFault(g.recs[0])
	var f *RealmFault
	if !errors.As(err, &f) || f.Value != nil || !strings.Contains(err.Error(), "no realm software at entry point") {
		t.Fatalf("RealmFault = %v; want the missing software named", err)
	}
}

// failingRealmReads makes the platform fail the RMM's own Realm PAS reads:
// a broken emulator invariant, which no input can cause.
type failingRealmReads struct {
	Platform
	on bool // set and read only while the REC runs, by its goroutine's caller chain
}

func (p *failingRealmReads) Read(pas gpt.PAS, pa uint64, b []byte) error {
	if p.on && pas == gpt.PASRealm {
		return errors.New("injected platform failure")
	}
	return p.Platform.Read(pas, pa, b)
}

func TestRMMPanicInRealmContextReachesTheHost(t *testing.T) {
	w := newGuestWorld(t)
	fp := &failingRealmReads{Platform: w.r.plat}
	// The realm's first access walks its RTTs: the RMM's read of an RTT
	// fails, and the RMM panics while it serves the realm.
	g := w.newGuestRealm(guestOpts{}, func(cpu RealmCPU) {
		var b [8]byte
		if err := cpu.Read(gRAM, b[:]); err != nil {
			t.Errorf("the read returned %v: the RMM's panic was hidden", err)
		}
		t.Error("realm software went on after the RMM panicked")
	})
	w.r.plat = fp
	fp.on = true
	p := func() (p any) {
		defer func() { p = recover() }()
		// In the test goroutine, not host.smc's watchdog goroutine, so that
		// the panic can be recovered here.
		w.p.mon.SMC(gpt.StateNonSecure, RMIRecEnter, g.recs[0], g.run)
		return nil
	}()
	ip, ok := p.(*InvariantPanic)
	if !ok {
		t.Fatalf("REC_ENTER recovered %v (%T); want an *InvariantPanic", p, p)
	}
	if ip.REC != g.recs[0] || !errors.Is(ip, ErrPlatform) || !strings.Contains(string(ip.Stack), "translate") {
		t.Errorf("invariant panic %v does not name the REC, the platform failure and the RMM's stack", ip)
	}
	if err := w.r.RealmFault(g.recs[0]); err != nil {
		t.Errorf("the RMM's panic was recorded as the realm's fault: %v", err)
	}
}
