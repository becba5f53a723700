package sharing

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rmm"
)

// The host tries to place a region over memory a realm already uses as its
// own (docs/sharing.md §3, RMI_SHARE_MEMBER_ADD rtte_state, rtte_ripas):
// over RIPAS RAM, over a page it destroyed, over a mapped page. Each
// placement is refused with RMI_ERROR_RTT at level 3 and changes nothing;
// the realm's secret, written there before, never reaches the co-member,
// which leases and reads the whole region the host could build.
func TestAttackRegionOverOwnMemory(t *testing.T) {
	w := newWorld(t)
	own := uint64(RAMBase + 0x40_0000) // A's RAM, written before the host acts
	gone := own + 0x10_0000            // A's RAM page the host destroys
	var leaked []byte
	var sr uint64
	var got [3][9]uint64
	a := w.realm(func(cpu emulator.RealmCPU) {
		if err := cpu.Write(own, secret); err != nil {
			t.Error(err)
		}
		if err := cpu.Write(gone, secret); err != nil {
			t.Error(err)
		}
		hostCall(t, cpu, 1) // the host attacks now
		// The realm can tell shared from its own before it writes.
		got[0] = cpu.SMC(rmm.RSIShareIPAQuery, own)
		got[1] = cpu.SMC(rmm.RSIShareIPAQuery, WindowIPA+8)
		got[2] = cpu.SMC(rmm.RSIIPAStateGet, WindowIPA, WindowIPA+1<<20)
		if _, err := Attach(cpu, sr, 0); err != nil {
			t.Error(err)
		}
		if _, err := Acquire(cpu, sr, true); err != nil {
			t.Error(err)
			return
		}
		// Its own RAM is still its own: the secret is where it wrote it.
		buf := make([]byte, len(secret))
		if err := cpu.Read(own, buf); err != nil || !bytes.Equal(buf, secret) {
			t.Errorf("A's own memory after the attack: %q, %v", buf, err)
		}
		if err := Release(cpu, sr); err != nil {
			t.Error(err)
		}
		hostCall(t, cpu, 2)
	})
	b := w.realm(func(cpu emulator.RealmCPU) {
		hostCall(t, cpu, 2) // after A is done
		if _, err := Attach(cpu, sr, 0); err != nil {
			t.Error(err)
			return
		}
		if _, err := Acquire(cpu, sr, false); err != nil {
			t.Error(err)
			return
		}
		leaked = make([]byte, 2*rmm.GranuleSize)
		if err := cpu.Read(WindowIPA, leaked); err != nil {
			t.Error(err)
		}
		_ = Release(cpu, sr)
	})
	h, m := w.h, w.m
	const granules = 2
	try := func(what string, ipa uint64, index uint8) {
		hr := &HostRegion{}
		var err error
		hr.SR, err = h.Delegate()
		if err != nil {
			t.Fatal(err)
		}
		params, _ := h.Alloc(1)
		var p [rmm.GranuleSize]byte
		p[rmm.ShareParamsFlags] = rmm.ShareFlagLease
		p[rmm.ShareParamsNumGranules] = granules
		p[rmm.ShareParamsLeaseTicks] = 1
		if err := m.HostWrite(params, p[:]); err != nil {
			t.Fatal(err)
		}
		expectRMI(t, what+": REGION_CREATE", m.HostSMC(rmm.RMIShareRegionCreate, hr.SR, params), rmm.RMISuccess, 0)
		for range granules {
			g, _ := h.Delegate()
			expectRMI(t, what+": GRANULE_ADD", m.HostSMC(rmm.RMIShareGranuleAdd, hr.SR, g), rmm.RMISuccess, 0)
		}
		if err := h.Tables(a.RD, ipa, granules*rmm.GranuleSize); err != nil {
			t.Fatal(err)
		}
		before := m.HostSMC(rmm.RMIRttReadEntry, a.RD, ipa, 3)
		expectRMI(t, what, m.HostSMC(rmm.RMIShareMemberAdd, hr.SR, a.RD, ipa), rmm.RMIErrorRtt, index)
		if after := m.HostSMC(rmm.RMIRttReadEntry, a.RD, ipa, 3); after != before {
			t.Errorf("%s: the refused MEMBER_ADD changed the entry: %#x → %#x", what, before, after)
		}
	}
	aDone := make(chan struct{})
	w.run(func(realm int, imm uint16, gprs [31]uint64) [31]uint64 {
		switch {
		case realm == 0 && imm == 2:
			close(aDone)
			return gprs
		case realm == 1:
			<-aDone
			return gprs
		case imm != 1:
			return gprs
		}
		// A's page at gone: the host destroys it (DESTROYED), A's page at
		// own stays mapped RAM, and an unbacked page of A's RAM range is
		// UNASSIGNED RAM.
		expectRMI(t, "DATA_DESTROY", m.HostSMC(rmm.RMIDataDestroy, a.RD, gone), rmm.RMISuccess, 0)
		try("region over a mapped RAM page", own, 3)
		try("region over a DESTROYED page", gone, 3)
		try("region over unbacked RAM", own+0x20_0000, 3)
		hr, err := h.CreateRegion(RegionSpec{Granules: granules, Flags: rmm.ShareFlagLease, LeaseTicks: 1},
			Member{RD: a.RD, IPA: WindowIPA}, Member{RD: b.RD, IPA: WindowIPA})
		if err != nil {
			t.Fatal(err)
		}
		sr = hr.SR
		return gprs
	}, a, b)
	if bytes.Contains(leaked, secret) {
		t.Fatal("the co-member read what A wrote into its own memory")
	}
	if got[0][0] != rmm.RSISuccess || got[0][1] != 0 {
		t.Errorf("IPA_QUERY of A's own RAM: %#x", got[0][:5])
	}
	if q := got[1]; q[0] != rmm.RSISuccess || q[1] != sr || q[2] != WindowIPA || q[3] != granules*rmm.GranuleSize || q[4] != rmm.ShareAccessNone {
		t.Errorf("IPA_QUERY of the region: %#x", q[:5])
	}
	// RSI_IPA_STATE_GET on the region: RIPAS EMPTY (never the realm's RAM),
	// and the range ends where the region ends.
	if s := got[2]; s[0] != rmm.RSISuccess || s[1] != WindowIPA+granules*rmm.GranuleSize || s[2] != rmm.RIPASEmpty {
		t.Errorf("IPA_STATE_GET of the region: %#x", s[:3])
	}
}

