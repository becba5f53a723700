package accesscode

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Memory is an address space a program runs against: the shared region, or
// the caller's argument buffer. The RMM backs them with granules through
// the GPC; Bytes backs them with a slice.
type Memory interface {
	Size() uint64
	ReadAt(p []byte, off uint64) error
	WriteAt(p []byte, off uint64) error
}

// Bytes is a Memory over a byte slice.
type Bytes []byte

// Size is the length of the slice.
func (b Bytes) Size() uint64 { return uint64(len(b)) }

// ReadAt copies len(p) bytes from off.
func (b Bytes) ReadAt(p []byte, off uint64) error {
	if !fits(off, 0, uint64(len(p)), uint64(len(b))) {
		return fmt.Errorf("%w: read of %d bytes at %d of %d", ErrFault, len(p), off, len(b))
	}
	copy(p, b[off:])
	return nil
}

// WriteAt copies p to off.
func (b Bytes) WriteAt(p []byte, off uint64) error {
	if !fits(off, 0, uint64(len(p)), uint64(len(b))) {
		return fmt.Errorf("%w: write of %d bytes at %d of %d", ErrFault, len(p), off, len(b))
	}
	copy(b[off:], p)
	return nil
}

// Result is the outcome of a run: r0..r3 at the end, the instructions
// executed and the bytes loaded, stored and copied.
type Result struct {
	Regs  [4]uint64
	Steps uint64
	Moved uint64
	// Moved by kind: CopyIn (CPIN, argument to region), CopyOut (CPOUT,
	// region to argument), CopyWithin (CPR) and LoadStore (LDR, STR, LDA,
	// STA), for a cost model that prices them apart.
	CopyIn, CopyOut, CopyWithin, LoadStore uint64
}

// window is the argument window: the caller's buffer, then zeros up to
// ArgSize that ignore stores.
type window struct {
	m    Memory
	size uint64
}

func (w window) Size() uint64 { return w.size }

func (w window) ReadAt(p []byte, off uint64) error {
	if !fits(off, 0, uint64(len(p)), w.size) {
		return fmt.Errorf("%w: argument window read of %d bytes at %d of %d", ErrFault, len(p), off, w.size)
	}
	backed := uint64(0)
	if n := w.m.Size(); off < n {
		backed = min(uint64(len(p)), n-off)
		if err := w.m.ReadAt(p[:backed], off); err != nil {
			return err
		}
	}
	clear(p[backed:])
	return nil
}

func (w window) WriteAt(p []byte, off uint64) error {
	if !fits(off, 0, uint64(len(p)), w.size) {
		return fmt.Errorf("%w: argument window write of %d bytes at %d of %d", ErrFault, len(p), off, w.size)
	}
	if n := w.m.Size(); off < n {
		return w.m.WriteAt(p[:min(uint64(len(p)), n-off)], off)
	}
	return nil
}

// copyChunk is the unit the interpreter copies between memories in.
const copyChunk = 4096

