package rmm

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/ccakit/cca/realm"
)

// otherRealms adds to w an ACTIVE realm and a SYSTEM_OFF one, each with an
// L3 RTT at [0, 2 MB).
func (w *rttWorld) otherRealms() (active, off uint64) {
	w.t.Helper()
	active, off = w.newRealm(2), w.newRealm(3)
	w.rttsDownTo(active, 0, 3)
	w.rttsDownTo(off, 0, 3)
	w.wantStatus("activate", w.smc(RMIRealmActivate, active), RMISuccess, 0)
	w.systemOff(off)
	return active, off
}

func TestDataCreate(t *testing.T) {
	w := newRTTWorld(t)
	rd, src := w.rd, w.src
	active, off := w.otherRealms()
	const ipa = 6 * szL3 // UNASSIGNED EMPTY in l3a
	data := w.delegated()
	fresh := func(rd, ipa, src, flags uint64) func() []uint64 {
		return func() []uint64 { return []uint64{rd, w.delegated(), ipa, src, flags} }
	}
	withData := func(data uint64) func() []uint64 { return fixedArgs(rd, data, ipa, src, 1) }
	withSrc := func(src uint64) func() []uint64 { return fresh(rd, ipa, src, 1) }
	tests := []rmiStimulus{
		{msg: "src_align", args: withSrc(src + 8), status: RMIErrorInput},
		{msg: "src_bound", args: withSrc(outsidePA), status: RMIErrorInput},
		{msg: "src_bound", args: withSrc(tRMMBase), status: RMIErrorInput},
		{msg: "src_pas", args: func() []uint64 { return []uint64{rd, w.delegated(), ipa, w.delegated(), 1} }, status: RMIErrorInput},
		{msg: "src_pas", args: withSrc(rd), status: RMIErrorInput},
		{msg: "src_pas", args: withSrc(w.data5), status: RMIErrorInput},
		{msg: "data_align", args: func() []uint64 { return []uint64{rd, w.delegated() + 8, ipa, src, 1} }, status: RMIErrorInput},
		{msg: "data_bound", args: withData(outsidePA), status: RMIErrorInput},
		{msg: "data_bound", args: withData(tRMMBase), status: RMIErrorInput},
		{msg: "data_state", args: func() []uint64 { return []uint64{rd, w.alloc(), ipa, src, 1} }, status: RMIErrorInput},
		{msg: "data_state", args: withData(rd), status: RMIErrorInput},
		{msg: "data_state", args: withData(w.rec), status: RMIErrorInput},
		{msg: "data_state", args: withData(w.l3a), status: RMIErrorInput},
		{msg: "data_state", args: withData(w.data5), status: RMIErrorInput},
	}
	tests = append(tests, w.rdStimuli(rd, func(rd uint64) []uint64 { return []uint64{rd, w.delegated(), ipa, src, 1} })...)
	tests = append(tests, []rmiStimulus{
		{msg: "ipa_align", args: fresh(rd, ipa+8, src, 1), status: RMIErrorInput},
		{msg: "ipa_bound", args: fresh(rd, par40+2*szL3, src, 1), status: RMIErrorInput},
		{msg: "ipa_bound", args: fresh(rd, ipa40, src, 1), status: RMIErrorInput},
		{msg: "flags", args: fresh(rd, ipa, src, 2), status: RMIErrorInput},
		{msg: "flags", args: fresh(rd, ipa, src, 1<<63), status: RMIErrorInput},
		{msg: "realm_state", args: fresh(active, ipa, src, 1), status: RMIErrorRealm},
		{msg: "realm_state", args: fresh(off, ipa, src, 1), status: RMIErrorRealm},
		{msg: "rtt_walk", args: fresh(rd, szL1, src, 1), status: RMIErrorRtt, index: 1},
		{msg: "rtt_walk", args: fresh(rd, 2*szL2, src, 1), status: RMIErrorRtt, index: 2},
		{msg: "rtte_state", args: fresh(rd, w.ipaData5, src, 1), status: RMIErrorRtt, index: 3},
		{msg: "ipa_bound_compare_rtt_walk", args: fresh(rd, par40+szL1, src, 1), status: RMIErrorInput},
		{msg: "ipa_bound_compare_rtte_state", args: fresh(rd, w.ipaNSPage, src, 1), status: RMIErrorInput},
		{msg: "realm_state_compare_rtt_walk", args: fresh(active, szL1, src, 1), status: RMIErrorRealm},
		{msg: "realm_state_compare_rtte_state", args: fresh(active, 0, src, 1), status: RMIErrorRealm},
		{msg: "flags_compare_realm_state", args: fresh(active, ipa, src, 2), status: RMIErrorInput},
		{msg: "data_state_compare_rtte_state", args: fixedArgs(rd, w.data9, w.ipaData5, src, 1), status: RMIErrorInput},
		{msg: "src_pas_compare_realm_state", args: fresh(active, ipa, w.delegated(), 1), status: RMIErrorInput},
	}...)
	rim := w.r.realms[rd].rim
	tests = append(tests,
		rmiStimulus{msg: "success (MEASURE_CONTENT)", args: fixedArgs(rd, data, ipa, src, RMIMeasureContent), status: RMISuccess},
		rmiStimulus{msg: "success (NO_MEASURE_CONTENT)", args: fresh(rd, ipa+szL3, src, RMINoMeasureContent), status: RMISuccess},
	)
	w.runStimuli(t, RMIDataCreate, tests)

	// The entry, the copy in the Realm PAS, and the host locked out of it.
	if e := w.rttRead(rd, ipa, 3); e != (rtteOut{3, RTTEStateAssigned, data, RIPASRAM}) {
		t.Errorf("entry %+v", e)
	}
	got := make([]byte, GranuleSize)
	if err := w.r.realmRead(data, got); err != nil || !bytes.Equal(got, w.content) {
		t.Errorf("data granule does not hold src (err %v)", err)
	}
	pa, _, f := w.r.translate(w.r.realms[rd], ipa+0x123)
	if f != nil || pa != data+0x123 {
		t.Errorf("translate %#x %+v", pa, f)
	}
	if err := w.read(data, got); !isGPF(err) {
		t.Errorf("host read of a DATA granule: %v", err)
	}
	// The platform copy shares storage until a write (copy on write): a
	// host write to src afterwards does not reach the realm's granule, nor
	// a realm write the host's.
	if err := w.write(src+0x40, []byte("host")); err != nil {
		t.Fatal(err)
	}
	if err := w.r.realmRead(data, got); err != nil || !bytes.Equal(got, w.content) {
		t.Errorf("a host write to src after DATA_CREATE changed the data granule (err %v)", err)
	}
	if err := w.r.realmWrite(data+0x80, []byte("realm")); err != nil {
		t.Fatal(err)
	}
	if err := w.read(src, got); err != nil || string(got[0x40:0x44]) != "host" || !bytes.Equal(got[0x80:0x85], w.content[0x80:0x85]) {
		t.Errorf("a realm write to its data granule reached src (err %v)", err)
	}
	if err := w.write(src, w.content); err != nil {
		t.Fatal(err)
	}
	w.wantStatus("undelegate DATA", w.smc(RMIGranuleUndelegate, data), RMIErrorInput, 0)

	// The RIM: one DATA descriptor per call, the content hashed only with
	// MEASURE_CONTENT; the flags value itself is always measured.
	rim.ExtendData(realm.HashSHA256, ipa, RMIMeasureContent, w.content)
	rim.ExtendData(realm.HashSHA256, ipa+szL3, RMINoMeasureContent, w.content)
	if w.r.realms[rd].rim != rim {
		t.Error("RIM after DATA_CREATE differs from the expected descriptors")
	}

	// Any RIPAS: DESTROYED and RAM entries become ASSIGNED RAM as well.
	w.wantStatus("DATA_DESTROY", w.smc(RMIDataDestroy, rd, w.ipaData9), RMISuccess, 0)
	w.wantStatus("INIT_RIPAS", w.smc(RMIRttInitRipas, rd, 10*szL3, 11*szL3), RMISuccess, 0)
	for _, at := range []uint64{w.ipaData9, 10 * szL3} {
		d := w.dataCreate(rd, at, src, RMINoMeasureContent)
		if e := w.rttRead(rd, at, 3); e != (rtteOut{3, RTTEStateAssigned, d, RIPASRAM}) {
			t.Errorf("%#x: %+v", at, e)
		}
	}
}

