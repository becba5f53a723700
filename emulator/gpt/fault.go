package gpt

import (
	"fmt"

	"github.com/ccakit/cca/internal/enumname"
)

// FaultKind classifies a granule protection check failure like the GPCF
// values of the architecture (QEMU target/arm/internals.h GPCF_*).
type FaultKind uint8

// Fault kinds, in the order the GPC can raise them.
const (
	// FaultAddressSize: a non-NS access at or above 2^PPS, or a GPTBR_EL3
	// outside the protected space.
	FaultAddressSize FaultKind = iota + 1
	// FaultWalk: an invalid or reserved descriptor or GPI (walk fault).
	FaultWalk
	// FaultEABT: the descriptor fetch itself failed. Here that is a table
	// address outside the GPT memory (see Config.Base).
	FaultEABT
	// FaultFail: the walk succeeded and the GPI does not admit the PAS. This
	// is the only plain GPF; the others are GPC exceptions to EL3.
	FaultFail
)

var faultKindNames = map[FaultKind]string{
	FaultAddressSize: "address size",
	FaultWalk:        "walk",
	FaultEABT:        "external abort on GPT fetch",
	FaultFail:        "fail",
}

func (k FaultKind) String() string { return enumname.Name(k, faultKindNames, "FaultKind(%d)") }

// Syndrome values, taken from QEMU target/arm/tcg/tlb_helper.c, which cites
// the Arm ARM's RME rules (not checked against the Arm ARM text itself).
const (
	// FSCGPFOutput is the data/instruction abort FSC for a GPF on the output
	// address of a translation, 0b101000.
	FSCGPFOutput = 0x28

	gpcscAddressSize = 0b000000
	gpcscWalk        = 0b000100 // | level
	gpcscFail        = 0b001100 // | level
	gpcscEABT        = 0b010100 // | level
)

// Fault is a granule protection fault: the access it describes did not take
// place. It matches ErrGPF with errors.Is, and also ErrWalk when Kind is
// FaultWalk or FaultEABT.
type Fault struct {
	PA    uint64        // faulting physical address (the granule checked, or the byte for a one-granule access)
	PAS   PAS           // target physical address space
	State SecurityState // security state of the requester
	Kind  FaultKind
	Level uint8 // GPT level at which the walk stopped, 0 or 1
	GPI   GPI   // GPI found, when Kind is FaultFail or a reserved-GPI FaultWalk
}

// GPCSC returns the GPC syndrome code (ESR_EL3.ISS.GPCSC of a GPC exception).
func (f *Fault) GPCSC() uint8 {
	switch f.Kind {
	case FaultWalk:
		return gpcscWalk | f.Level&3
	case FaultEABT:
		return gpcscEABT | f.Level&3
	case FaultFail:
		return gpcscFail | f.Level&3
	}
	return gpcscAddressSize
}

// FSC returns the fault status code a lower exception level sees when the GPF
// is reported as a data or instruction abort on the output address.
func (f *Fault) FSC() uint8 { return FSCGPFOutput }

func (f *Fault) Error() string {
	return fmt.Sprintf("gpt: granule protection fault (%s, level %d, GPCSC %#06b): %s access to PA %#x in %s PAS, GPI %s",
		f.Kind, f.Level, f.GPCSC(), f.State, f.PA, f.PAS, f.GPI)
}

// Is makes errors.Is(f, ErrGPF) true for every fault and errors.Is(f, ErrWalk)
// true for walk faults.
func (f *Fault) Is(target error) bool {
	switch target {
	case ErrGPF:
		return true
	case ErrWalk:
		return f.Kind == FaultWalk || f.Kind == FaultEABT
	}
	return false
}
