package sharing

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/emulator/rmm/accesscode"
)

// The attacks of docs/sharing.md §9, each of which must fail. Realm-side
// steps run in realm programs; host-side steps run in the test, between
// them or inside a host call that a realm makes to hand over.

// expect fails the test unless err carries the RSI status want.
func expect(t *testing.T, what string, err error, want uint64) {
	t.Helper()
	if got := Status(err); got != want {
		t.Errorf("%s: status %d (%v), want %d", what, got, err, want)
	}
}

// expectRMI fails the test unless the RMI command returned status[index].
func expectRMI(t *testing.T, what string, x [5]uint64, status, index uint8) {
	t.Helper()
	if st, idx := rmm.Unpack(x[0]); st != status || idx != index {
		t.Errorf("%s: RMI status %d[%d], want %d[%d]", what, st, idx, status, index)
	}
}

func isSEA(err error) bool { return errors.Is(err, rmm.ErrSEA) }

// secret is what member A puts into the region.
var secret = []byte("the database row A and B share")

// putSecret is A's part of several tests: attach, load Put, send the secret.
func putSecret(t *testing.T, cpu emulator.RealmCPU, sr uint64, ring Ring) bool {
	if _, err := Attach(cpu, sr, 0); err != nil {
		t.Error(err)
		return false
	}
	img, _ := ring.Put()
	put, err := LoadCode(cpu, sr, codeIPA, img)
	if err == nil {
		err = cpu.Write(scratchIPA, secret)
	}
	if err == nil {
		var res Result
		res, err = Invoke(cpu, put, scratchIPA, uint64(len(secret)))
		if err == nil && res.Regs[0] != 0 {
			t.Errorf("put: r0 = %d", res.Regs[0])
		}
	}
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

var testRing = Ring{Slots: 4, SlotSize: 100}

// A member cannot write (or read) the region except through the
// coordinator or under a lease that allows it.
func TestAttackMemberDirectAccess(t *testing.T) {
	w := newWorld(t)
	var sr uint64
	a := w.realm(func(cpu emulator.RealmCPU) { putSecret(t, cpu, sr, testRing) })
	b := w.realm(func(cpu emulator.RealmCPU) {
		reg, err := Attach(cpu, sr, 0)
		if err != nil {
			t.Error(err)
			return
		}
		buf := make([]byte, 64)
		if err := cpu.Write(reg.IPA, []byte("overwrite")); !isSEA(err) {
			t.Errorf("direct write without a lease: %v", err)
		}
		if err := cpu.Read(reg.IPA, buf); !isSEA(err) {
			t.Errorf("direct read without a lease: %v", err)
		}
		// A READ lease maps the region read-only: reads work, writes abort.
		if _, err := Acquire(cpu, sr, false); err != nil {
			t.Error(err)
			return
		}
		if err := cpu.Read(reg.IPA+uint64(testRing.Slot(0))+8, buf[:len(secret)]); err != nil || !bytes.Equal(buf[:len(secret)], secret) {
			t.Errorf("read under a READ lease: %v %q", err, buf[:len(secret)])
		}
		if err := cpu.Write(reg.IPA+RingHead, make([]byte, 8)); !isSEA(err) {
			t.Errorf("write under a READ lease: %v", err)
		}
		if err := Release(cpu, sr); err != nil {
			t.Error(err)
		}
		if err := cpu.Read(reg.IPA, buf); !isSEA(err) {
			t.Errorf("read after release: %v", err)
		}
		// The region is intact: B gets A's message through the coordinator.
		img, _ := testRing.Get()
		get, err := LoadCode(cpu, sr, codeIPA, img)
		if err != nil {
			t.Error(err)
			return
		}
		res, err := Invoke(cpu, get, scratchIPA, uint64(testRing.SlotSize))
		got := make([]byte, res.Regs[1])
		if err == nil {
			err = cpu.Read(scratchIPA, got)
		}
		if err != nil || res.Regs[0] != 0 || !bytes.Equal(got, secret) {
			t.Errorf("get after the attacks: %v %+v %q", err, res, got)
		}
	})
	sr = w.region(RegionSpec{Granules: testRing.Granules(), Flags: rmm.ShareFlagMediated | rmm.ShareFlagLease, LeaseTicks: 8}, a, b).SR
	w.run(nil, a)
	w.run(nil, b)
}

// A realm that is not a member has no mapping of the region, and every
// way in is closed: RSI calls, a host adding it late, a host mapping a
// region granule into its unprotected IPA space (the GPC stops it) or
// handing it the granule as data.
func TestAttackNonMember(t *testing.T) {
	w := newWorld(t)
	var hr *HostRegion
	a := w.realm(func(cpu emulator.RealmCPU) { putSecret(t, cpu, hr.SR, testRing) })
	b := w.realm(func(cpu emulator.RealmCPU) {})
	const nsIPA = NSWindowIPA + 0x10_0000
	c := w.realm(func(cpu emulator.RealmCPU) {
		buf := make([]byte, 16)
		if err := cpu.Read(WindowIPA, buf); !isSEA(err) {
			t.Errorf("non-member read of the window: %v", err)
		}
		_, err := Attach(cpu, hr.SR, 0)
		expect(t, "non-member attach", err, rmm.RSIErrorState)
		_, err = LoadCode(cpu, hr.SR, codeIPA, []byte("RSAC"))
		expect(t, "non-member load", err, rmm.RSIErrorState)
		_, err = Invoke(cpu, Code{Region: hr.SR}, scratchIPA, 0)
		expect(t, "non-member invoke", err, rmm.RSIErrorState)
		_, err = Acquire(cpu, hr.SR, true)
		expect(t, "non-member lease", err, rmm.RSIErrorState)
		if err := cpu.Read(nsIPA, buf); !errors.Is(err, emulator.ErrGPF) {
			t.Errorf("read of a shared granule mapped as unprotected memory: %v", err)
		}
		if bytes.Contains(buf, secret[:8]) {
			t.Error("non-member saw the secret")
		}
	})
	hr = w.region(RegionSpec{Granules: testRing.Granules(), Flags: rmm.ShareFlagMediated}, a, b)
	w.run(nil, a)

	h := w.h
	if err := h.Tables(c.RD, WindowIPA, rmm.GranuleSize); err != nil {
		t.Fatal(err)
	}
	expectRMI(t, "MEMBER_ADD after ACTIVATE", w.m.HostSMC(rmm.RMIShareMemberAdd, hr.SR, c.RD, WindowIPA), rmm.RMIErrorRealm, 0)
	expectRMI(t, "DATA_CREATE_UNKNOWN with a shared granule", w.m.HostSMC(rmm.RMIDataCreateUnknown, c.RD, hr.Granules[0], WindowIPA), rmm.RMIErrorInput, 0)
	// The host may map any PA as unprotected memory; the realm's access
	// then targets the NS PAS, and the GPC refuses it.
	if err := h.MapNS(c, nsIPA, hr.Granules[0], 1); err != nil {
		t.Fatal(err)
	}
	w.run(nil, c)
}

// The host can neither read, nor undelegate, re-delegate, reassign or
// unmap a shared granule; it can only end sharing in order, and then gets
// the granules back scrubbed.
func TestAttackHost(t *testing.T) {
	w := newWorld(t)
	var hr *HostRegion
	a := w.realm(func(cpu emulator.RealmCPU) { putSecret(t, cpu, hr.SR, testRing) })
	b := w.realm(func(cpu emulator.RealmCPU) {})
	hr = w.region(RegionSpec{Granules: testRing.Granules(), Flags: rmm.ShareFlagMediated}, a, b)
	w.run(nil, a)
	m := w.m
	g := hr.Granules[0]
	buf := make([]byte, rmm.GranuleSize)
	if err := m.HostRead(g, buf); !errors.Is(err, emulator.ErrGPF) {
		t.Errorf("host read: %v", err)
	}
	if err := m.HostWrite(g, buf); !errors.Is(err, emulator.ErrGPF) {
		t.Errorf("host write: %v", err)
	}
	expectRMI(t, "UNDELEGATE", m.HostSMC(rmm.RMIGranuleUndelegate, g), rmm.RMIErrorInput, 0)
	expectRMI(t, "DELEGATE", m.HostSMC(rmm.RMIGranuleDelegate, g), rmm.RMIErrorInput, 0)
	expectRMI(t, "DATA_DESTROY", m.HostSMC(rmm.RMIDataDestroy, a.RD, WindowIPA), rmm.RMIErrorRtt, 3)
	fresh, err := w.h.Delegate()
	if err != nil {
		t.Fatal(err)
	}
	expectRMI(t, "DATA_CREATE_UNKNOWN over the window", m.HostSMC(rmm.RMIDataCreateUnknown, a.RD, fresh, WindowIPA), rmm.RMIErrorRtt, 3)
	expectRMI(t, "RTT_DESTROY of the window's table", m.HostSMC(rmm.RMIRttDestroy, a.RD, WindowIPA, 3), rmm.RMIErrorRtt, 3)
	expectRMI(t, "RTT_FOLD of the window's table", m.HostSMC(rmm.RMIRttFold, a.RD, WindowIPA, 3), rmm.RMIErrorRtt, 3)
	x := m.HostSMC(rmm.RMIRttReadEntry, a.RD, WindowIPA, 3)
	if x[0] != rmm.RMISuccess || x[2] != rmm.RTTEStateShared || x[3] != g || x[4] != rmm.RIPASEmpty {
		t.Errorf("RTT_READ_ENTRY of a shared entry: %#x", x)
	}
	expectRMI(t, "another region's GRANULE_ADD", func() [5]uint64 {
		sr2, _ := w.h.Delegate()
		params, _ := w.h.Alloc(1)
		var p [rmm.GranuleSize]byte
		binary.LittleEndian.PutUint64(p[rmm.ShareParamsFlags:], rmm.ShareFlagMediated)
		binary.LittleEndian.PutUint64(p[rmm.ShareParamsNumGranules:], 1)
		_ = m.HostWrite(params, p[:])
		expectRMI(t, "REGION_CREATE", m.HostSMC(rmm.RMIShareRegionCreate, sr2, params), rmm.RMISuccess, 0)
		expectRMI(t, "REGION_CREATE on a shared granule", m.HostSMC(rmm.RMIShareRegionCreate, g, params), rmm.RMIErrorInput, 0)
		return m.HostSMC(rmm.RMIShareGranuleAdd, sr2, g)
	}(), rmm.RMIErrorInput, 0)
	expectRMI(t, "REGION_DESTROY with members", m.HostSMC(rmm.RMIShareRegionDestroy, hr.SR), rmm.RMIErrorRealm, 0)

	// Teardown in order, then the granules come back zeroed.
	if err := w.h.DestroyRegion(hr); err != nil {
		t.Fatal(err)
	}
	x = m.HostSMC(rmm.RMIRttReadEntry, a.RD, WindowIPA, 3)
	if x[0] != rmm.RMISuccess || x[2] != rmm.RTTEStateUnassigned || x[4] != rmm.RIPASDestroyed {
		t.Errorf("entry after MEMBER_REMOVE: %#x", x)
	}
	expectRMI(t, "RTT_DESTROY after teardown", m.HostSMC(rmm.RMIRttDestroy, a.RD, WindowIPA, 3), rmm.RMISuccess, 0)
	for _, g := range hr.Granules {
		expectRMI(t, "UNDELEGATE after teardown", m.HostSMC(rmm.RMIGranuleUndelegate, g), rmm.RMISuccess, 0)
		if err := m.HostRead(g, buf); err != nil || bytes.Contains(buf, secret[:8]) || !bytes.Equal(buf, make([]byte, rmm.GranuleSize)) {
			t.Errorf("granule %#x after teardown: %v, zero %v", g, err, bytes.Equal(buf, make([]byte, rmm.GranuleSize)))
		}
	}
}

// Access code that escapes the region, cannot be shown to terminate, or is
// malformed is refused at load; code changed in realm memory after the load
// is not what runs.
func TestAttackAccessCode(t *testing.T) {
	w := newWorld(t)
	var sr uint64
	ring := Ring{Slots: 1, SlotSize: 64}
	size := uint64(ring.Granules()) * rmm.GranuleSize
	load := func(cpu emulator.RealmCPU, img []byte) (Code, error) { return LoadCode(cpu, sr, codeIPA, img) }
	reason := func(err error) (accesscode.Reason, int64) {
		var e *RSIError
		if !errors.As(err, &e) || e.Status != rmm.RSIErrorInput {
			return 0, 0
		}
		return accesscode.Reason(e.X1), int64(e.X2)
	}
	a := w.realm(func(cpu emulator.RealmCPU) {
		if _, err := Attach(cpu, sr, 0); err != nil {
			t.Error(err)
			return
		}
		longLoop := (&accesscode.Image{Code: []accesscode.Insn{{Op: accesscode.OpLOOP, A: 9, B: 2, Imm: 65536},
			{Op: accesscode.OpLOOP, A: 10, B: 1, Imm: 65536}, {Op: accesscode.OpEXIT}}}).Encode()
		for _, tc := range []struct {
			name   string
			img    []byte
			reason accesscode.Reason
			pc     int64
		}{
			{"escape past the region", asmT(t, "ldr8 r1, ["+itoa(size)+"]"), accesscode.ReasonBounds, 0},
			{"escape through a loaded offset", asmT(t, "ldr8 r1, [0]\nstr8 r1, [r1]"), accesscode.ReasonBounds, 1},
			{"loop forever (backward jump)", (&accesscode.Image{Code: []accesscode.Insn{{Op: accesscode.OpEXIT},
				{Op: accesscode.OpJMP, Imm: 0xFFFFFFFE}}}).Encode(), accesscode.ReasonJump, 1},
			{"2^32 iterations", longLoop, accesscode.ReasonUnbounded, -1},
			{"bad opcode", (&accesscode.Image{Code: []accesscode.Insn{{Op: 0xEE}}}).Encode(), accesscode.ReasonOpcode, 0},
		} {
			_, err := load(cpu, tc.img)
			if r, pc := reason(err); r != tc.reason || pc != tc.pc {
				t.Errorf("%s: %v (reason %v at %d, want %v at %d)", tc.name, err, r, pc, tc.reason, tc.pc)
			}
		}
		_, err := LoadCode(cpu, sr, codeIPA, make([]byte, accesscode.MaxImage+1))
		expect(t, "image larger than a granule", err, rmm.RSIErrorInput)

		// Load "store r0 at 0", then change the realm's copy to "store r0
		// at 8": the RMM runs what it checked.
		orig := asmT(t, "str8 r0, [0]")
		code, err := load(cpu, orig)
		if err != nil {
			t.Error(err)
			return
		}
		if code.Hash != sha256.Sum256(orig) {
			t.Errorf("hash %x, want SHA-256 of the image", code.Hash)
		}
		if err := cpu.Write(codeIPA, asmT(t, "str8 r0, [8]")); err != nil {
			t.Error(err)
		}
		if _, err := Invoke(cpu, code, 0, 0, 0xC0FFEE); err != nil {
			t.Error(err)
		}
		peek, _ := load(cpu, asmT(t, "ldr8 r0, [0]\nldr8 r1, [8]"))
		res, err := Invoke(cpu, peek, 0, 0)
		if err != nil || res.Regs[0] != 0xC0FFEE || res.Regs[1] != 0 {
			t.Errorf("after modifying the realm's copy: %v %#x", err, res.Regs)
		}
	})
	b := w.realm(func(cpu emulator.RealmCPU) {})
	sr = w.region(RegionSpec{Granules: ring.Granules(), Flags: rmm.ShareFlagMediated}, a, b).SR
	w.run(nil, a)
}

func asmT(t *testing.T, src string) []byte {
	t.Helper()
	b, err := accesscode.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}

// A member that left, was removed, or whose region was destroyed can do
// nothing more with it.
func TestAttackAfterLeaving(t *testing.T) {
	w := newWorld(t)
	var hr *HostRegion
	const (
		callRemoveB = 1
		callDestroy = 2
	)
	a := w.realm(func(cpu emulator.RealmCPU) {
		if !putSecret(t, cpu, hr.SR, testRing) {
			return
		}
		if err := Detach(cpu, hr.SR); err != nil {
			t.Error(err)
		}
		_, err := Invoke(cpu, Code{Region: hr.SR}, scratchIPA, 0)
		expect(t, "invoke after detach", err, rmm.RSIErrorState)
		_, err = Acquire(cpu, hr.SR, false)
		expect(t, "lease after detach", err, rmm.RSIErrorState)
		_, err = LoadCode(cpu, hr.SR, codeIPA, asmT(t, "exit"))
		expect(t, "load after detach", err, rmm.RSIErrorState)
		_, err = Attach(cpu, hr.SR, 0)
		expect(t, "attach again", err, rmm.RSIErrorState)
		if err := cpu.Read(WindowIPA, make([]byte, 8)); !isSEA(err) {
			t.Errorf("read after detach: %v", err)
		}
	})
	b := w.realm(func(cpu emulator.RealmCPU) {
		if _, err := Attach(cpu, hr.SR, 0); err != nil {
			t.Error(err)
			return
		}
		img, _ := testRing.Get()
		get, err := LoadCode(cpu, hr.SR, codeIPA, img)
		if err != nil {
			t.Error(err)
			return
		}
		hostCall(t, cpu, callRemoveB)
		_, err = Invoke(cpu, get, scratchIPA, uint64(testRing.SlotSize))
		expect(t, "invoke after removal", err, rmm.RSIErrorState)
		_, err = Acquire(cpu, hr.SR, true)
		expect(t, "lease after removal", err, rmm.RSIErrorState)
		hostCall(t, cpu, callDestroy)
		_, err = Invoke(cpu, get, scratchIPA, uint64(testRing.SlotSize))
		expect(t, "invoke after teardown", err, rmm.RSIErrorInput)
		_, err = Attach(cpu, hr.SR, 0)
		expect(t, "attach after teardown", err, rmm.RSIErrorInput)
	})
	hr = w.region(RegionSpec{Granules: testRing.Granules(), Flags: rmm.ShareFlagMediated | rmm.ShareFlagLease, LeaseTicks: 4}, a, b)
	w.run(nil, a)
	w.run(func(_ int, imm uint16, gprs [31]uint64) [31]uint64 {
		switch imm {
		case callRemoveB:
			expectRMI(t, "MEMBER_REMOVE B", w.m.HostSMC(rmm.RMIShareMemberRemove, hr.SR, b.RD), rmm.RMISuccess, 0)
		case callDestroy:
			expectRMI(t, "MEMBER_REMOVE A", w.m.HostSMC(rmm.RMIShareMemberRemove, hr.SR, a.RD), rmm.RMISuccess, 0)
			expectRMI(t, "REGION_DESTROY", w.m.HostSMC(rmm.RMIShareRegionDestroy, hr.SR), rmm.RMISuccess, 0)
		}
		return gprs
	}, b)
}

// hostCall hands control to the host with RSI_HOST_CALL(imm).
func hostCall(t *testing.T, cpu emulator.RealmCPU, imm uint16) [31]uint64 {
	t.Helper()
	var b [rmm.HostCallSize]byte
	binary.LittleEndian.PutUint16(b[:], imm)
	if err := cpu.Write(hostCallIPA, b[:]); err != nil {
		t.Error(err)
	}
	if x := cpu.SMC(rmm.RSIHostCall, hostCallIPA); x[0] != rmm.RSISuccess {
		t.Errorf("host call: %#x", x[0])
	}
	if err := cpu.Read(hostCallIPA, b[:]); err != nil {
		t.Error(err)
	}
	var gprs [31]uint64
	for i := range gprs {
		gprs[i] = binary.LittleEndian.Uint64(b[rmm.HostCallGPRs+8*i:])
	}
	return gprs
}

// A lease holder that keeps the region while another member waits loses it
// after lease_ticks refused attempts: its mapping is gone, its next write
// aborts, its release says "revoked", and the next holder learns that the
// region may be torn.
func TestAttackLeaseOverrun(t *testing.T) {
	w := newWorld(t)
	const ticks = 3
	var sr uint64
	a := w.realm(func(cpu emulator.RealmCPU) {
		reg, err := Attach(cpu, sr, 0)
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := Acquire(cpu, sr, true); err != nil {
			t.Error(err)
			return
		}
		if err := cpu.Write(reg.IPA, []byte("A holds it")); err != nil {
			t.Error(err)
		}
		hostCall(t, cpu, 1) // ... and keeps it while B runs
		if err := cpu.Write(reg.IPA, []byte("A again!!!")); !isSEA(err) {
			t.Errorf("write after the lease was revoked: %v", err)
		}
		err = Release(cpu, sr)
		var e *RSIError
		if !errors.As(err, &e) || e.Status != rmm.RSIErrorState || e.X1 != 1 {
			t.Errorf("release of a revoked lease: %v", err)
		}
	})
	b := w.realm(func(cpu emulator.RealmCPU) {
		reg, err := Attach(cpu, sr, 0)
		if err != nil {
			t.Error(err)
			return
		}
		for i := range ticks {
			if _, err := Acquire(cpu, sr, true); !errors.Is(err, ErrBusy) {
				t.Errorf("attempt %d while A holds the lease: %v", i, err)
			}
		}
		torn, err := Acquire(cpu, sr, true)
		if err != nil || !torn {
			t.Errorf("attempt after %d ticks: %v, torn %v", ticks, err, torn)
			return
		}
		buf := make([]byte, 10)
		if err := cpu.Read(reg.IPA, buf); err != nil || string(buf) != "A holds it" {
			t.Errorf("B sees %q, %v", buf, err)
		}
		if err := cpu.Write(reg.IPA, []byte("B now")); err != nil {
			t.Error(err)
		}
		if err := Release(cpu, sr); err != nil {
			t.Error(err)
		}
		if torn, err := Acquire(cpu, sr, false); err != nil || torn {
			t.Errorf("after B's clean release: torn %v, %v", torn, err)
		}
	})
	sr = w.region(RegionSpec{Granules: 1, Flags: rmm.ShareFlagLease, LeaseTicks: ticks}, a, b).SR
	w.run(func(int, uint16, [31]uint64) [31]uint64 {
		w.run(nil, b)
		return [31]uint64{}
	}, a)
}
