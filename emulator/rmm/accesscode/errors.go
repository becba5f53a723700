package accesscode

import (
	"errors"
	"fmt"

	"github.com/ccakit/cca/internal/enumname"
)

// Reason classifies why the verifier rejected an image. The values are part
// of the sharing ABI: RSI_SHARE_CODE_LOAD returns the reason in X1 and the
// offending instruction's index in X2 (docs/sharing.md §4.3).
type Reason uint8

const (
	ReasonHeader    Reason = 1 // bad magic, version, flags or length
	ReasonTooLong   Reason = 2 // no instructions, more than MaxInsns, or image > MaxImage
	ReasonOpcode    Reason = 3 // unknown opcode
	ReasonOperand   Reason = 4 // bad register, width, shift, divisor, or a reserved field set
	ReasonJump      Reason = 5 // backward or out-of-range jump, or a jump into a loop body
	ReasonLoop      Reason = 6 // bad loop count, body, nesting, or a write to the index register
	ReasonUnbounded Reason = 7 // worst-case steps or bytes moved above MaxSteps / MaxMoved
	ReasonBounds    Reason = 8 // an access not proven inside the region or the argument window
	ReasonSize      Reason = 9 // argument window or region size outside the limits
)

var reasonNames = map[Reason]string{
	ReasonHeader:    "header",
	ReasonTooLong:   "too long",
	ReasonOpcode:    "opcode",
	ReasonOperand:   "operand",
	ReasonJump:      "jump",
	ReasonLoop:      "loop",
	ReasonUnbounded: "unbounded",
	ReasonBounds:    "bounds",
	ReasonSize:      "size",
}

func (r Reason) String() string { return enumname.Name(r, reasonNames, "reason(%d)") }

// ErrRejected matches every verification failure.
var ErrRejected = errors.New("accesscode: rejected")

// ErrFault is a run-time fault of the interpreter: an access outside the
// region or the window, a step count above the bound, or a failing memory.
// A verified program never causes one; its presence means a verifier bug or
// a failing Memory.
var ErrFault = errors.New("accesscode: fault")

// VerifyError is a rejection: why, where (instruction index, -1 for the
// image as a whole), and a detail for humans.
type VerifyError struct {
	Reason Reason
	PC     int
	Detail string
}

func (e *VerifyError) Error() string {
	if e.PC < 0 {
		return fmt.Sprintf("accesscode: rejected (%v): %s", e.Reason, e.Detail)
	}
	return fmt.Sprintf("accesscode: rejected at instruction %d (%v): %s", e.PC, e.Reason, e.Detail)
}

func (e *VerifyError) Unwrap() error { return ErrRejected }

func verr(r Reason, pc int, format string, args ...any) *VerifyError {
	return &VerifyError{Reason: r, PC: pc, Detail: fmt.Sprintf(format, args...)}
}
