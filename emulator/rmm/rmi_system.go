package rmm

import (
	"github.com/ccakit/cca/emulator/monitor"
	"github.com/ccakit/cca/realm"
)

func init() {
	registerRMI(RMIVersion, (*RMM).rmiVersion)
	registerRMI(RMIFeatures, (*RMM).rmiFeatures)
	registerRMI(RMIGranuleDelegate, (*RMM).rmiGranuleDelegate)
	registerRMI(RMIGranuleUndelegate, (*RMM).rmiGranuleUndelegate)
}

// RMI_VERSION(req) → lower, higher. TF-RMM 1.0 answers ERROR_INPUT for any
// requested version other than 1.0, and reports 1.0 as both bounds either
// way (Arm DEN0137 1.0-REL0 B4.3.23; TF-RMM runtime/rmi/system.c).
func (r *RMM) rmiVersion(a *[6]uint64) [5]uint64 {
	out := success(ABIVersion, ABIVersion)
	if a[0] != ABIVersion {
		out[0] = Pack(RMIErrorInput, 0)
	}
	return out
}

// RmiFeatureRegister0 of the emulated RMM (Arm DEN0137 1.0-REL0 B4.4 RmiFeatureRegister0).
const (
	featS2SZ         = 48 // [7:0] maximum IPA width
	featNumBPS       = 5  // [19:14] breakpoints minus one (FVP: 6)
	featNumWPS       = 3  // [25:20] watchpoints minus one (FVP: 4)
	featPMUEn        = 1  // [26]
	featPMUNumCtrs   = 31 // [31:27]
	featGICv3NumLRs  = 15 // [37:34] list registers minus one
	featMaxRecsOrder = 10 // [41:38] TF-RMM's 10-bit refcount

	minS2SZ = 32 // TF-RMM MIN_IPA_BITS
)

// FeatureRegister0 is the value RMI_FEATURES(0) returns: no LPA2, no SVE,
// both hash algorithms.
const FeatureRegister0 = featS2SZ |
	featNumBPS<<14 | featNumWPS<<20 | featPMUEn<<26 | featPMUNumCtrs<<27 |
	1<<32 | 1<<33 | // HASH_SHA_256, HASH_SHA_512
	featGICv3NumLRs<<34 | featMaxRecsOrder<<38

// RMI_FEATURES(index) → value; every index but 0 reads as zero (Arm DEN0137 1.0-REL0 B4.3.4).
func (r *RMM) rmiFeatures(a *[6]uint64) [5]uint64 {
	if a[0] != 0 {
		return success(0)
	}
	return success(FeatureRegister0)
}

// RMI_GRANULE_DELEGATE(addr): gran_align, gran_bound, gran_state (not
// UNDELEGATED), gran_gpt (EL3 refuses, e.g. the granule is Secure) → all
// ERROR_INPUT (Arm DEN0137 1.0-REL0 B4.3.5). On success the granule is DELEGATED,
// GPT REALM, and zero.
func (r *RMM) rmiGranuleDelegate(a *[6]uint64) [5]uint64 {
	addr := a[0]
	if !aligned(addr) {
		return status(RMIErrorInput)
	}
	g := r.granules.lookup(addr)
	if g == nil || g.state != granuleNS {
		return status(RMIErrorInput)
	}
	if x := r.plat.EL3(monitor.SMCRMMGTSIDelegate, addr); x[0] != monitor.ERMMOK {
		return status(RMIErrorInput)
	}
	// The RMM zeroes at delegate (TF-RMM runtime/rmi/granule.c; EL3 does not).
	mustPlatform(r.zero(addr))
	g.state = granuleDelegated
	return status(RMISuccess)
}

// RMI_GRANULE_UNDELEGATE(addr): gran_align, gran_bound, gran_state (not
// DELEGATED) → ERROR_INPUT. The granule is wiped before it goes back to the
// NS PAS. TF-RMM treats an EL3 failure here as fatal; the emulator's GPT
// cannot refuse a granule the RMM delegated.
func (r *RMM) rmiGranuleUndelegate(a *[6]uint64) [5]uint64 {
	addr := a[0]
	if !aligned(addr) {
		return status(RMIErrorInput)
	}
	g := r.granules.lookup(addr)
	if g == nil || g.state != granuleDelegated {
		return status(RMIErrorInput)
	}
	mustPlatform(r.zero(addr))
	if x := r.plat.EL3(monitor.SMCRMMGTSIUndelegate, addr); x[0] != monitor.ERMMOK {
		panic("rmm: EL3 refused to undelegate a delegated granule")
	}
	g.state = granuleNS
	return status(RMISuccess)
}

// measurementHash maps the RmiRealmParams hash_algo byte.
func measurementHash(v uint64) (realm.HashAlgorithm, bool) {
	h := realm.HashAlgorithm(v)
	return h, v <= 0xff && h.Valid()
}