func TestDataCreateUnknown(t *testing.T) {
	w := newRTTWorld(t)
	rd := w.rd
	active, off := w.otherRealms()
	const ipa = 6 * szL3
	fresh := func(rd, ipa uint64) func() []uint64 {
		return func() []uint64 { return []uint64{rd, w.delegated(), ipa} }
	}
	withData := func(data uint64) func() []uint64 { return fixedArgs(rd, data, ipa) }
	tests := []rmiStimulus{
		{msg: "data_align", args: func() []uint64 { return []uint64{rd, w.delegated() + 8, ipa} }, status: RMIErrorInput},
		{msg: "data_bound", args: withData(outsidePA), status: RMIErrorInput},
		{msg: "data_bound", args: withData(tRMMBase), status: RMIErrorInput},
		{msg: "data_state", args: func() []uint64 { return []uint64{rd, w.alloc(), ipa} }, status: RMIErrorInput},
		{msg: "data_state", args: withData(rd), status: RMIErrorInput},
		{msg: "data_state", args: withData(w.rec), status: RMIErrorInput},
		{msg: "data_state", args: withData(w.l3a), status: RMIErrorInput},
		{msg: "data_state", args: withData(w.data5), status: RMIErrorInput},
	}
	tests = append(tests, w.rdStimuli(rd, func(rd uint64) []uint64 { return []uint64{rd, w.delegated(), ipa} })...)
	data := w.delegated()
	tests = append(tests, []rmiStimulus{
		{msg: "ipa_align", args: fresh(rd, ipa+8), status: RMIErrorInput},
		{msg: "ipa_bound", args: fresh(rd, par40+2*szL3), status: RMIErrorInput},
		{msg: "ipa_bound", args: fresh(rd, ipa40), status: RMIErrorInput},
		{msg: "rtt_walk", args: fresh(rd, szL1), status: RMIErrorRtt, index: 1},
		{msg: "rtt_walk", args: fresh(rd, 2*szL2), status: RMIErrorRtt, index: 2},
		{msg: "rtte_state", args: fresh(rd, w.ipaData5), status: RMIErrorRtt, index: 3},
		{msg: "ipa_bound_compare_rtt_walk", args: fresh(rd, par40+szL1), status: RMIErrorInput},
		{msg: "ipa_bound_compare_rtte_state", args: fresh(rd, w.ipaNSPage), status: RMIErrorInput},
		{msg: "data_state_compare_rtte_state", args: fixedArgs(rd, w.data9, w.ipaData5), status: RMIErrorInput},
		// No realm-state condition.
		{msg: "success (ACTIVE)", args: fresh(active, ipa), status: RMISuccess},
		{msg: "success (SYSTEM_OFF)", args: fresh(off, ipa), status: RMISuccess},
		{msg: "success", args: fixedArgs(rd, data, ipa), status: RMISuccess},
	}...)
	rim := w.r.realms[rd].rim
	w.runStimuli(t, RMIDataCreateUnknown, tests)

	// The RIPAS is kept: EMPTY stays EMPTY and does not translate; the
	// granule stays zero; nothing is measured.
	if e := w.rttRead(rd, ipa, 3); e != (rtteOut{3, RTTEStateAssigned, data, RIPASEmpty}) {
		t.Errorf("entry %+v", e)
	}
	if _, _, f := w.r.translate(w.r.realms[rd], ipa); f == nil {
		t.Error("ASSIGNED EMPTY translates")
	}
	got := make([]byte, GranuleSize)
	if err := w.r.realmRead(data, got); err != nil || !bytes.Equal(got, make([]byte, GranuleSize)) {
		t.Errorf("DATA_CREATE_UNKNOWN granule not zero (err %v)", err)
	}
	if w.r.realms[rd].rim != rim {
		t.Error("DATA_CREATE_UNKNOWN changed the RIM")
	}
	w.wantStatus("INIT_RIPAS", w.smc(RMIRttInitRipas, rd, 10*szL3, 11*szL3), RMISuccess, 0)
	ram := w.dataUnknown(rd, 10*szL3)
	if e := w.rttRead(rd, 10*szL3, 3); e != (rtteOut{3, RTTEStateAssigned, ram, RIPASRAM}) {
		t.Errorf("entry %+v", e)
	}
	if pa, _, f := w.r.translate(w.r.realms[rd], 10*szL3+8); f != nil || pa != ram+8 {
		t.Errorf("ASSIGNED RAM: %#x %+v", pa, f)
	}
}

