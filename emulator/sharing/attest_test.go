package sharing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/guest"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/internal/verifytest"
	"github.com/ccakit/cca/verifier"
)

// expectedREM3 computes, from docs/sharing.md §7 alone (not from the RMM's
// encoder), REM[3] of a SHA-256 realm that attached one region with these
// members: H(0^32 || H(descriptor)).
func expectedREM3(flags, size, ticks uint64, members ...*Realm) []byte {
	type m struct{ rim, rpv []byte }
	var ms []m
	for _, r := range members {
		rim := make([]byte, 64) // the RIM slot: 32 bytes, zero-padded
		copy(rim, r.RIM)
		ms = append(ms, m{rim, r.RPV})
	}
	slices.SortFunc(ms, func(a, b m) int { return bytes.Compare(append(a.rim, a.rpv...), append(b.rim, b.rpv...)) })
	desc := make([]byte, 0x40)
	binary.LittleEndian.PutUint64(desc[0:], 1)
	binary.LittleEndian.PutUint64(desc[8:], flags)
	binary.LittleEndian.PutUint64(desc[16:], size)
	binary.LittleEndian.PutUint64(desc[24:], ticks)
	binary.LittleEndian.PutUint64(desc[32:], uint64(len(ms)))
	for _, x := range ms {
		e := make([]byte, 0x100)
		copy(e, x.rim)
		copy(e[0x40:], x.rpv)
		// hash_algo at 0x80: SHA-256 is 0
		desc = append(desc, e...)
	}
	d := sha256.Sum256(desc)
	rem := sha256.Sum256(append(make([]byte, 32), d[:]...))
	return rem[:]
}

// The sharing claim reaches the relying party: a member's token carries in
// REM[3] the descriptor of the region (who shares it, how big, which
// mode), which a verifier checks against a reference value computed
// independently; the realm itself reads the member list before using the
// region.
func TestAttestableSharing(t *testing.T) {
	w := newWorld(t)
	const flags, ticks, granules = rmm.ShareFlagMediated | rmm.ShareFlagLease, 5, 2
	var sr uint64
	var b *Realm
	challenge := bytes.Repeat([]byte{0x5A}, 64)
	var tok []byte
	a := w.realm(func(cpu emulator.RealmCPU) {
		if _, err := Attach(cpu, sr, descIPA); err != nil {
			t.Error(err)
			return
		}
		// The realm's own check: with whom does it share?
		desc := make([]byte, rmm.ShareDescMembers+2*rmm.ShareDescMemberSize)
		if err := cpu.Read(descIPA, desc); err != nil {
			t.Error(err)
			return
		}
		own, _ := guest.MeasurementRead(cpu, 0)
		found := map[string]bool{}
		for i := range 2 {
			e := desc[rmm.ShareDescMembers+rmm.ShareDescMemberSize*i:]
			found[string(e[:32])] = true
		}
		if binary.LittleEndian.Uint64(desc[rmm.ShareDescNumMembers:]) != 2 || !found[string(own[:32])] || !found[string(b.RIM)] {
			t.Errorf("descriptor does not name exactly this realm and B")
		}
		var err error
		tok, err = guest.AttestationToken(cpu, challenge, scratchIPA)
		if err != nil {
			t.Error(err)
		}
	})
	b = w.realm(func(cpu emulator.RealmCPU) {})
	c := w.realm(func(cpu emulator.RealmCPU) {})
	sr = w.region(RegionSpec{Granules: granules, Flags: flags, LeaseTicks: ticks}, a, b).SR
	w.run(nil, a)
	if tok == nil {
		t.Fatal("no token")
	}

	ev, err := verifytest.Verify(tok, w.m.CPAK(), challenge)
	if err != nil {
		t.Fatal(err)
	}
	want := expectedREM3(flags, granules*rmm.GranuleSize, ticks, a, b)
	rems := ev.Realm.ExtensibleMeasurements
	if len(rems) != 4 || !bytes.Equal(rems[rmm.ShareREM-1], want) {
		t.Fatalf("REM[3] in the token %x, expected %x", rems[rmm.ShareREM-1], want)
	}

	// A relying party's verifier with reference values for A: RIM, RPV and
	// REMs, REM[3] saying "shares 8 KiB, mediated and leased, with B".
	zero := make([]byte, 32)
	appraise := func(rem3 []byte) *verifier.Result {
		anchors, err := verifier.NewTrustAnchors(verifier.TrustAnchor{Key: w.m.CPAK()})
		if err != nil {
			t.Fatal(err)
		}
		refs, err := verifier.NewReferenceValues(nil, []verifier.RealmReference{{
			InitialMeasurement: a.RIM, PersonalizationValue: a.RPV,
			ExtensibleMeasurements: [][]byte{zero, zero, rem3, zero},
		}})
		if err != nil {
			t.Fatal(err)
		}
		v, err := verifier.New(anchors, verifier.WithReferenceValues(refs),
			verifier.WithPolicy(verifier.Policy{AllowUnknownPlatformUnsafe: true}))
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.Verify(context.Background(), tok, challenge)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := appraise(want); !res.Trustworthy {
		t.Fatalf("token with the expected sharing claim rejected: %s", res.Reason())
	}
	// Sharing with C instead of B, or another size, is a different claim.
	for _, wrong := range [][]byte{
		expectedREM3(flags, granules*rmm.GranuleSize, ticks, a, c),
		expectedREM3(flags, 1*rmm.GranuleSize, ticks, a, b),
		expectedREM3(rmm.ShareFlagMediated, granules*rmm.GranuleSize, 0, a, b),
	} {
		res := appraise(wrong)
		if chk, _ := res.Realm.Check(verifier.CheckREM, 2); res.Trustworthy || chk.Outcome != verifier.Mismatched {
			t.Errorf("wrong sharing claim accepted: %+v", chk)
		}
	}
}
