package realm

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"

	"github.com/ccakit/cca/token"
)

// This file holds the measurement algorithms of RMM 1.0 (Arm DEN0137
// 1.0-REL0, Realm measurements: Realm Initial Measurement and the
// RmmMeasurementDescriptorData/Rec/Ripas types; TF-RMM tag
// rmm-spec-v1.0-rel0 lib/measurement/src/{rim.c,measurement.c,
// measurement_descs.h}). The emulated RMM extends a realm's RIM and REMs
// with exactly these functions, and RIM prediction replays them, so that
// a predicted RIM and an emulated one cannot drift apart.

// HashAlgorithm is the RMI/RSI encoding of a realm's measurement algorithm
// (Arm DEN0137 1.0-REL0, RmiHashAlgorithm and RsiHashAlgorithm types;
// TF-RMM rmm-spec-v1.0-rel0 lib/smc/include/smc-rmi.h RMI_HASH_SHA_256/512).
type HashAlgorithm uint8

const (
	HashSHA256 HashAlgorithm = 0
	HashSHA512 HashAlgorithm = 1
)

// MeasurementSlotSize is the size of a measurement slot: RIM and REMs are
// kept in 64 bytes; a SHA-256 value occupies the first 32, the rest zero.
const MeasurementSlotSize = 64

// The granule: the unit in which the RMM tracks and measures memory, and
// the size of RmiRealmParams and RmiRecParams (Arm DEN0137 1.0-REL0: a
// granule is 4KB, and each of those structures occupies one). This is its
// one definition: the emulated GPT (configured with the same physical
// granule size, DEN0129 GPCCR_EL3.PGS = 4KB) and the emulated RMM refer to
// it.
const (
	GranuleShift = 12
	GranuleSize  = 1 << GranuleShift
)

// Measurement descriptor types and size (measurement_descs.h).
const (
	descTypeData  = 0
	descTypeRec   = 1
	descTypeRIPAS = 2
	descSize      = 0x100
)

// DATA_CREATE flags (Arm DEN0137 1.0-REL0, RmiDataFlags type; TF-RMM
// rmm-spec-v1.0-rel0 smc-rmi.h RMI_NO_MEASURE_CONTENT/RMI_MEASURE_CONTENT).
const (
	NoMeasureContent uint64 = 0
	MeasureContent   uint64 = 1
)

// Valid reports whether h is an encoding RMM 1.0 defines.
func (h HashAlgorithm) Valid() bool { return h == HashSHA256 || h == HashSHA512 }

// Size is the digest size: 32 or 64.
func (h HashAlgorithm) Size() int {
	if h == HashSHA512 {
		return 64
	}
	return 32
}

// Name is the IANA name the realm token carries in claim 44236.
func (h HashAlgorithm) Name() string {
	if h == HashSHA512 {
		return token.SHA512
	}
	return token.SHA256
}

func (h HashAlgorithm) String() string {
	if !h.Valid() {
		return fmt.Sprintf("invalid hash algorithm %d", uint8(h))
	}
	return h.Name()
}

// HashAlgorithmByName maps "sha-256" / "sha-512" to the RMI encoding.
func HashAlgorithmByName(name string) (HashAlgorithm, error) {
	switch name {
	case token.SHA256:
		return HashSHA256, nil
	case token.SHA512:
		return HashSHA512, nil
	}
	return 0, fmt.Errorf("%w: realm hash algorithm %q (want %q or %q)", token.ErrAlgorithm, name, token.SHA256, token.SHA512)
}

// Measurement is one measurement slot.
type Measurement [MeasurementSlotSize]byte

// Value returns the digest part of the slot for the algorithm.
func (m *Measurement) Value(h HashAlgorithm) []byte { return m[:h.Size()] }

// digestInto hashes data with h into the slot, zeroing the unused tail.
// The one-shot sums keep every extension free of allocations (a RIM grows
// by one descriptor per 4 KB of realm content).
func (m *Measurement) digestInto(h HashAlgorithm, data []byte) {
	*m = Measurement{}
	if h == HashSHA512 {
		s := sha512.Sum512(data)
		copy(m[:], s[:])
		return
	}
	s := sha256.Sum256(data)
	copy(m[:], s[:])
}

// RealmParams are the fields of RmiRealmParams that the RIM covers
// (rim.c measurement_realm_params_measure): RPV, VMID and the RTT fields are
// not measured.
type RealmParams struct {
	Flags      uint64
	S2SZ       uint32
	SVEVL      uint32
	NumBPS     uint32
	NumWPS     uint32
	PMUNumCtrs uint32
	HashAlgo   HashAlgorithm
}

// RmiRealmParams offsets of the measured fields (Arm DEN0137 1.0-REL0,
// RmiRealmParams type; TF-RMM rmm-spec-v1.0-rel0 smc-rmi.h
// struct rmi_realm_params).
const (
	realmParamsFlags      = 0x000
	realmParamsS2SZ       = 0x008
	realmParamsSVEVL      = 0x010
	realmParamsNumBPS     = 0x018
	realmParamsNumWPS     = 0x020
	realmParamsPMUNumCtrs = 0x028
	realmParamsHashAlgo   = 0x030
)

