package rmm

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/emulator/rot"
	"github.com/ccakit/cca/internal/verifytest"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
	"github.com/ccakit/cca/verifier"
)

// newGuestWorldWith boots the test machine with a root of trust and an RMM
// configured for a token format (a legacy token needs a legacy platform
// token too).
func newGuestWorldWith(t *testing.T, rc rot.Config, cfg Config) *guestWorld {
	t.Helper()
	r, p := newTestRMMConfig(t, rc, cfg)
	return guestOn(t, &host{t: t, r: r, p: p, next: tDRAMBase})
}

// challengeArgs is X1..X8 of TOKEN_INIT for a challenge of up to 64 bytes,
// zero-padded as Linux does (rsi_cmds.h).
func challengeArgs(ch []byte) []uint64 {
	var b [64]byte
	copy(b[:], ch)
	args := make([]uint64, 8)
	for i := range args {
		for j := 7; j >= 0; j-- {
			args[i] = args[i]<<8 | uint64(b[8*i+j])
		}
	}
	return args
}

// tokenStats counts what a realm saw while it fetched a token.
type tokenStats struct {
	signing int // INCOMPLETE with X1 = 0 before the first byte
	copies  int // calls that copied bytes
}

// linuxToken fetches a token as Linux's arm-cca-guest does
// (arm_cca_report_new): INIT, then continueToken.
func linuxToken(cpu RealmCPU, challenge []byte, buf uint64) ([]byte, tokenStats, error) {
	x := cpu.SMC(RSIAttestationTokenInit, challengeArgs(challenge)...)
	if x[0] != RSISuccess || x[1] != attestTokenMax {
		return nil, tokenStats{}, fmt.Errorf("INIT: %#x", x)
	}
	return continueToken(cpu, buf, x[1])
}

// continueToken is the CONTINUE part of Linux's loop: an outer loop over
// one bounce granule, an inner loop calling CONTINUE(granule, offset,
// 4096 - offset) and adding X1 to offset while the answer is INCOMPLETE and
// the granule is not full; the granule's bytes are appended; again while
// INCOMPLETE. Any other status fails (-ENXIO), as does a token longer than
// bound.
func continueToken(cpu RealmCPU, buf, bound uint64) ([]byte, tokenStats, error) {
	var st tokenStats
	var out []byte
	for {
		offset := uint64(0)
		var x [9]uint64
		for {
			x = cpu.SMC(RSIAttestationTokenContinue, buf, offset, GranuleSize-offset)
			if x[0] != RSISuccess && x[0] != RSIIncomplete {
				return nil, st, fmt.Errorf("CONTINUE: %#x", x)
			}
			switch {
			case x[1] == 0 && len(out) == 0 && offset == 0:
				st.signing++
			case x[1] > 0:
				st.copies++
			}
			offset += x[1]
			if x[0] != RSIIncomplete || offset >= GranuleSize {
				break
			}
		}
		b := make([]byte, offset)
		if err := cpu.Read(buf, b); err != nil {
			return nil, st, err
		}
		out = append(out, b...)
		if uint64(len(out)) > bound {
			return nil, st, fmt.Errorf("token longer than the bound %d", bound)
		}
		if x[0] != RSIIncomplete {
			return out, st, nil
		}
	}
}

// chunkedToken fetches a token in pieces of at most chunk bytes, the ACS
// way: the offset advances within a granule and the IPA moves to the next
// granule when one is full.
func chunkedToken(cpu RealmCPU, challenge []byte, buf uint64, chunk uint64) ([]byte, tokenStats, error) {
	var st tokenStats
	if x := cpu.SMC(RSIAttestationTokenInit, challengeArgs(challenge)...); x[0] != RSISuccess {
		return nil, st, fmt.Errorf("INIT: %#x", x)
	}
	ipa, offset, total := buf, uint64(0), 0
	for n := 0; n < 1000; n++ {
		x := cpu.SMC(RSIAttestationTokenContinue, ipa, offset, min(chunk, GranuleSize-offset))
		switch {
		case x[0] != RSISuccess && x[0] != RSIIncomplete:
			return nil, st, fmt.Errorf("CONTINUE(%#x, %d): %#x", ipa, offset, x)
		case x[1] == 0 && total == 0:
			st.signing++
		case x[1] == 0:
			return nil, st, fmt.Errorf("CONTINUE made no progress: %#x", x)
		default:
			st.copies++
		}
		total += int(x[1])
		if offset += x[1]; offset == GranuleSize {
			ipa, offset = ipa+GranuleSize, 0
		}
		if x[0] == RSISuccess {
			out := make([]byte, total)
			if err := cpu.Read(buf, out); err != nil {
				return nil, st, err
			}
			return out, st, nil
		}
	}
	return nil, st, errors.New("CONTINUE never finished")
}