func TestDataDestroy(t *testing.T) {
	w := newRTTWorld(t)
	rd := w.rd
	args := func(ipa uint64) func() []uint64 { return fixedArgs(rd, ipa) }
	tests := append(w.rdStimuli(rd, func(rd uint64) []uint64 { return []uint64{rd, w.ipaData5} }),
		rmiStimulus{msg: "ipa_align", args: args(w.ipaData5 + 8), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_bound", args: args(par40 + szL3), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_bound", args: args(ipa40), status: RMIErrorInput},
		// X2 is top: the next live entry of the RTT the walk stopped in.
		rmiStimulus{msg: "rtt_walk", args: args(szL1), status: RMIErrorRtt, index: 1, out: []uint64{0, par40}},
		rmiStimulus{msg: "rtt_walk", args: args(2 * szL2), status: RMIErrorRtt, index: 2, out: []uint64{0, szL1}},
		rmiStimulus{msg: "rtte_state", args: args(6 * szL3), status: RMIErrorRtt, index: 3, out: []uint64{0, w.ipaData9}},
		rmiStimulus{msg: "rtte_state", args: args(10 * szL3), status: RMIErrorRtt, index: 3, out: []uint64{0, szL2}},
		rmiStimulus{msg: "ipa_bound_compare_rtt_walk", args: args(par40 + szL1), status: RMIErrorInput},
		rmiStimulus{msg: "ipa_bound_compare_rtte_state", args: args(w.ipaNSPage), status: RMIErrorInput},
		// X4 carries no result: the host gets its own back (SMCCC v1.2;
		// TF-RMM rel0 runtime/core/aarch64/entry.S rmm_handler).
		rmiStimulus{msg: "rtte_state, X4 preserved", args: fixedArgs(rd, 10*szL3, 0, 0xC0FFEE), status: RMIErrorRtt, index: 3, out: []uint64{0, szL2, 0, 0xC0FFEE}},
		rmiStimulus{msg: "ipa_bound, X4 preserved", args: fixedArgs(rd, ipa40, 0, 0xC0FFEE), status: RMIErrorInput, out: []uint64{0, 0, 0, 0xC0FFEE}},
		rmiStimulus{msg: "success", args: args(w.ipaData5), status: RMISuccess, out: []uint64{w.data5, w.ipaData9}},
	)
	w.runStimuli(t, RMIDataDestroy, tests)

	// ASSIGNED RAM → UNASSIGNED DESTROYED; the granule is zero and
	// DELEGATED: it undelegates, and the host reads zeros.
	if e := w.rttRead(rd, w.ipaData5, 3); e != (rtteOut{3, RTTEStateUnassigned, 0, RIPASDestroyed}) {
		t.Errorf("after DATA_DESTROY: %+v", e)
	}
	w.wantStatus("undelegate", w.smc(RMIGranuleUndelegate, w.data5), RMISuccess, 0)
	got := make([]byte, GranuleSize)
	if err := w.read(w.data5, got); err != nil || !bytes.Equal(got, make([]byte, GranuleSize)) {
		t.Errorf("undelegated data granule not zero (err %v)", err)
	}

	// ASSIGNED EMPTY → UNASSIGNED EMPTY; ASSIGNED DESTROYED → UNASSIGNED
	// DESTROYED; allowed once ACTIVE.
	empty := w.dataUnknown(rd, 10*szL3)
	destroyed := w.dataUnknown(rd, w.ipaData5)
	w.wantStatus("activate", w.smc(RMIRealmActivate, rd), RMISuccess, 0)
	for _, tc := range []struct {
		ipa, data uint64
		ripas     uint64
		top       uint64
	}{
		{10 * szL3, empty, RIPASEmpty, szL2},
		{w.ipaData5, destroyed, RIPASDestroyed, w.ipaData9},
		{w.ipaData9, w.data9, RIPASDestroyed, szL2},
	} {
		x := w.wantStatus("DATA_DESTROY", w.smc(RMIDataDestroy, rd, tc.ipa), RMISuccess, 0)
		if x[1] != tc.data || x[2] != tc.top {
			t.Errorf("DATA_DESTROY %#x: X1 %#x X2 %#x, want %#x %#x", tc.ipa, x[1], x[2], tc.data, tc.top)
		}
		if e := w.rttRead(rd, tc.ipa, 3); e != (rtteOut{3, RTTEStateUnassigned, 0, tc.ripas}) {
			t.Errorf("%#x after DATA_DESTROY: %+v", tc.ipa, e)
		}
	}
	// With no DATA left, l3a folds and the L2 RTT can go.
	w.wantStatus("fold", w.smc(RMIRttFold, rd, 0, 3), RMIErrorRtt, 3) // RIPAS differs
	w.wantStatus("RTT_DESTROY l3a", w.smc(RMIRttDestroy, rd, 0, 3), RMISuccess, 0)
}

