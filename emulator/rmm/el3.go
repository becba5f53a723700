package rmm

import (
	"crypto/sha256"
	"fmt"

	"github.com/ccakit/cca/emulator/monitor"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// The RMM–EL3 interface (TF-RMM rmm-spec-v1.0-rel0 lib/rmm_el3_ifc, TF-A v2.12
// include/services/rmmd_svc.h).
// The FIDs and status codes are the monitor's (emulator/monitor/abi.go).
const (
	// platTokenMax is ATTEST_PLAT_TOKEN_SIZE, the platform token buffer of
	// TF-RMM rmm-spec-v1.0-rel0 (lib/attestation).
	platTokenMax = 0x1000
	// el3Retries bounds how often the RMM retries on E_RMM_AGAIN.
	el3Retries = 64
)

// bootAttestation does what TF-RMM's attestation init does at boot
// (lib/attestation/src/attestation_key.c): get the RAK's private scalar from EL3 through the
// shared buffer, encode its public key as the realm token will carry it,
// and fetch the platform token bound to SHA-256 of that encoding, in hunks,
// into a cache kept for the power cycle.
func (r *RMM) bootAttestation() error {
	buf := r.cfg.SharedBuffer
	x := r.plat.EL3(monitor.SMCRMMGetRealmAttestKey, buf, GranuleSize, monitor.AttestKeyCurveP384)
	if x[0] != monitor.ERMMOK {
		return fmt.Errorf("%w: RMM_GET_REALM_ATTEST_KEY returned %d", ErrBoot, int64(x[0]))
	}
	if x[1] != token.RAKScalarSize {
		return fmt.Errorf("%w: RAK of %d bytes, expected %d", ErrBoot, x[1], token.RAKScalarSize)
	}
	scalar := make([]byte, x[1])
	if err := r.realmRead(buf, scalar); err != nil {
		return fmt.Errorf("%w: reading the RAK: %v", ErrBoot, err)
	}
	// Do not leave the private key in the shared page.
	if err := r.realmWrite(buf, make([]byte, len(scalar))); err != nil {
		return fmt.Errorf("%w: %v", ErrBoot, err)
	}
	var err error
	if r.rak, err = token.P384FromScalar(scalar); err != nil {
		return fmt.Errorf("%w: %v", ErrBoot, err)
	}
	if r.rakClaim, err = realm.EncodeRAK(&r.rak.PublicKey, r.cfg.Generation); err != nil {
		return fmt.Errorf("%w: %v", ErrBoot, err)
	}
	hash := sha256.Sum256(r.rakClaim)
	if err := r.realmWrite(buf, hash[:]); err != nil {
		return fmt.Errorf("%w: %v", ErrBoot, err)
	}
	hashSize := uint64(len(hash))
	for tries := 0; ; {
		x := r.plat.EL3(monitor.SMCRMMGetPlatToken, buf, GranuleSize, hashSize)
		if x[0] == monitor.ERMMAgain {
			if tries++; tries > el3Retries {
				return fmt.Errorf("%w: RMM_GET_PLAT_TOKEN kept answering E_RMM_AGAIN", ErrBoot)
			}
			continue
		}
		if x[0] != monitor.ERMMOK {
			return fmt.Errorf("%w: RMM_GET_PLAT_TOKEN returned %d", ErrBoot, int64(x[0]))
		}
		hunk, remaining := x[1], x[2]
		if hunk > GranuleSize || uint64(len(r.platformToken))+hunk+remaining > platTokenMax {
			return fmt.Errorf("%w: platform token larger than %d bytes", ErrBoot, platTokenMax)
		}
		part := make([]byte, hunk)
		if err := r.realmRead(buf, part); err != nil {
			return fmt.Errorf("%w: reading the platform token: %v", ErrBoot, err)
		}
		r.platformToken = append(r.platformToken, part...)
		if remaining == 0 {
			break
		}
		if hunk == 0 {
			return fmt.Errorf("%w: RMM_GET_PLAT_TOKEN made no progress", ErrBoot)
		}
		hashSize = 0 // follow-up calls (TF-A v2.12 rmmd_attest.c)
	}
	return nil
}