// verifyToken checks a token the realm fetched: it decodes and verifies
// with the root of trust's CPAK (platform signature, realm signature with
// the RAK it carries, binding of the two) and the nonce, and carries the
// realm's measurements and the expected format.
func verifyToken(t *testing.T, w *guestWorld, rd uint64, tok, nonce []byte, wrapper token.Wrapper, gen token.Generation, rems [4]realm.Measurement) {
	t.Helper()
	e, err := verifytest.VerifyWith(tok, w.p.rot.CPAK(), nonce, verifier.Policy{RejectUnknownClaims: true})
	if err != nil {
		t.Fatalf("token (%d bytes): %v", len(tok), err)
	}
	rl := w.r.realms[rd]
	h := rl.hash
	k := e.Kind()
	platformGen := gen
	if gen == token.Gen2 {
		platformGen = token.Gen1 // TF-RMM main with TF-A's 2023 platform token
	}
	if k.Wrapper != wrapper || k.Platform != platformGen || k.Realm != gen || !k.Coherent() {
		t.Errorf("token kind %v, want %v with generation %v", k, wrapper, gen)
	}
	rc0 := e.Realm
	if gen == token.Gen2 {
		// TF-RMM main: the instance id the RMM drew at REALM_CREATE, the
		// MEC policy shared (no FEAT_MEC), the claims in its order.
		if len(rl.instanceID) != 33 || rl.instanceID[0] != 0x01 || !bytes.Equal(rc0.InstanceID, rl.instanceID) {
			t.Errorf("realm instance id %x, the realm's %x", rc0.InstanceID, rl.instanceID)
		}
		if rc0.MECPolicy == nil || rc0.MECPolicy.Text || rc0.MECPolicy.Value != 0 {
			t.Errorf("MEC policy %v, want the integer 0", rc0.MECPolicy)
		}
		if got := claimOrder(t, e.RealmSign1.Payload); !slices.Equal(got, []int64{10, 256, 44235, 44237, 44236, 44240, 44243, 265, 44238, 44239}) {
			t.Errorf("realm claims in the order %v, not TF-RMM main's", got)
		}
	} else if rc0.InstanceID != nil || rc0.MECPolicy != nil {
		t.Errorf("%v token with 2.0 claims", gen)
	}
	var padded [64]byte
	copy(padded[:], nonce)
	rc := e.Realm
	if !bytes.Equal(rc.Challenge, padded[:]) {
		t.Errorf("realm challenge %x, want %x", rc.Challenge, padded)
	}
	if !bytes.Equal(rc.InitialMeasurement, rl.rim.Value(h)) {
		t.Errorf("RIM %x, want the realm's %x", rc.InitialMeasurement, rl.rim.Value(h))
	}
	if !bytes.Equal(rc.PersonalizationValue, rl.rpv[:]) || rc.HashAlgID != h.Name() || rc.PubKeyHashAlgID != token.SHA256 {
		t.Errorf("realm claims: RPV %x, hash %q, RAK hash %q", rc.PersonalizationValue, rc.HashAlgID, rc.PubKeyHashAlgID)
	}
	if len(rc.ExtensibleMeasurements) != 4 {
		t.Fatalf("%d REMs", len(rc.ExtensibleMeasurements))
	}
	for i, rem := range rc.ExtensibleMeasurements {
		if !bytes.Equal(rem, rems[i].Value(h)) {
			t.Errorf("REM%d %x, want %x", i+1, rem, rems[i].Value(h))
		}
	}
	// The platform challenge binds the RAK the RMM got at boot.
	if sum := sha256.Sum256(w.r.rakClaim); !bytes.Equal(rc.PubKey, w.r.rakClaim) || !bytes.Equal(e.Platform.Challenge, sum[:]) {
		t.Errorf("RAK claim %x, platform challenge %x", rc.PubKey, e.Platform.Challenge)
	}
}

