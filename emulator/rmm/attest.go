package rmm

import (
	"bytes"
	"encoding/binary"

	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// Attestation over RSI (Arm DEN0137 1.0-REL0 A7.2 Realm attestation, B5.3.1-2; TF-RMM rel0
// runtime/rsi/realm_attest.c and lib/attestation).
//
// RSI_ATTESTATION_TOKEN_INIT snapshots what the realm token states (RIM,
// REMs, RPV, hash algorithm) together with the realm's challenge and
// encodes the unsigned claims. The following RSI_ATTESTATION_TOKEN_CONTINUE
// calls sign them with the RAK, wrap the realm token with the platform
// token cached at boot into the CCA token, and copy it out in the pieces the
// realm asks for. The operation belongs to one REC: TF-RMM keeps it in the
// REC's auxiliary granules, and a realm must run INIT and every CONTINUE on
// the same vCPU (Linux pins itself with migrate_disable()).
//
// Signing in TF-RMM is restartable ECDSA: CONTINUE signs step by step and
// returns RSI_INCOMPLETE with X1 = 0 when it had to give the CPU back (a
// pending interrupt makes the REC exit with RMI_EXIT_IRQ; the ACS test
// attestation_rec_exit_irq sees INCOMPLETE, X1 = 0). The emulator has no
// interrupts, so it models that visible behaviour deterministically: the
// first CONTINUE after INIT signs the whole token and returns RSI_INCOMPLETE
// with X1 = 0, without touching the buffer; copying starts with the second
// call. Realm software must therefore loop on INCOMPLETE whatever X1 is, as
// Linux's arm-cca-guest and the ACS do.

func init() {
	registerRSI(RSIAttestationTokenInit, rsiAttestationTokenInit)
	registerRSI(RSIAttestationTokenContinue, rsiAttestationTokenContinue)
}

// attestTokenMax is the upper bound INIT reports and the size of the REC's
// token buffer: RMM_CCA_TOKEN_BUFFER (1) granules (TF-RMM cmake/CommonConfigs.cmake). A
// CCA token that does not fit cannot be returned.
const attestTokenMax = 1 * GranuleSize

// attestState is where a REC's token operation stands.
type attestState uint8

const (
	// attestIdle: no operation; CONTINUE answers RSI_ERROR_STATE.
	attestIdle attestState = iota
	// attestSigning: INIT has run; the next CONTINUE signs.
	attestSigning
	// attestCopying: signed; CONTINUE copies the token out.
	attestCopying
)

// attestContext is a REC's attestation token operation. Only the REC's
// realm goroutine touches it (RSI calls of that REC), so it needs no lock.
type attestContext struct {
	state attestState
	// payload is the encoded realm claims, fixed at INIT.
	payload []byte
	// realmToken is the signed realm token (a COSE_Sign1).
	realmToken []byte
	// token is the CCA token, built on the first copy, and copied the
	// number of its bytes handed out so far.
	token  []byte
	copied int
}

// realmClaims takes the snapshot of RSI_ATTESTATION_TOKEN_INIT: the realm
// claims of the configured generation (TF-RMM attestation_token.c: REL0 has the 1.0 realm profile
// and a COSE_Key RAK; the legacy token of RMM 1.0-EAC5 has no profile and a
// raw-point RAK; TF-RMM main adds the realm instance id and the MEC policy
// under the 2.0 realm profile, encoded in its order by realm.Claims.Encode),
// with the RIM and the four REMs at the size of the realm's hash algorithm. The RAK hash algorithm is always SHA-256, as in TF-RMM,
// which also hashes the RAK claim with it for the platform challenge at
// boot. The caller holds r.mu; the claims share no memory with the realm
// descriptor.
func (r *RMM) realmClaims(rl *realmDesc, challenge []byte) (*realm.Claims, error) {
	profile, err := token.ProfileFor(token.SetRealm, r.cfg.Generation)
	if err != nil {
		return nil, err
	}
	h := rl.hash
	c := &realm.Claims{
		Profile:              profile,
		Challenge:            bytes.Clone(challenge),
		PersonalizationValue: bytes.Clone(rl.rpv[:]),
		HashAlgID:            h.Name(),
		PubKey:               bytes.Clone(r.rakClaim),
		PubKeyHashAlgID:      token.SHA256,
		InitialMeasurement:   bytes.Clone(rl.rim.Value(h)),
	}
	for i := range rl.rems {
		c.ExtensibleMeasurements = append(c.ExtensibleMeasurements, bytes.Clone(rl.rems[i].Value(h)))
	}
	if r.cfg.Generation == token.Gen2 {
		// TF-RMM main: the realm instance id drawn at REALM_CREATE, and
		// the MEC policy as mec_is_realm_mecid_s2_pvt() (lib/mec) finds it
		// at token time: private only if the realm's stage 2 uses a
		// private MECID. This machine has no FEAT_MEC, so every realm
		// shares the one MECID and the policy is 0 (shared), whatever
		// flags0 asked for.
		c.InstanceID = bytes.Clone(rl.instanceID)
		c.MECPolicy = realm.MECPolicyOf(false)
	}
	return c, nil
}

// RSI_ATTESTATION_TOKEN_INIT(X1..X8 challenge) → X1 = upper bound of the
// token size. The challenge is always 64 bytes, byte i in X(1+i/8),
// little-endian (Arm DEN0137 1.0-REL0 B5.3.2; Linux zero-pads a shorter one). INIT aborts any
// operation in progress on this REC and starts a new one from the realm's
// measurements as they are now (taken under the lock, so that no REM
// extension by another REC lands half-way): a REM extended later is not in
// this token. There are no failure conditions; an internal failure is
// RSI_ERROR_UNKNOWN.
func rsiAttestationTokenInit(c *realmCPU, x *[11]uint64) [9]uint64 {
	var challenge [realm.ChallengeSize]byte
	for i := range 8 {
		binary.LittleEndian.PutUint64(challenge[8*i:], x[i])
	}
	a := &c.rec.attest
	*a = attestContext{}
	c.r.mu.Lock()
	claims, err := c.r.realmClaims(c.rl, challenge[:])
	c.r.mu.Unlock()
	if err != nil {
		return rsiReturn(x, RSIErrorUnknown)
	}
	payload, err := claims.Encode()
	if err != nil {
		return rsiReturn(x, RSIErrorUnknown)
	}
	*a = attestContext{state: attestSigning, payload: payload}
	return rsiReturn(x, RSISuccess, attestTokenMax)
}

// RSI_ATTESTATION_TOKEN_CONTINUE(ipa, offset, size) → X1 = bytes copied.
//
// Conditions in TF-RMM's order (Arm DEN0137 1.0-REL0 B5.3.1), all ERROR_INPUT: addr_align (ipa not
// granule-aligned), offset_bound (offset ≥ 4096), size_bound (offset + size
// > 4096), size_overflow (offset + size wraps), addr_bound (ipa not in the
// PAR). Then no operation (no INIT, or the last one finished) →
// ERROR_STATE.
//
// The first call after INIT signs and returns INCOMPLETE with X1 = 0 (see
// above). Each later call copies the next min(size, remaining) bytes of the
// CCA token to ipa + offset: RIPAS EMPTY at ipa → ERROR_INPUT; a RAM
// granule without a mapping makes the REC exit with a stage-2 data abort
// and the copy is retried on the next entry; size 0 → INCOMPLETE, nothing
// copied. X1 is the number of bytes copied; X0 is INCOMPLETE while bytes
// remain and SUCCESS with the last ones, after which the operation is over.
func rsiAttestationTokenContinue(c *realmCPU, x *[11]uint64) [9]uint64 {
	ipa, offset, size := x[0], x[1], x[2]
	if !aligned(ipa) || offset >= GranuleSize || offset+size > GranuleSize || offset+size < offset {
		return rsiReturn(x, RSIErrorInput)
	}
	if ipa >= c.rl.parTop() {
		return rsiReturn(x, RSIErrorInput)
	}
	a := &c.rec.attest
	switch a.state {
	case attestIdle:
		return rsiReturn(x, RSIErrorState)
	case attestSigning:
		// The RAK is fixed from boot on; signing needs no lock.
		signed, err := token.SignPayload(a.payload, c.r.rak, nil)
		if err != nil {
			*a = attestContext{}
			return rsiReturn(x, RSIErrorUnknown)
		}
		a.realmToken, a.state = signed, attestCopying
		return rsiReturn(x, RSIIncomplete, 0)
	}

	if a.token == nil {
		coll := token.Collection{Wrapper: c.r.cfg.Wrapper, Platform: c.r.platformToken, Realm: a.realmToken}
		tok, err := coll.Encode()
		if err != nil || len(tok) > attestTokenMax {
			// TF-RMM: the token does not fit its buffer; the operation
			// is abandoned.
			*a = attestContext{}
			return rsiReturn(x, RSIErrorInput)
		}
		a.token = tok
	}
	if size == 0 {
		// Nothing to copy, but the buffer is walked all the same (TF-RMM
		// translates the IPA before it looks at size).
		var probe [1]byte
		if err := c.Read(ipa, probe[:]); err != nil {
			return rsiReturn(x, RSIErrorInput)
		}
		return rsiReturn(x, RSIIncomplete, 0)
	}
	n := min(int(size), len(a.token)-a.copied)
	if err := c.Write(ipa+offset, a.token[a.copied:a.copied+n]); err != nil {
		return rsiReturn(x, RSIErrorInput)
	}
	a.copied += n
	if a.copied == len(a.token) {
		*a = attestContext{}
		return rsiReturn(x, RSISuccess, uint64(n))
	}
	return rsiReturn(x, RSIIncomplete, uint64(n))
}
