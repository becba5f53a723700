package sharing

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/emulator/rmm/accesscode"
)

// The realm side of the sharing extension: what a guest kernel's driver
// does over RSI (docs/sharing.md §6), for realm software registered with
// emulator.Machine.SetRealmProgram.

// Errors of the realm-side calls.
var (
	// ErrRSI: a sharing RSI call failed; the *RSIError says which and how.
	ErrRSI = errors.New("sharing: RSI call failed")
	// ErrBusy: the region is leased to another member (RSI_INCOMPLETE);
	// the call may be retried.
	ErrBusy = errors.New("sharing: region busy")
)

// RSIError is a failed sharing RSI call: the status and, for a rejected
// access code, the verifier's reason and instruction index.
type RSIError struct {
	Call   string
	Status uint64
	X1, X2 uint64
}

func (e *RSIError) Error() string {
	name := rmm.RSIStatusName(e.Status)
	if e.Call == "RSI_SHARE_CODE_LOAD" && e.Status == rmm.RSIErrorInput && e.X1 != 0 {
		return fmt.Sprintf("sharing: %s: %s (code rejected: %v at instruction %d)", e.Call, name, accesscode.Reason(e.X1), int64(e.X2))
	}
	return fmt.Sprintf("sharing: %s: %s", e.Call, name)
}

func (e *RSIError) Unwrap() error {
	if e.Status == rmm.RSIIncomplete {
		return ErrBusy
	}
	return ErrRSI
}

// Status returns the RSI status of an error from this package's calls, or
// RSI_SUCCESS for nil.
func Status(err error) uint64 {
	var e *RSIError
	if errors.As(err, &e) {
		return e.Status
	}
	if err != nil {
		return rmm.RSIErrorUnknown
	}
	return rmm.RSISuccess
}

func call(cpu rmm.RealmCPU, name string, fid uint64, args ...uint64) ([9]uint64, error) {
	x := cpu.SMC(fid, args...)
	if x[0] != rmm.RSISuccess {
		return x, &RSIError{Call: name, Status: x[0], X1: x[1], X2: x[2]}
	}
	return x, nil
}

// Region is a region as an attached member sees it.
type Region struct {
	ID   uint64 // the SR address
	IPA  uint64 // where it is mapped in this realm
	Size uint64
}

// Attach attaches to region id; when descIPA is not 0 the RMM writes the
// region descriptor there (docs/sharing.md §7).
func Attach(cpu rmm.RealmCPU, id, descIPA uint64) (Region, error) {
	x, err := call(cpu, "RSI_SHARE_ATTACH", rmm.RSIShareAttach, id, descIPA)
	if err != nil {
		return Region{}, err
	}
	return Region{ID: id, IPA: x[1], Size: x[2]}, nil
}

// Detach leaves region id.
func Detach(cpu rmm.RealmCPU, id uint64) error {
	_, err := call(cpu, "RSI_SHARE_DETACH", rmm.RSIShareDetach, id)
	return err
}

// Code is a loaded access code.
type Code struct {
	Region uint64
	Handle uint64
	Hash   [32]byte
}

// LoadCode writes img to the realm's memory at ipa and asks the RMM to
// verify and load it.
func LoadCode(cpu rmm.RealmCPU, id, ipa uint64, img []byte) (Code, error) {
	if err := cpu.Write(ipa, img); err != nil {
		return Code{}, err
	}
	x, err := call(cpu, "RSI_SHARE_CODE_LOAD", rmm.RSIShareCodeLoad, id, ipa, uint64(len(img)))
	if err != nil {
		return Code{}, err
	}
	c := Code{Region: id, Handle: x[1]}
	for i := range 4 {
		binary.LittleEndian.PutUint64(c.Hash[8*i:], x[2+i])
	}
	return c, nil
}

// Result is the outcome of an invocation: r0..r3 of the code, the
// instructions it executed and the bytes it moved.
type Result struct {
	Regs  [4]uint64
	Steps uint64
	Moved uint64
}

// Invoke runs a loaded code with the argument buffer [argIPA,
// argIPA+argLen) and r0..r3 = args. ErrBusy when another member holds a
// lease.
func Invoke(cpu rmm.RealmCPU, c Code, argIPA, argLen uint64, args ...uint64) (Result, error) {
	var a [4]uint64
	copy(a[:], args)
	x, err := call(cpu, "RSI_SHARE_INVOKE", rmm.RSIShareInvoke, c.Region, c.Handle, argIPA, argLen, a[0], a[1], a[2], a[3])
	if err != nil {
		return Result{}, err
	}
	return Result{Regs: [4]uint64{x[1], x[2], x[3], x[4]}, Steps: x[5], Moved: x[6]}, nil
}

// Acquire takes a lease (WRITE when write, else READ); torn reports that
// the last WRITE lease was revoked rather than released. ErrBusy while
// another member's lease stands.
func Acquire(cpu rmm.RealmCPU, id uint64, write bool) (torn bool, err error) {
	access := uint64(rmm.ShareLeaseRead)
	if write {
		access = rmm.ShareLeaseWrite
	}
	x, err := call(cpu, "RSI_SHARE_LEASE_ACQUIRE", rmm.RSIShareLeaseAcquire, id, access)
	return x[2] == 1 && err == nil, err
}

// Release gives the lease back.
func Release(cpu rmm.RealmCPU, id uint64) error {
	_, err := call(cpu, "RSI_SHARE_LEASE_RELEASE", rmm.RSIShareLeaseRelease, id)
	return err
}