// claimOrder lists the keys of an encoded claims set (a map of fewer than
// 24 claims) in their encoding order.
func claimOrder(t *testing.T, payload []byte) []int64 {
	t.Helper()
	if len(payload) == 0 || payload[0]>>5 != 5 || payload[0]&0x1f >= 24 {
		t.Fatalf("not a small map: % x", payload[:min(len(payload), 4)])
	}
	var keys []int64
	b := payload[1:]
	for range int(payload[0] & 0x1f) {
		var k int64
		var v cbor.RawMessage
		rest, err := cbor.UnmarshalFirst(b, &k)
		if err == nil {
			b, err = cbor.UnmarshalFirst(rest, &v)
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return keys
}

func TestAttestationTokenFormats(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rot     rot.Config
		cfg     Config
		wrapper token.Wrapper
		gen     token.Generation
		hash    realm.HashAlgorithm
		flags   uint64
	}{
		{"REL0", rot.Config{}, Config{}, token.Wrapper399, token.Gen1, realm.HashSHA256, 0},
		{"REL0 SHA-512", rot.Config{}, Config{}, token.Wrapper399, token.Gen1, realm.HashSHA512, 0},
		{"legacy", rot.Config{Generation: token.GenLegacy}, Config{Generation: token.GenLegacy}, token.Wrapper399, token.GenLegacy, realm.HashSHA256, 0},
		{"CMW", rot.Config{}, Config{Wrapper: token.Wrapper907}, token.Wrapper907, token.Gen1, realm.HashSHA256, 0},
		{"TF-RMM main", rot.Config{}, Config{Wrapper: token.Wrapper907, Generation: token.Gen2}, token.Wrapper907, token.Gen2, realm.HashSHA256, 0},
		{"TF-RMM main, MEC private asked", rot.Config{}, Config{Wrapper: token.Wrapper907, Generation: token.Gen2}, token.Wrapper907, token.Gen2, realm.HashSHA512,
			RealmMECPolicyPrivate << RealmFlagMECPolicyShift},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newGuestWorldWith(t, tc.rot, tc.cfg)
			rpv := bytes.Repeat([]byte("personalised"), 6)[:64]
			challenges := [][]byte{
				bytes.Repeat([]byte{0xC1}, 32), // the smallest Linux accepts
				bytes.Repeat([]byte{0xC2}, 48),
				bytes.Repeat([]byte{0xC3}, 64),
			}
			tokens := make([][]byte, len(challenges)+1)
			g := w.newGuestRealm(guestOpts{hash: tc.hash, rpv: rpv, flags: tc.flags}, func(cpu RealmCPU) {
				for i, ch := range challenges {
					tok, st, err := linuxToken(cpu, ch, gRAM+GranuleSize)
					if err != nil {
						t.Errorf("challenge %d: %v", len(ch), err)
						return
					}
					if st.signing != 1 || st.copies == 0 {
						t.Errorf("challenge %d: %+v", len(ch), st)
					}
					tokens[i] = tok
				}
				tok, st, err := chunkedToken(cpu, challenges[0], gRAM+2*GranuleSize, 100)
				if err != nil {
					t.Errorf("chunked: %v", err)
					return
				}
				if st.signing != 1 || st.copies != (len(tok)+99)/100 {
					t.Errorf("chunked: %+v for %d bytes", st, len(tok))
				}
				tokens[len(challenges)] = tok
			})
			w.finish(g, g.recs[0], nil)
			nonces := append(challenges, challenges[0]) // the chunked token's
			for i, tok := range tokens {
				verifyToken(t, w, g.rd, tok, nonces[i], tc.wrapper, tc.gen, [4]realm.Measurement{})
			}
		})
	}
}

