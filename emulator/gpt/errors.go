package gpt

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them (a
// granule protection fault is a *Fault, which matches ErrGPF and, for walk
// faults, ErrWalk).
var (
	// ErrGPF matches every *Fault: the granule protection check refused the
	// access, so no byte was read or written. Use ErrWalk, or Fault.Kind, to
	// tell a failed check from a broken table.
	ErrGPF = errors.New("gpt: granule protection fault")

	// ErrWalk matches the *Fault values raised because the GPT itself could not
	// be walked (reserved GPI, invalid descriptor, RES0 bits set, table fetch
	// outside table memory). The architecture always reports these as a GPC
	// exception to EL3, never as a plain GPF (QEMU target/arm/tcg/tlb_helper.c,
	// after the Arm ARM GPC rules).
	ErrWalk = errors.New("gpt: GPT walk fault")

	// ErrNoMemory is returned for an access to a physical address that no
	// memory bank backs (an external abort on real hardware).
	ErrNoMemory = errors.New("gpt: no memory at physical address")

	// ErrIllegalPAS is returned when a security state asks for a physical
	// address space it cannot emit (Arm DEN0129: Non-secure → NS only,
	// Secure → Secure/NS, Realm → Realm/NS, Root → any).
	ErrIllegalPAS = errors.New("gpt: security state cannot access this PAS")

	// ErrAlignment is returned for a granule operation on an address that is
	// not granule aligned.
	ErrAlignment = errors.New("gpt: address not granule aligned")

	// ErrConfig is returned for an invalid register value, memory map or table
	// placement.
	ErrConfig = errors.New("gpt: invalid configuration")

	// ErrUnsupported is returned for an architecturally valid configuration
	// this emulator does not implement (granule sizes other than 4 KB).
	ErrUnsupported = errors.New("gpt: unsupported configuration")

	// ErrInvalid is a rejected transition request: bad size or alignment, out
	// of the protected space, not covered by an L0 table descriptor, or a
	// caller that cannot transition at all. TF-A returns -EINVAL, which EL3
	// reports to the RMM as E_RMM_BAD_ADDR (TF-A v2.12 lib/gpt_rme/gpt_rme.c,
	// services/std_svc/rmmd/rmmd_main.c).
	ErrInvalid = errors.New("gpt: invalid transition request")

	// ErrDenied is a transition the caller is not allowed to make from the
	// granule's current GPI. TF-A returns -EPERM, which EL3 reports as
	// E_RMM_BAD_PAS (TF-A v2.12 lib/gpt_rme/gpt_rme.c,
	// services/std_svc/rmmd/rmmd_main.c).
	ErrDenied = errors.New("gpt: transition not permitted from current GPI")
)
