package service

import (
	"fmt"
	"sync"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/guest"
	"github.com/ccakit/cca/emulator/vmm"
	"github.com/ccakit/cca/realmbuild"
)

// testRealmDescription is a small kvmtool-style realm: 64 MB of RAM, a
// 64 KB synthetic kernel and a DTB stand-in.
const testRealmDescription = `{
  "realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 2, "num_wps": 2, "rpv": "63636b69742073657276652074657374"},
  "ram": [{"base": "0x80000000", "size": "0x4000000"}],
  "images": [
    {"name": "kernel", "ipa": "0x80000000", "fill": "1f2003d5", "size": "0x10000"},
    {"name": "dtb", "ipa": "0x83e00000", "fill": "d00dfeed", "size": "0x1000"}
  ],
  "recs": [{"pc": "0x80000000", "gprs": ["0x83e00000"]}]
}`

// tokenBufferIPA is the realm page its tokens are written to.
const tokenBufferIPA = 0x8100_0000

// emulatedRealm is a realm running on the emulated machine whose software
// answers token requests: for each challenge it asks the RMM for a token
// with RSI_ATTESTATION_TOKEN_INIT/CONTINUE, as a guest kernel's configfs-tsm
// report would. The host built it through RMI (vmm.Build).
type emulatedRealm struct {
	machine *emulator.Machine
	plan    *realmbuild.Plan
	mu      sync.Mutex
	reqs    chan []byte
	resps   chan tokenOrError
	done    chan error
}

type tokenOrError struct {
	tok []byte
	err error
}

func startEmulatedRealm(t testing.TB) *emulatedRealm {
	t.Helper()
	desc, err := realmbuild.ParseDescription([]byte(testRealmDescription))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := desc.Plan(nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := &emulatedRealm{machine: m, plan: plan, reqs: make(chan []byte), resps: make(chan tokenOrError), done: make(chan error, 1)}
	m.SetRealmProgram(desc.RECs[0].PC, func(cpu emulator.RealmCPU) {
		for c := range e.reqs {
			tok, err := guest.AttestationToken(cpu, c, tokenBufferIPA)
			e.resps <- tokenOrError{tok, err}
		}
	})
	r, err := vmm.New(m).Build(plan)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := r.Run(0, vmm.Handlers{})
		e.done <- err
	}()
	t.Cleanup(func() {
		close(e.reqs)
		if err := <-e.done; err != nil {
			t.Errorf("realm run: %v", err)
		}
		m.Close()
	})
	return e
}

// token returns a token whose realm challenge is challenge (32..64 bytes,
// zero-padded by the guest as Linux does).
func (e *emulatedRealm) token(challenge []byte) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reqs <- challenge
	r := <-e.resps
	if r.err != nil {
		return nil, fmt.Errorf("realm software: %w", r.err)
	}
	return r.tok, nil
}
