package rmm

import (
	"encoding/binary"

	"github.com/ccakit/cca/realm"
)

// The Realm Services Interface commands without a state machine of their
// own: RSI_VERSION, RSI_FEATURES, RSI_MEASUREMENT_READ/EXTEND and
// RSI_REALM_CONFIG (Arm DEN0137 1.0-REL0 B5.3; TF-RMM rel0
// runtime/rsi/{version,feature,realm_attest,config}.c). IPA_STATE_* are in
// rsi_memory.go, the attestation token in attest.go, PSCI in psci.go.

func init() {
	registerRSI(RSIVersion, rsiVersion)
	registerRSI(RSIFeatures, rsiFeatures)
	registerRSI(RSIMeasurementRead, rsiMeasurementRead)
	registerRSI(RSIMeasurementExtend, rsiMeasurementExtend)
	registerRSI(RSIRealmConfig, rsiRealmConfig)
}

// rsiReturn builds X0..X8 as the realm sees them after an RSI or PSCI call.
// X0..X3 are out (zero where out does not reach: TF-RMM's handle_realm_rsi
// starts from a zeroed result), and X4..X8 keep the caller's values, since
// SMCCC 1.1 requires registers from X4 that carry no result to be preserved
// (Arm DEN0028 SMCCC; TF-RMM runtime/core/exit.c); a result longer than four words overrides them.
func rsiReturn(x *[11]uint64, out ...uint64) [9]uint64 {
	var r [9]uint64
	copy(r[4:], x[3:8])
	copy(r[:], out)
	return r
}

// RSI_VERSION(requested) → lower, higher. As RMI_VERSION: ERROR_INPUT
// unless 1.0 is requested, and 1.0 as both bounds either way
// (Arm DEN0137 1.0-REL0 B5.3.10; TF-RMM runtime/rsi/system.c).
func rsiVersion(_ *realmCPU, x *[11]uint64) [9]uint64 {
	st := uint64(RSISuccess)
	if x[0] != ABIVersion {
		st = RSIErrorInput
	}
	return rsiReturn(x, st, ABIVersion, ABIVersion)
}

// RSI_FEATURES(index) → value: RMM 1.0 defines no RSI feature, so every
// index reads as zero (Arm DEN0137 1.0-REL0 B5.3.3).
func rsiFeatures(_ *realmCPU, x *[11]uint64) [9]uint64 {
	return rsiReturn(x, RSISuccess, 0)
}

// numMeasurements is MEASUREMENT_SLOT_NR: the RIM and four REMs.
const numMeasurements = 1 + realm.NumREMs

// measurement returns slot i: 0 is the RIM, 1..4 the REMs. The caller
// holds r.mu and has checked i.
func (rl *realmDesc) measurement(i uint64) *realm.Measurement {
	if i == 0 {
		return &rl.rim
	}
	return &rl.rems[i-1]
}

// RSI_MEASUREMENT_READ(index) → X1..X8: the 64-byte slot as little-endian
// words; a SHA-256 value leaves the upper four words zero. index_bound
// (index > 4) → ERROR_INPUT (Arm DEN0137 1.0-REL0 B5.3.8).
func rsiMeasurementRead(c *realmCPU, x *[11]uint64) [9]uint64 {
	idx := x[0]
	if idx >= numMeasurements {
		return rsiReturn(x, RSIErrorInput)
	}
	c.r.mu.Lock()
	m := *c.rl.measurement(idx)
	c.r.mu.Unlock()
	out := [9]uint64{RSISuccess}
	for i := range 8 {
		out[1+i] = binary.LittleEndian.Uint64(m[8*i:])
	}
	return out
}

// maxExtendSize is MAX_EXTENDED_SIZE: the value of MEASUREMENT_EXTEND is at
// most X3..X10.
const maxExtendSize = 64

// RSI_MEASUREMENT_EXTEND(index, size, X3..X10 value): REM[index] =
// H(REM[index] || value[:size]) with the realm's algorithm (Arm DEN0137 1.0-REL0 B5.3.7, TF-RMM
// measurement.c do_extend). index_bound (the RIM, or beyond the REMs), then
// size_bound (size > 64) → ERROR_INPUT.
func rsiMeasurementExtend(c *realmCPU, x *[11]uint64) [9]uint64 {
	idx, size := x[0], x[1]
	if idx == 0 || idx >= numMeasurements {
		return rsiReturn(x, RSIErrorInput)
	}
	if size > maxExtendSize {
		return rsiReturn(x, RSIErrorInput)
	}
	var v [maxExtendSize]byte
	for i := range 8 {
		binary.LittleEndian.PutUint64(v[8*i:], x[2+i])
	}
	c.r.mu.Lock()
	c.rl.measurement(idx).ExtendREM(c.rl.hash, v[:size])
	c.r.mu.Unlock()
	return rsiReturn(x, RSISuccess)
}

// RSI_REALM_CONFIG(ipa): write the RsiRealmConfig of REL0 into the granule
// at ipa: ipa_width (the realm's s2sz) at 0x0, hash_algo at 0x8 as a
// zero-extended u64 (TF-RMM writes a byte, Linux reads a u64), and the RPV
// at 0x200 (Arm DEN0137 1.0-REL0 B5.3.9, B5.4.5 RsiRealmConfig). The
// structure is the whole 4096-byte granule and its unused bits MBZ
// (B5.4.5), so everything else is written as zero; TF-RMM rel0 config.c
// writes only the three fields and leaves the rest of the granule as the
// realm had it.
//
// addr_align, addr_bound (not in the PAR) → ERROR_INPUT; a granule of
// RIPAS EMPTY → ERROR_INPUT; a RAM granule without a mapping makes the REC
// exit to the host with a stage-2 data abort, and the call is retried when
// the host enters it again (realmCPU.Write does both).
func rsiRealmConfig(c *realmCPU, x *[11]uint64) [9]uint64 {
	ipa := x[0]
	if !aligned(ipa) || ipa >= c.rl.parTop() {
		return rsiReturn(x, RSIErrorInput)
	}
	// s2sz, hash and RPV are fixed at REALM_CREATE: no lock needed.
	cfg := &c.config
	*cfg = [GranuleSize]byte{}
	binary.LittleEndian.PutUint64(cfg[RealmConfigIPAWidth:], uint64(c.rl.s2sz))
	binary.LittleEndian.PutUint64(cfg[RealmConfigHashAlgo:], uint64(c.rl.hash))
	copy(cfg[RealmConfigRPV:], c.rl.rpv[:])
	if err := c.Write(ipa, cfg[:]); err != nil {
		return rsiReturn(x, RSIErrorInput)
	}
	return rsiReturn(x, RSISuccess)
}
