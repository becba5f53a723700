// Package realmtokens runs one realm on the emulated CCA machine whose
// software hands out attestation tokens on request: for each challenge it
// asks the RMM with RSI_ATTESTATION_TOKEN_INIT and _CONTINUE, as a guest
// kernel's configfs-tsm report does. The host built the realm through RMI
// (emulator/vmm), so every token comes out of the RMM for a real realm.
// The service's tests and its load benchmark use it to make a fresh token
// for each session's nonce without booting a machine per token; it also
// writes the CoRIMs that endorse that machine and realm.
package realmtokens

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/guest"
	"github.com/ccakit/cca/emulator/vmm"
	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/internal/emulation"
	"github.com/ccakit/cca/realmbuild"
	"github.com/ccakit/cca/verifier"
)

// The realm is emulation.DefaultRealm, the one `ccatoken emulate` and
// `ccatoken demo` build, so that the CoRIMs written here also endorse the
// tokens those commands make (docs/serve.md's walk-through uses them).

// bufferIPA is the realm page its tokens are written to: RAM the VMM did
// not populate, so the first CONTINUE takes a stage-2 fault the host
// resolves.
const bufferIPA = 0x8100_0000

// ErrClosed: the realm was stopped.
var ErrClosed = errors.New("realmtokens: the realm is stopped")

// Realm is a running realm that makes tokens. Token is safe for concurrent
// use (requests are served one at a time, as one vCPU would).
type Realm struct {
	Machine *emulator.Machine
	Plan    *realmbuild.Plan
	mu      sync.Mutex
	closed  bool
	reqs    chan []byte
	resps   chan result
	done    chan error
}

type result struct {
	tok []byte
	err error
}

// Start boots the machine with cfg (the zero Config: fixed test keys),
// builds the realm and enters it.
func Start(cfg emulator.Config) (*Realm, error) {
	desc, err := realmbuild.ParseDescription([]byte(emulation.DefaultRealm))
	if err != nil {
		return nil, err
	}
	plan, err := desc.Plan(nil)
	if err != nil {
		return nil, err
	}
	m, err := emulator.New(cfg)
	if err != nil {
		return nil, err
	}
	r := &Realm{Machine: m, Plan: plan, reqs: make(chan []byte), resps: make(chan result), done: make(chan error, 1)}
	m.SetRealmProgram(desc.RECs[0].PC, func(cpu emulator.RealmCPU) {
		for c := range r.reqs {
			tok, err := guest.AttestationToken(cpu, c, bufferIPA)
			r.resps <- result{tok, err}
		}
	})
	built, err := vmm.New(m).Build(plan)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("building the realm: %w", err)
	}
	go func() {
		_, err := built.Run(0, vmm.Handlers{})
		r.done <- err
	}()
	return r, nil
}

// Token returns a token whose realm challenge is challenge (32..64 bytes,
// zero-padded by the guest as Linux does).
func (r *Realm) Token(challenge []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	r.reqs <- challenge
	res := <-r.resps
	if res.err != nil {
		return nil, fmt.Errorf("realm software: %w", res.err)
	}
	return res.tok, nil
}

// Close stops the realm (its vCPU switches off) and the machine.
func (r *Realm) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.reqs)
	r.mu.Unlock()
	err := <-r.done
	r.Machine.Close()
	return err
}

// CoRIMs are the endorsements of the machine and the realm as a platform
// vendor and a realm owner would publish them, three unsigned CoRIMs of
// today's profiles (endorsement.Encode*): the CPAK for the platform's
// instance; its firmware measurements and configuration; the realm's
// predicted RIM and RPV.
type CoRIMs struct {
	Anchors, Platform, Realm []byte
}

// CoRIMs writes the endorsements.
func (r *Realm) CoRIMs() (CoRIMs, error) {
	rt := r.Machine.RootOfTrust()
	var c CoRIMs
	var err error
	if c.Anchors, err = endorsement.EncodeTrustAnchors("emulated-cpak",
		endorsement.TrustAnchor{ImplementationID: rt.ImplementationID(), InstanceID: rt.InstanceID(), Key: r.Machine.CPAK()}); err != nil {
		return c, err
	}
	pr := endorsement.PlatformReference{ImplementationID: rt.ImplementationID(), Config: rt.Claims(nil).Config}
	pr.ConfigMask = make([]byte, len(pr.Config))
	for i := range pr.ConfigMask {
		pr.ConfigMask[i] = 0xff
	}
	for _, sc := range rt.SoftwareComponents() {
		pr.SwComponents = append(pr.SwComponents, endorsement.SwComponent{
			Type: sc.MeasurementType, Version: sc.Version, Alg: "sha-256", Value: sc.MeasurementValue, SignerID: sc.SignerID})
	}
	if c.Platform, err = endorsement.EncodePlatform("emulated-firmware", pr); err != nil {
		return c, err
	}
	pred := r.Plan.Predict()
	c.Realm, err = endorsement.EncodeRealm("emulated-realm",
		endorsement.RealmReference{RIM: pred.RIM, HashAlg: pred.HashAlgo.Name(), RPV: pred.RPV})
	return c, err
}

// Verifier is the verifier library alone over these endorsements: the
// CoRIMs decoded into in-memory stores (the library's own ceiling, without
// a database), with opts.
func (c CoRIMs) Verifier(opts ...verifier.Option) (*verifier.Verifier, error) {
	var anchors []verifier.TrustAnchor
	var plats []verifier.PlatformReference
	var realms []verifier.RealmReference
	for _, b := range [][]byte{c.Anchors, c.Platform, c.Realm} {
		e, err := endorsement.Decode(b, endorsement.DecodeOptions{})
		if err != nil {
			return nil, err
		}
		for _, ta := range e.TrustAnchors {
			anchors = append(anchors, verifier.EndorsedTrustAnchor(ta))
		}
		for _, p := range e.Platforms {
			plats = append(plats, verifier.EndorsedPlatform(p))
		}
		for _, r := range e.Realms {
			realms = append(realms, verifier.EndorsedRealm(r))
		}
	}
	tas, err := verifier.NewTrustAnchors(anchors...)
	if err != nil {
		return nil, err
	}
	refs, err := verifier.NewReferenceValues(plats, realms)
	if err != nil {
		return nil, err
	}
	return verifier.New(tas, append([]verifier.Option{verifier.WithReferenceValues(refs)}, opts...)...)
}
