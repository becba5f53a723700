package monitor

import "errors"

// Sentinel errors of the monitor; errors returned by New wrap ErrConfig (or
// a gpt error for a table problem).
var (
	// ErrConfig is returned for an invalid memory map or configuration.
	ErrConfig = errors.New("monitor: invalid configuration")

	// ErrAgain may be returned (wrapped) by RootOfTrust.PlatformToken when
	// the token is not ready yet; the monitor answers E_RMM_AGAIN and the RMM
	// retries (TF-A v2.12 services/std_svc/rmmd/rmmd_attest.c; TF-RMM
	// lib/rmm_el3_ifc/src/rmm_el3_runtime.c).
	ErrAgain = errors.New("monitor: root of trust busy, try again")
)