// InitialRIM is the RIM after RMI_REALM_CREATE: the hash of a zero-filled
// 4096-byte RmiRealmParams holding only the measured fields.
func InitialRIM(p RealmParams) Measurement {
	var buf [GranuleSize]byte
	le := binary.LittleEndian
	le.PutUint64(buf[realmParamsFlags:], p.Flags)
	le.PutUint32(buf[realmParamsS2SZ:], p.S2SZ)
	le.PutUint32(buf[realmParamsSVEVL:], p.SVEVL)
	le.PutUint32(buf[realmParamsNumBPS:], p.NumBPS)
	le.PutUint32(buf[realmParamsNumWPS:], p.NumWPS)
	le.PutUint32(buf[realmParamsPMUNumCtrs:], p.PMUNumCtrs)
	buf[realmParamsHashAlgo] = byte(p.HashAlgo)
	var m Measurement
	m.digestInto(p.HashAlgo, buf[:])
	return m
}

// RECFlagRunnable is the RUNNABLE flag of RmiRecParams.flags (Arm DEN0137
// 1.0-REL0, RmiRecCreateFlags type; TF-RMM rmm-spec-v1.0-rel0 smc-rmi.h
// REC_PARAMS_FLAG_RUNNABLE), which the RIM measures: its one definition,
// which the emulated RMM refers to.
const RECFlagRunnable uint64 = 1

// RecParams are the fields of RmiRecParams that the RIM covers (rim.c
// measurement_rec_params_measure): flags, pc and gprs[0..7]; mpidr and the
// auxiliary granules are not measured.
type RecParams struct {
	Flags uint64
	PC    uint64
	GPRs  [8]uint64
}

// RmiRecParams offsets of the measured fields (Arm DEN0137 1.0-REL0,
// RmiRecParams type; TF-RMM rmm-spec-v1.0-rel0 smc-rmi.h
// struct rmi_rec_params).
const (
	recParamsFlags = 0x000
	recParamsPC    = 0x200
	recParamsGPRs  = 0x300
)

// descriptor returns a zeroed 256-byte measurement descriptor with its
// type, length and the current RIM filled in (measurement_descs.h: type
// u8 at 0x0, len u64 at 0x8, rim at 0x10; only the algorithm's digest size
// of the RIM is copied).
func (m *Measurement) descriptor(h HashAlgorithm, typ byte) [descSize]byte {
	var d [descSize]byte
	d[0] = typ
	binary.LittleEndian.PutUint64(d[0x08:], descSize)
	copy(d[0x10:0x50], m.Value(h))
	return d
}

// ExtendREC extends the RIM for RMI_REC_CREATE of a runnable REC (a REC
// without the RUNNABLE flag is not measured; the caller decides).
func (m *Measurement) ExtendREC(h HashAlgorithm, p RecParams) {
	var params [GranuleSize]byte
	le := binary.LittleEndian
	le.PutUint64(params[recParamsFlags:], p.Flags)
	le.PutUint64(params[recParamsPC:], p.PC)
	for i, r := range p.GPRs {
		le.PutUint64(params[recParamsGPRs+8*i:], r)
	}
	d := m.descriptor(h, descTypeRec)
	var content Measurement
	content.digestInto(h, params[:])
	copy(d[0x50:0x100], content[:]) // content at 0x50
	m.digestInto(h, d[:])
}

// ExtendData extends the RIM for RMI_DATA_CREATE of one granule at ipa. The
// content hash is included only when flags is MeasureContent; the flags
// value itself is always measured.
func (m *Measurement) ExtendData(h HashAlgorithm, ipa, flags uint64, granule []byte) {
	var content Measurement
	if flags == MeasureContent {
		content.digestInto(h, granule)
	}
	m.ExtendDataDigest(h, ipa, flags, content.Value(h))
}

// ExtendDataDigest is ExtendData for a caller that has hashed the granule
// itself with h (the emulated RMM hashes the content as it copies it):
// digest is that hash, h.Size() bytes, used only when flags is
// MeasureContent.
func (m *Measurement) ExtendDataDigest(h HashAlgorithm, ipa, flags uint64, digest []byte) {
	d := m.descriptor(h, descTypeData)
	le := binary.LittleEndian
	le.PutUint64(d[0x50:], ipa)
	le.PutUint64(d[0x58:], flags)
	if flags == MeasureContent {
		// The content field (0x60, 0xA0 bytes) holds the digest, zero
		// beyond its size.
		copy(d[0x60:0x100], digest)
	}
	m.digestInto(h, d[:])
}

// ExtendRIPAS extends the RIM for one RTT entry [base, top) that
// RMI_RTT_INIT_RIPAS sets to RAM.
func (m *Measurement) ExtendRIPAS(h HashAlgorithm, base, top uint64) {
	d := m.descriptor(h, descTypeRIPAS)
	le := binary.LittleEndian
	le.PutUint64(d[0x50:], base)
	le.PutUint64(d[0x58:], top)
	m.digestInto(h, d[:])
}

// ExtendREM is RSI_MEASUREMENT_EXTEND: REM = H(REM || value), with REM the
// algorithm's digest size of the slot and value the size bytes the realm
// gave (Arm DEN0137 1.0-REL0, RSI_MEASUREMENT_EXTEND command; TF-RMM
// rmm-spec-v1.0-rel0 lib/measurement/src/measurement.c do_extend). The RSI
// handler rejects sizes above 64 before calling this.
func (m *Measurement) ExtendREM(h HashAlgorithm, value []byte) {
	// REM || value fits a stack buffer for the sizes RSI allows (≤ 64).
	var buf [2 * MeasurementSlotSize]byte
	in := append(append(buf[:0], m.Value(h)...), value...)
	m.digestInto(h, in)
}