// TestDataCreateWalkAfterRTTChange: DATA_CREATE remembers its descent to a
// level-3 RTT (rtt.go l3Walk); once that RTT is destroyed, the next
// DATA_CREATE in its block must walk again and stop at level 2, and after a
// new RTT is created there, land in the new RTT, not the old one.
func TestDataCreateWalkAfterRTTChange(t *testing.T) {
	w := newRTTWorld(t)
	rd := w.rd
	const blk = 4 * szL2
	old := w.rttCreate(rd, blk, 3)
	w.dataCreate(rd, blk, w.src, RMIMeasureContent)
	w.wantStatus("DATA_DESTROY", w.smc(RMIDataDestroy, rd, blk), RMISuccess, 0)
	w.wantStatus("RTT_DESTROY", w.smc(RMIRttDestroy, rd, blk, 3), RMISuccess, 0)
	w.wantStatus("DATA_CREATE without the L3 RTT", w.smc(RMIDataCreate, rd, w.delegated(), blk+szL3, w.src, RMIMeasureContent), RMIErrorRtt, 2)
	// The old RTT granule, delegated again, comes back as the new RTT of
	// another block; a fresh one maps blk.
	w.wantStatus("RTT_CREATE with the old RTT", w.smc(RMIRttCreate, rd, old, 5*szL2, 3), RMISuccess, 0)
	fresh := w.rttCreate(rd, blk, 3)
	data := w.dataCreate(rd, blk+szL3, w.src, RMIMeasureContent)
	if e := w.rttRead(rd, blk+szL3, 3); e.walkLevel != 3 || e.desc&rtteAddrMask != data {
		t.Fatalf("READ_ENTRY after DATA_CREATE: %+v, want level 3 mapping %#x (new RTT %#x)", e, data, fresh)
	}
	if e := w.rttRead(rd, 5*szL2+szL3, 3); e.state != RTTEStateUnassigned {
		t.Fatalf("the other block's entry changed: %+v", e)
	}
	w.checkRMMInvariants()
}