func TestAttestationRestartAndREM(t *testing.T) {
	w := newGuestWorld(t)
	ch1, ch2, ch3 := bytes.Repeat([]byte{1}, 64), bytes.Repeat([]byte{2}, 64), bytes.Repeat([]byte{3}, 64)
	value := []byte("extended after INIT")
	buf := uint64(gRAM + GranuleSize)
	var tok2, tok3 []byte
	g := w.newGuestRealm(guestOpts{}, func(cpu RealmCPU) {
		wantRegs(t, "INIT 1", cpu.SMC(RSIAttestationTokenInit, challengeArgs(ch1)...), RSISuccess, attestTokenMax)
		wantRegs(t, "CONTINUE (signing)", cpu.SMC(RSIAttestationTokenContinue, buf, 0, GranuleSize), RSIIncomplete, 0)
		wantRegs(t, "CONTINUE 10 bytes", cpu.SMC(RSIAttestationTokenContinue, buf, 0, 10), RSIIncomplete, 10)
		// A second INIT abandons the first operation (ACS
		// attestation_token_init) and snapshots the measurements again; a
		// REM extended after it is not in its token.
		wantRegs(t, "INIT 2", cpu.SMC(RSIAttestationTokenInit, challengeArgs(ch2)...), RSISuccess, attestTokenMax)
		wantRegs(t, "EXTEND", cpu.SMC(RSIMeasurementExtend, extendArgs(1, value)...), RSISuccess)
		var st tokenStats
		var err error
		if tok2, st, err = continueToken(cpu, buf, attestTokenMax); err != nil || st.signing != 1 {
			t.Errorf("token 2: %v (%+v)", err, st)
		}
		if tok3, _, err = linuxToken(cpu, ch3, buf); err != nil {
			t.Errorf("token 3: %v", err)
		}
	})
	w.finish(g, g.recs[0], nil)
	verifyToken(t, w, g.rd, tok2, ch2, token.Wrapper399, token.Gen1, [4]realm.Measurement{})
	rem := remExtend(realm.HashSHA256, realm.Measurement{}, value)
	verifyToken(t, w, g.rd, tok3, ch3, token.Wrapper399, token.Gen1, [4]realm.Measurement{rem})
}