// Run executes the program. region must be the size the program was
// verified for and arg at most its ArgSize (the window's tail reads as zero
// and ignores stores). r0..r3 start as args, r4 as arg.Size(), the others
// as zero. A verified program cannot fault; an error (ErrFault, or a Memory
// failure) means a broken invariant or a failing Memory, and the memories
// may then be partly written.
func (p *Program) Run(region, arg Memory, args [4]uint64) (Result, error) {
	if region.Size() != p.regionSize || arg.Size() > p.argSize {
		return Result{}, fmt.Errorf("%w: region of %d bytes (verified for %d), argument of %d bytes (window %d)",
			ErrFault, region.Size(), p.regionSize, arg.Size(), p.argSize)
	}
	var r [NumRegs]uint64
	copy(r[:], args[:])
	r[4] = arg.Size()
	win := window{m: arg, size: p.argSize}
	type frame struct {
		start, end int
		idx        uint8
		k, count   uint64
	}
	var loops [MaxLoopDepth]frame
	depth := 0
	var res Result
	var buf [copyChunk]byte
	n := len(p.code)
	pc := 0
	for {
		// Loop bookkeeping at body ends and on jumps out of bodies.
		for depth > 0 {
			f := &loops[depth-1]
			if pc < f.end {
				break
			}
			if pc == f.end {
				if f.k++; f.k < f.count {
					r[f.idx] = f.k
					pc = f.start
					break
				}
			}
			depth--
		}
		if pc >= n {
			break
		}
		if res.Steps++; res.Steps > p.maxSteps {
			return res, fmt.Errorf("%w: more than %d steps", ErrFault, p.maxSteps)
		}
		in := p.code[pc]
		pc++
		switch in.Op {
		case OpMOV:
			r[in.A] = r[in.B]
		case OpMOVI:
			r[in.A] = uint64(in.Imm)
		case OpADD, OpSUB, OpMUL, OpAND, OpOR, OpXOR, OpSHL, OpSHR:
			r[in.A] = eval(in.Op, r[in.B], r[in.C])
		case OpADDI, OpSUBI, OpMULI, OpANDI, OpORI, OpXORI, OpSHLI, OpSHRI:
			r[in.A] = eval(in.Op, r[in.B], uint64(in.Imm))
		case OpDIVI:
			r[in.A] = r[in.B] / uint64(in.Imm)
		case OpMODI:
			r[in.A] = r[in.B] % uint64(in.Imm)
		case OpLDR, OpSTR, OpLDA, OpSTA:
			var m Memory = region
			if in.Op == OpLDA || in.Op == OpSTA {
				m = win
			}
			off := uint64(in.Imm)
			if in.B != NoBase {
				var c uint64
				if off, c = bits.Add64(r[in.B], off, 0); c != 0 {
					return res, fmt.Errorf("%w: address overflow at instruction %d", ErrFault, pc-1)
				}
			}
			b := buf[:in.width()]
			if in.Op == OpLDR || in.Op == OpLDA {
				if err := m.ReadAt(b, off); err != nil {
					return res, err
				}
				var w [8]byte
				copy(w[:], b)
				r[in.A] = binary.LittleEndian.Uint64(w[:])
			} else {
				var w [8]byte
				binary.LittleEndian.PutUint64(w[:], r[in.A])
				copy(b, w[:])
				if err := m.WriteAt(b, off); err != nil {
					return res, err
				}
			}
			res.Moved += in.width()
			res.LoadStore += in.width()
		case OpCPIN, OpCPOUT, OpCPR:
			dst, src := region, Memory(win)
			switch in.Op {
			case OpCPOUT:
				dst, src = win, region
			case OpCPR:
				src = region
			}
			if err := copyMem(dst, r[in.A], src, r[in.B], r[in.C], in.Op == OpCPR, buf[:]); err != nil {
				return res, err
			}
			res.Moved += r[in.C]
			switch in.Op {
			case OpCPIN:
				res.CopyIn += r[in.C]
			case OpCPOUT:
				res.CopyOut += r[in.C]
			default:
				res.CopyWithin += r[in.C]
			}
		case OpJMP:
			pc += int(in.Imm)
		case OpJEQ, OpJNE, OpJLT, OpJLE, OpJGT, OpJGE:
			if condOf(in.Op).holds(r[in.A], r[in.B]) {
				pc += int(in.Imm)
			}
		case OpJEQI, OpJNEI, OpJLTI, OpJLEI, OpJGTI, OpJGEI:
			if condOf(in.Op).holds(r[in.A], uint64(in.Imm)) {
				pc += in.off16()
			}
		case OpLOOP:
			if depth == MaxLoopDepth {
				return res, fmt.Errorf("%w: loops nested deeper than %d", ErrFault, MaxLoopDepth)
			}
			loops[depth] = frame{start: pc, end: pc + in.off16(), idx: in.A, count: uint64(in.Imm)}
			depth++
			r[in.A] = 0
		case OpEXIT:
			pc = n
			depth = 0
		default:
			return res, fmt.Errorf("%w: opcode %v at instruction %d", ErrFault, in.Op, pc-1)
		}
	}
	copy(res.Regs[:], r[:4])
	return res, nil
}

// copyMem copies n bytes from src at so to dst at do, in chunks, with
// memmove semantics when src and dst are the same memory (same).
func copyMem(dst Memory, do uint64, src Memory, so, n uint64, same bool, buf []byte) error {
	if !fits(do, 0, n, dst.Size()) || !fits(so, 0, n, src.Size()) {
		return fmt.Errorf("%w: copy of %d bytes from %d (of %d) to %d (of %d)", ErrFault, n, so, src.Size(), do, dst.Size())
	}
	chunk := uint64(len(buf))
	backward := same && do > so && do < so+n
	for done := uint64(0); done < n; {
		k := min(chunk, n-done)
		at := done
		if backward {
			at = n - done - k
		}
		if err := src.ReadAt(buf[:k], so+at); err != nil {
			return err
		}
		if err := dst.WriteAt(buf[:k], do+at); err != nil {
			return err
		}
		done += k
	}
	return nil
}