// TestDataCreateRIM: the RIM after DATA_CREATE with and without
// MEASURE_CONTENT, for both algorithms, against DATA measurement
// descriptors built here from the standard library alone (Arm DEN0137
// 1.0-REL0 A7.1.1; TF-RMM rmm-spec-v1.0-rel0 measurement_descs.h: type at
// 0x0, len at 0x8, RIM at 0x10, ipa at 0x50, flags at 0x58, content hash at
// 0x60): the emulated RMM hashes the content as the copy streams it.
func TestDataCreateRIM(t *testing.T) {
	for _, alg := range []realm.HashAlgorithm{realm.HashSHA256, realm.HashSHA512} {
		t.Run(alg.String(), func(t *testing.T) {
			h := newHost(t)
			p := h.realmParams(h.contiguousDelegated(2), 1)
			p[RealmParamsHashAlgo] = uint64(alg)
			rd := h.delegated()
			h.wantStatus("REALM_CREATE", h.smc(RMIRealmCreate, rd, h.params(p)), RMISuccess, 0)
			content := bytes.Repeat([]byte("streamed into the realm "), GranuleSize/24+1)[:GranuleSize]
			src := h.nsWith(content)
			want := confRIMInit(p)
			for _, c := range []struct{ ipa, flags uint64 }{{0, RMIMeasureContent}, {szL3, RMINoMeasureContent}, {7 * szL3, RMIMeasureContent}} {
				h.dataCreate(rd, c.ipa, src, c.flags)
				desc := make([]byte, 0x100)
				binary.LittleEndian.PutUint64(desc[0x08:], 0x100)
				copy(desc[0x10:], want[:alg.Size()])
				binary.LittleEndian.PutUint64(desc[0x50:], c.ipa)
				binary.LittleEndian.PutUint64(desc[0x58:], c.flags)
				if c.flags == RMIMeasureContent {
					d := confDigest(alg, content)
					copy(desc[0x60:], d[:alg.Size()])
				}
				want = confDigest(alg, desc)
				if got := h.r.realms[rd].rim; got != want {
					t.Fatalf("RIM after DATA_CREATE at %#x (flags %d): %x, want %x", c.ipa, c.flags, got, want)
				}
			}
		})
	}
}