func TestAttestationContinueConditions(t *testing.T) {
	w := newGuestWorld(t)
	buf := uint64(gRAM + GranuleSize)
	g := w.newGuestRealm(guestOpts{}, func(cpu RealmCPU) {
		in, state := uint64(RSIErrorInput), uint64(RSIErrorState)
		// Input checks come before the state check (TF-RMM).
		wantRegs(t, "no INIT", cpu.SMC(RSIAttestationTokenContinue, buf, 0, GranuleSize), state, 0)
		wantRegs(t, "no INIT, addr_align", cpu.SMC(RSIAttestationTokenContinue, buf+8, 0, GranuleSize), in, 0)

		x := cpu.SMC(RSIAttestationTokenInit, challengeArgs([]byte("nonce"))...)
		wantRegs(t, "INIT", x, RSISuccess, attestTokenMax, 0, 0)
		for _, tc := range []struct {
			name              string
			ipa, offset, size uint64
		}{
			{"addr_align", buf + 8, 0, 16},
			{"addr_bound", gPAR, 0, 16},
			{"addr_bound (unprotected)", gPAR + buf, 0, 16},
			{"offset_bound", buf, GranuleSize, 0},
			{"offset_bound (max)", buf, ^uint64(0), 1},
			{"size_overflow", buf, 8, ^uint64(3)},
			{"size_bound", buf, 8, GranuleSize - 7},
			{"size_bound (whole)", buf, 0, GranuleSize + 1},
		} {
			wantRegs(t, tc.name, cpu.SMC(RSIAttestationTokenContinue, tc.ipa, tc.offset, tc.size), in, 0)
		}
		// Signing does not look at the buffer; copying does.
		wantRegs(t, "signing", cpu.SMC(RSIAttestationTokenContinue, gEmpty, 0, GranuleSize), RSIIncomplete, 0)
		wantRegs(t, "RIPAS EMPTY", cpu.SMC(RSIAttestationTokenContinue, gEmpty, 0, GranuleSize), in, 0)
		wantRegs(t, "RIPAS EMPTY, size 0", cpu.SMC(RSIAttestationTokenContinue, gEmpty, 0, 0), in, 0)
		wantRegs(t, "size 0", cpu.SMC(RSIAttestationTokenContinue, buf, 0, 0), RSIIncomplete, 0)
		wantRegs(t, "size 0 at the end", cpu.SMC(RSIAttestationTokenContinue, buf, GranuleSize-1, 0), RSIIncomplete, 0)
		// The copy lands at ipa + offset and continues where it stopped.
		wantRegs(t, "1 byte at 4095", cpu.SMC(RSIAttestationTokenContinue, buf, GranuleSize-1, 1), RSIIncomplete, 1)
		first := make([]byte, 1)
		if err := cpu.Read(buf+GranuleSize-1, first); err != nil || first[0] != 0xd9 { // tag 399: d9 01 8f
			t.Errorf("first byte %x (%v)", first, err)
		}
		rest, _, err := continueToken(cpu, buf, attestTokenMax)
		if err != nil || len(rest) < 1000 || rest[0] != 0x01 || rest[1] != 0x8f {
			t.Errorf("rest of the token: %d bytes %x (%v)", len(rest), rest[:min(4, len(rest))], err)
		}
		// The operation is over.
		wantRegs(t, "after SUCCESS", cpu.SMC(RSIAttestationTokenContinue, buf, 0, GranuleSize), state, 0)
	})
	w.finish(g, g.recs[0], nil)
	// The buffer granule was not mapped: the first copy made the REC exit
	// with a data abort, served by the host.
	if len(w.aborts) == 0 || w.aborts[0] != buf {
		t.Errorf("data aborts at %#x", w.aborts)
	}
}

// TestRealmCreateMECPolicy: the MEC policy request in RmiRealmParams.flags0
// bits [8:7] is taken only by an RMM emitting TF-RMM main's tokens, where 0
// and 1 are valid and 2 and 3 are RMI_ERROR_INPUT; RMM 1.0-REL0 defines no
// such bits, so the default machine refuses them. A refused call changes
// nothing; each realm gets its own instance id.
func TestRealmCreateMECPolicy(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   []uint64 // flags0 MEC_POLICY values accepted
	}{
		{"RMM 1.0-REL0", Config{}, []uint64{0}},
		{"TF-RMM main", Config{Wrapper: token.Wrapper907, Generation: token.Gen2}, []uint64{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newGuestWorldWith(t, rot.Config{}, tc.cfg)
			var ids [][]byte
			for pol := uint64(0); pol < 4; pol++ {
				rtt := w.contiguousDelegated(2)
				rd := w.delegated()
				p := w.realmParams(rtt, w.vmid)
				w.vmid++
				p[RealmParamsFlags] = pol << RealmFlagMECPolicyShift
				want := uint8(RMIErrorInput)
				if slices.Contains(tc.ok, pol) {
					want = RMISuccess
				}
				w.must(fmt.Sprintf("REALM_CREATE MEC_POLICY %d", pol), w.smc(RMIRealmCreate, rd, w.params(p)), want, 0)
				if want != RMISuccess {
					if g := w.r.granules.lookup(rd); g.state != granuleDelegated || w.r.realms[rd] != nil {
						t.Errorf("MEC_POLICY %d: refused, but the RD changed", pol)
					}
					continue
				}
				if id := w.r.realms[rd].instanceID; tc.cfg.Generation == token.Gen2 {
					if len(id) != 33 || id[0] != 0x01 || slices.ContainsFunc(ids, func(o []byte) bool { return bytes.Equal(o, id) }) {
						t.Errorf("realm instance id %x", id)
					}
					ids = append(ids, id)
				} else if id != nil {
					t.Errorf("a 1.0 realm with an instance id")
				}
			}
		})
	}
}
