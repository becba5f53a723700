package rmm

import "github.com/ccakit/cca/emulator/gpt"

// s2Fault describes why a realm access could not be translated, so that
// the caller can act as the specification says: exit to the host, inject
// an abort, or report RSI_ERROR_INPUT.
type s2Fault struct {
	level int   // level of the RTT entry the walk stopped at
	state hipas // its HIPAS
	ripas uint8 // its RIPAS (meaningful for protected IPAs)
	// outside: the IPA is not below 2^s2sz.
	outside bool
}

// translate walks rl's RTTs for ipa the way the stage-2 MMU does. On
// success it returns the output PA and its PAS: Realm for an ASSIGNED RAM
// entry, NS for an ASSIGNED_NS (unprotected) one. Every other entry, and an
// IPA outside the realm's IPA space, is a fault. The caller holds r.mu.
func (r *RMM) translate(rl *realmDesc, ipa uint64) (pa uint64, pas gpt.PAS, f *s2Fault) {
	if ipa>>rl.s2sz != 0 {
		return 0, 0, &s2Fault{outside: true}
	}
	w, err := r.walk(rl, ipa, maxLevel)
	mustPlatform(err)
	e := w.entry
	off := ipa & (levelSize(w.level) - 1)
	switch {
	case e.hipas() == hipasAssigned && e.ripas() == RIPASRAM:
		return e.addr() + off, gpt.PASRealm, nil
	case e.hipas() == hipasAssignedNS:
		return e.addr() + off, gpt.PASNonSecure, nil
	}
	return 0, 0, &s2Fault{level: w.level, state: e.hipas(), ripas: e.ripas()}
}