// The code a member loads is measured into its REM[3] after the region's
// descriptor: a relying party sees which code touches the shared data.
func TestCodeLoadExtendsREM3(t *testing.T) {
	w := newWorld(t)
	var sr uint64
	var rem3 [9]uint64
	img, err := testRing.Put()
	if err != nil {
		t.Fatal(err)
	}
	a := w.realm(func(cpu emulator.RealmCPU) {
		if _, err := Attach(cpu, sr, 0); err != nil {
			t.Error(err)
			return
		}
		if _, err := LoadCode(cpu, sr, codeIPA, img); err != nil {
			t.Error(err)
			return
		}
		rem3 = cpu.SMC(rmm.RSIMeasurementRead, rmm.ShareREM) // the slot RSI_MEASUREMENT_EXTEND(3) extends
	})
	b := w.realm(func(emulator.RealmCPU) {})
	hr := w.region(RegionSpec{Granules: testRing.Granules(), Flags: rmm.ShareFlagMediated}, a, b)
	sr = hr.SR
	w.run(nil, a, b)
	afterAttach := expectedREM3(rmm.ShareFlagMediated, uint64(testRing.Granules())*rmm.GranuleSize, 0, a, b)
	code := sha256.Sum256(img)
	want := sha256.Sum256(append(append([]byte{}, afterAttach...), code[:]...))
	var got [32]byte
	for i := range 4 {
		for j := range 8 {
			got[8*i+j] = byte(rem3[1+i] >> (8 * j))
		}
	}
	if rem3[0] != rmm.RSISuccess || got != want {
		t.Fatalf("REM[3] = %x, want H(REM[3] after attach || SHA-256(code)) = %x", got, want)
	}
}
