package rmm

import (
	"encoding/binary"
	"testing"

	"github.com/ccakit/cca/emulator/rmm/accesscode"
)

// FuzzShareRSI runs realm software that issues fuzz-chosen sharing RSI
// calls (attach, load, invoke, leases, detach) and direct accesses to the
// region, with fuzz-chosen registers and code images, on a member of a
// region shared with another realm. Nothing may panic, and afterwards the
// share bookkeeping, the granules and the RTTs must agree.
func FuzzShareRSI(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 2, 3, 4, 5, 6})
	f.Add([]byte{0, 0, 2, 1, 1, 3, 0, 0, 4, 1, 5, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newShareHost(t)
		in := &fuzzInput{b: data}
		const ram = 2<<30 + 2<<20 // RIPAS RAM, backed on demand
		good, err := accesscode.Assemble(".arg 64\nldr8 r5, [0]\naddi r5, r5, 1\nstr8 r5, [0]\njgti r4, 64, e\nmovi r6, 8\nmovi r7, 0\ncpin r6, r7, r4\ne: exit")
		if err != nil {
			t.Fatal(err)
		}
		var sr uint64
		fids := []uint64{RSIShareAttach, RSIShareDetach, RSIShareCodeLoad, RSIShareInvoke, RSIShareLeaseAcquire, RSIShareLeaseRelease, RSIShareIPAQuery}
		h.r.cfg.Programs = func(uint64) (Program, bool) {
			return func(cpu RealmCPU) {
				ipas := []uint64{0, shareIPA, shareIPA + 8, ram, ram + 0x10, 1 << 39, 1<<39 - 8}
				for len(in.b) > 0 {
					op := int(in.byte()) % (len(fids) + 2)
					switch op {
					case len(fids): // direct access to the region
						buf := make([]byte, 1+int(in.byte())%64)
						ipa := shareIPA + uint64(in.byte())*64
						if in.byte()%2 == 0 {
							_ = cpu.Read(ipa, buf)
						} else {
							_ = cpu.Write(ipa, buf)
						}
						continue
					case len(fids) + 1: // a code image in memory: a good one or fuzz bytes
						img := good
						if in.byte()%2 == 0 {
							img = in.b[:min(len(in.b), int(in.byte())+1)]
						}
						_ = cpu.Write(ram, img)
						continue
					}
					args := make([]uint64, 8)
					for i := range args {
						switch in.byte() % 6 {
						case 0:
							args[i] = sr
						case 1:
							args[i] = ipas[int(in.byte())%len(ipas)]
						case 2:
							args[i] = uint64(in.byte() % 10) // handles, access, small lengths
						case 3:
							args[i] = uint64(len(good))
						case 4:
							args[i] = []uint64{64, 4096, 4097, 1 << 20}[in.byte()%4]
						default:
							args[i] = in.u64()
						}
					}
					cpu.SMC(fids[op], args...)
				}
			}, true
		}
		var rds, recs []uint64
		for v := range uint64(2) {
			rd := h.newRealm(1 + v)
			h.ramAt(rd, 2<<30)
			h.rttsDownTo(rd, shareIPA, maxLevel)
			recs = append(recs, h.newREC(rd, 0, 0x1000))
			h.wantStatus("REALM_ACTIVATE", h.smc(RMIRealmActivate, rd), RMISuccess, 0)
			rds = append(rds, rd)
		}
		sr, _ = h.newShare(2, ShareFlagMediated|ShareFlagLease, 2)
		for _, rd := range rds {
			h.wantStatus("MEMBER_ADD", h.smc(RMIShareMemberAdd, sr, rd, shareIPA), RMISuccess, 0)
		}
		h.wantStatus("REGION_ACTIVATE", h.smc(RMIShareRegionActivate, sr), RMISuccess, 0)
		run := h.alloc()
		for range 64 {
			if x := h.smc(RMIRecEnter, recs[0], run); x[0] != RMISuccess {
				break
			}
			reason, _, hp, _ := h.exit(run)
			var flags uint64
			if reason == ExitSync {
				ipa := hp >> 4 << 12
				flags = EntryFlagInjectSEA
				if ipa >= ram && ipa < ram+2<<20 {
					h.rttsDownTo(rds[0], ipa, maxLevel)
					if x := h.smc(RMIDataCreateUnknown, rds[0], h.delegated(), ipa); x[0] == RMISuccess {
						flags = 0
					}
				}
			}
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], flags)
			_ = h.write(run+RunEnterFlags, b[:])
			h.checkShareInvariants()
		}
		h.checkRMMInvariants()
		h.r.Close()
	})
}
