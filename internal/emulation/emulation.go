// Package emulation runs the end-to-end scenario that `ccatoken emulate`,
// `ccatoken demo` and the test-vector generator share: boot the emulated
// CCA machine, build a realm through RMI as a VMM does, enter it, and let
// the realm's software extend REM[0] and fetch its attestation token over
// RSI with the Linux guest loop. The token therefore comes out of
// RSI_ATTESTATION_TOKEN_CONTINUE on a realm the host built, never from a
// shortcut.
package emulation

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/guest"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/emulator/vmm"
	"github.com/ccakit/cca/realmbuild"
	"github.com/ccakit/cca/token"
)

var (
	// ErrMachine: the machine's configuration is refused (a key, the
	// lifecycle, the token format).
	ErrMachine = errors.New("emulation: the machine cannot boot")
	// ErrNoToken: the realm stopped without having obtained its token.
	ErrNoToken = errors.New("emulation: the realm stopped without a token")
)

// DefaultRealm is the realm built when no description is given: 256 MB of
// RAM at 2 GB, a 64 KB synthetic kernel (AArch64 NOPs) at the base of RAM,
// a 4 KB stand-in for the DTB, one vCPU entering the kernel with x0 = the
// DTB's address (the kvmtool convention).
const DefaultRealm = `{
  "realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 5, "num_wps": 3,
            "rpv": "6363616b69742064656661756c74207265616c6d"},
  "ram": [{"base": "0x80000000", "size": "0x10000000"}],
  "images": [
    {"name": "kernel", "ipa": "0x80000000", "fill": "1f2003d5", "size": "0x10000"},
    {"name": "dtb", "ipa": "0x8fe00000", "fill": "d00dfeed", "size": "0x1000"}
  ],
  "recs": [{"pc": "0x80000000", "gprs": ["0x8fe00000"]}]
}`

// BootMessage is what the realm software extends REM[0] (RSI index 1) with
// before it asks for its token, as a guest kernel would measure what it
// runs.
const BootMessage = "ccakit realm: kernel booted"

// tokenBufferIPA is the guest page the realm software receives its token
// in: RAM the VMM has not populated, so the first CONTINUE takes a stage-2
// fault the host resolves, as a guest kernel's fresh page would. It lies in
// DefaultRealm's RAM; a description of another realm must cover it too.
const tokenBufferIPA = 0x8100_0000

// Options say what to run.
type Options struct {
	// Config configures the machine: token format, keys, lifecycle.
	Config emulator.Config
	// Realm is the realm to build and Load reads its image files; nil:
	// DefaultRealm.
	Realm *realmbuild.Description
	Load  realmbuild.Loader
	// Challenge is the realm challenge, 32..64 bytes; nil: 64 random bytes.
	Challenge []byte
	// Trace, if set, sees each RMI command as the VMM issues it.
	Trace func(cmd string, x0 uint64)
}

// Result is what one run produced. The caller closes Machine.
type Result struct {
	Machine   *emulator.Machine
	Realm     *vmm.Realm
	Plan      *realmbuild.Plan
	Challenge []byte
	Token     []byte
	RMICalls  []string       // RMI commands in the order the VMM issued them
	RMICount  map[string]int // and how often
	RSICalls  map[string]int // RSI calls the realm software made, by name
	Exits     map[uint64]int // REC exits by reason
	AbortIPAs []uint64       // stage-2 data aborts the host resolved
}

// Run boots the machine, builds and runs the realm, and returns its token.
func Run(o Options) (*Result, error) {
	res := &Result{Challenge: o.Challenge, RMICount: map[string]int{}, RSICalls: map[string]int{}, Exits: map[uint64]int{}}
	if res.Challenge == nil {
		res.Challenge = make([]byte, token.ChallengeSize)
		if _, err := rand.Read(res.Challenge); err != nil {
			return nil, err
		}
	}
	desc, err := o.Realm, error(nil)
	if desc == nil {
		if desc, err = realmbuild.ParseDescription([]byte(DefaultRealm)); err != nil {
			return nil, err
		}
	}
	if res.Plan, err = desc.Plan(o.Load); err != nil {
		return nil, err
	}
	if res.Machine, err = emulator.New(o.Config); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMachine, err)
	}
	var runErr error
	res.Machine.SetRealmProgram(desc.RECs[0].PC, func(cpu emulator.RealmCPU) {
		c := &countingCPU{RealmCPU: cpu, calls: res.RSICalls}
		if runErr = guest.MeasurementExtend(c, 1, []byte(BootMessage)); runErr != nil {
			return
		}
		res.Token, runErr = guest.AttestationToken(c, res.Challenge, tokenBufferIPA)
	})
	v := vmm.New(res.Machine)
	v.Trace = func(cmd string, x0 uint64) {
		res.RMICalls = append(res.RMICalls, cmd)
		res.RMICount[cmd]++
		if o.Trace != nil {
			o.Trace(cmd, x0)
		}
	}
	fail := func(err error) (*Result, error) {
		res.Machine.Close()
		return nil, err
	}
	if res.Realm, err = v.Build(res.Plan); err != nil {
		return fail(fmt.Errorf("building the realm: %w", err))
	}
	_, err = res.Realm.Run(0, vmm.Handlers{Exit: func(_ int, e vmm.Exit) {
		res.Exits[e.Reason]++
		if e.Reason == rmm.ExitSync {
			res.AbortIPAs = append(res.AbortIPAs, e.IPA())
		}
	}})
	if err != nil {
		return fail(fmt.Errorf("running the realm: %w", err))
	}
	if runErr != nil {
		return fail(fmt.Errorf("realm software: %w", runErr))
	}
	if res.Token == nil {
		return fail(ErrNoToken)
	}
	return res, nil
}

// countingCPU counts the realm software's RSI calls by name.
type countingCPU struct {
	emulator.RealmCPU
	calls map[string]int
}

func (c *countingCPU) SMC(fid uint64, args ...uint64) [9]uint64 {
	name, ok := rmm.RSICommandName(fid)
	if !ok {
		name = fmt.Sprintf("SMC %#x", fid)
	}
	c.calls[name]++
	return c.RealmCPU.SMC(fid, args...)
}
