package monitor

import (
	"errors"
	"slices"

	"github.com/ccakit/cca/emulator/gpt"
)

// RMM–EL3 attestation calls (TF-A v2.12
// services/std_svc/rmmd/rmmd_attest.c). EL3 reads and writes the shared
// page as Root in the Realm PAS, through the GPC.

// validateBuffer checks that [buf, buf+size) lies in the shared page: the
// start outside it is E_RMM_BAD_ADDR, the end outside it E_RMM_INVAL, as in
// TF-A validate_buffer_params. A zero size is E_RMM_INVAL.
func (m *Monitor) validateBuffer(buf, size uint64) uint64 {
	page := m.layout.SharedPage
	switch {
	case buf&^(gpt.GranuleSize-1) != page:
		return ERMMBadAddr
	case size == 0 || buf+size-1 < buf || (buf+size-1)&^(gpt.GranuleSize-1) != page:
		return ERMMInval
	}
	return ERMMOK
}

func (m *Monitor) shared(pa uint64, p []byte, write bool) error {
	return m.Access(gpt.StateRoot, gpt.PASRealm, pa, p, write)
}

// getRealmAttestKey is RMM_GET_REALM_ATTEST_KEY: x1 buffer, x2 size, x3
// curve → x1 key length.
func (m *Monitor) getRealmAttestKey(buf, size, curve uint64) [5]uint64 {
	if st := m.validateBuffer(buf, size); st != ERMMOK {
		return [5]uint64{st}
	}
	if curve != AttestKeyCurveP384 {
		return [5]uint64{ERMMInval}
	}
	if m.rot == nil {
		return [5]uint64{ERMMUnk}
	}
	key, err := m.rot.RealmAttestKey(curve)
	if err != nil {
		return [5]uint64{ERMMUnk}
	}
	// A buffer shorter than the key: the platform hook fails (-EINVAL) and
	// rmmd maps every platform failure of this call to E_RMM_UNK (TF-A
	// v2.12 plat/arm/board/fvp/fvp_realm_attest_key.c and
	// services/std_svc/rmmd/rmmd_attest.c rmmd_attest_get_signing_key).
	if uint64(len(key)) > size {
		return [5]uint64{ERMMUnk}
	}
	if err := m.shared(buf, key, true); err != nil {
		return [5]uint64{ERMMUnk}
	}
	return [5]uint64{ERMMOK, uint64(len(key))}
}

// getPlatToken is RMM_GET_PLAT_TOKEN: x1 buffer (challenge pre-copied at its
// start), x2 size, x3 challenge size on the first call and 0 on the
// follow-ups → x1 hunk length, x2 remaining length. A first call while a
// transfer is in progress restarts it with the new challenge (the reference
// does not say what TF-A does then).
func (m *Monitor) getPlatToken(buf, size, hashSize uint64) [5]uint64 {
	if st := m.validateBuffer(buf, size); st != ERMMOK {
		return [5]uint64{st}
	}
	m.attestMu.Lock()
	defer m.attestMu.Unlock()
	if hashSize != 0 {
		if !validHashSizes[hashSize] || hashSize > size {
			return [5]uint64{ERMMInval}
		}
		if m.rot == nil {
			return [5]uint64{ERMMUnk}
		}
		challenge := make([]byte, hashSize)
		if err := m.shared(buf, challenge, false); err != nil {
			return [5]uint64{ERMMUnk}
		}
		tok, err := m.rot.PlatformToken(challenge)
		switch {
		case errors.Is(err, ErrAgain):
			return [5]uint64{ERMMAgain}
		case err != nil:
			return [5]uint64{ERMMUnk}
		}
		m.token, m.tokenOff = slices.Clone(tok), 0
		if m.token == nil {
			m.token = []byte{}
		}
	} else if m.token == nil {
		return [5]uint64{ERMMInval} // a follow-up with no transfer in progress
	}
	n := min(m.hunk, size, uint64(len(m.token))-m.tokenOff)
	if err := m.shared(buf, m.token[m.tokenOff:m.tokenOff+n], true); err != nil {
		m.token = nil
		return [5]uint64{ERMMUnk}
	}
	m.tokenOff += n
	remaining := uint64(len(m.token)) - m.tokenOff
	if remaining == 0 {
		m.token = nil
	}
	return [5]uint64{ERMMOK, n, remaining}
}
