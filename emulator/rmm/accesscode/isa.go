package accesscode

import (
	"encoding/binary"
	"fmt"
)

// Image format (docs/sharing.md §5.1). All fields little-endian.
//
//	0x00  magic "RSAC"
//	0x04  version u16 = 1
//	0x06  flags u16 = 0 (reserved)
//	0x08  arg_size u32: size of the argument window the code addresses
//	0x0C  count u32: number of instructions
//	0x10  count × 8-byte instructions
//
// An instruction is op u8, a u8, b u8, c u8, imm u32. Fields an opcode does
// not use must be zero.
const (
	Magic      = "RSAC"
	Version    = 1
	HeaderSize = 16
	InsnSize   = 8

	// MaxImage is the largest image: one granule, so that the RMM reads it
	// with a single bounded copy.
	MaxImage = 4096
	// MaxInsns is the most instructions an image can hold.
	MaxInsns = (MaxImage - HeaderSize) / InsnSize
	// NumRegs is the number of 64-bit registers r0..r15.
	NumRegs = 16
	// NoBase in the base field of a load or store means an absolute offset.
	NoBase = 0xFF

	// MaxArgSize bounds the argument window (one 1 MiB message).
	MaxArgSize = 1 << 20
	// MaxRegionSize bounds the region a program may be verified for
	// (4096 granules, the sharing extension's limit).
	MaxRegionSize = 16 << 20
	// MaxLoopCount bounds the iteration count of one LOOP.
	MaxLoopCount = 1 << 16
	// MaxLoopDepth bounds the nesting of LOOPs.
	MaxLoopDepth = 4
	// MaxSteps bounds the worst-case number of instructions one run
	// executes, MaxMoved the worst-case number of bytes it loads, stores
	// and copies: the RMM's time under the region lock is bounded by them.
	MaxSteps = 1 << 20
	MaxMoved = 64 << 20
)

// Op is an opcode.
type Op uint8

// Opcodes. Registers are unsigned 64-bit; arithmetic wraps modulo 2^64.
// Jump offsets count instructions from the next one: target = pc+1+off.
const (
	// ALU, register operands: ra = rb op rc. Shifts use rc mod 64.
	OpADD Op = 0x01
	OpSUB Op = 0x02
	OpMUL Op = 0x03
	OpAND Op = 0x04
	OpOR  Op = 0x05
	OpXOR Op = 0x06
	OpSHL Op = 0x07
	OpSHR Op = 0x08
	OpMOV Op = 0x09 // ra = rb

	// ALU, immediate operand (imm zero-extended): ra = rb op imm.
	OpADDI Op = 0x11
	OpSUBI Op = 0x12
	OpMULI Op = 0x13
	OpANDI Op = 0x14
	OpORI  Op = 0x15
	OpXORI Op = 0x16
	OpSHLI Op = 0x17 // imm < 64
	OpSHRI Op = 0x18 // imm < 64
	OpMOVI Op = 0x19 // ra = imm
	OpDIVI Op = 0x1A // imm ≠ 0
	OpMODI Op = 0x1B // imm ≠ 0

	// Loads and stores of c = 1, 2, 4 or 8 bytes, little-endian, at offset
	// rb + imm (or imm when b is NoBase) of the region (R) or the argument
	// window (A). Loads zero-extend.
	OpLDR Op = 0x20
	OpSTR Op = 0x21
	OpLDA Op = 0x22
	OpSTA Op = 0x23

	// Copies of rc bytes: CPIN region[ra..] ← arg[rb..]; CPOUT arg[ra..] ←
	// region[rb..]; CPR region[ra..] ← region[rb..] (overlap allowed, as
	// memmove).
	OpCPIN  Op = 0x28
	OpCPOUT Op = 0x29
	OpCPR   Op = 0x2A

	// Conditional jumps, unsigned comparison of ra with rb; imm = offset.
	OpJEQ Op = 0x30
	OpJNE Op = 0x31
	OpJLT Op = 0x32
	OpJLE Op = 0x33
	OpJGT Op = 0x34
	OpJGE Op = 0x35

	// Conditional jumps, unsigned comparison of ra with imm; offset = b |
	// c<<8.
	OpJEQI Op = 0x38
	OpJNEI Op = 0x39
	OpJLTI Op = 0x3A
	OpJLEI Op = 0x3B
	OpJGTI Op = 0x3C
	OpJGEI Op = 0x3D

	// JMP: unconditional, imm = offset.
	OpJMP Op = 0x3F

	// LOOP runs the body, the next b | c<<8 instructions, imm times, with ra
	// = 0, 1, ..., imm-1 on each pass; the body may not write ra. A jump to
	// the end of the body starts the next pass; a jump beyond it leaves the
	// loop. After the loop ra = imm-1.
	OpLOOP Op = 0x40

	// EXIT ends the run; so does reaching the end of the code.
	OpEXIT Op = 0x41
)

// form is the operand shape of an opcode, what the decoder checks and the
// assembler parses.
type form uint8

const (
	formRRR  form = iota + 1 // ra, rb, rc
	formRR                   // ra, rb
	formRRI                  // ra, rb, imm
	formRI                   // ra, imm
	formMem                  // ra, [rb + imm], width c
	formJRR                  // ra, rb, imm offset
	formJRI                  // ra, imm value, b|c<<8 offset
	formJ                    // imm offset
	formLoop                 // ra, imm count, b|c<<8 body length
	formNone                 // no operands
)

type opInfo struct {
	name string
	form form
}

var ops = map[Op]opInfo{
	OpADD: {"add", formRRR}, OpSUB: {"sub", formRRR}, OpMUL: {"mul", formRRR},
	OpAND: {"and", formRRR}, OpOR: {"or", formRRR}, OpXOR: {"xor", formRRR},
	OpSHL: {"shl", formRRR}, OpSHR: {"shr", formRRR}, OpMOV: {"mov", formRR},
	OpADDI: {"addi", formRRI}, OpSUBI: {"subi", formRRI}, OpMULI: {"muli", formRRI},
	OpANDI: {"andi", formRRI}, OpORI: {"ori", formRRI}, OpXORI: {"xori", formRRI},
	OpSHLI: {"shli", formRRI}, OpSHRI: {"shri", formRRI}, OpMOVI: {"movi", formRI},
	OpDIVI: {"divi", formRRI}, OpMODI: {"modi", formRRI},
	OpLDR: {"ldr", formMem}, OpSTR: {"str", formMem}, OpLDA: {"lda", formMem}, OpSTA: {"sta", formMem},
	OpCPIN: {"cpin", formRRR}, OpCPOUT: {"cpout", formRRR}, OpCPR: {"cpr", formRRR},
	OpJEQ: {"jeq", formJRR}, OpJNE: {"jne", formJRR}, OpJLT: {"jlt", formJRR},
	OpJLE: {"jle", formJRR}, OpJGT: {"jgt", formJRR}, OpJGE: {"jge", formJRR},
	OpJEQI: {"jeqi", formJRI}, OpJNEI: {"jnei", formJRI}, OpJLTI: {"jlti", formJRI},
	OpJLEI: {"jlei", formJRI}, OpJGTI: {"jgti", formJRI}, OpJGEI: {"jgei", formJRI},
	OpJMP: {"jmp", formJ}, OpLOOP: {"loop", formLoop}, OpEXIT: {"exit", formNone},
}

func (o Op) String() string {
	if i, ok := ops[o]; ok {
		return i.name
	}
	return fmt.Sprintf("op(%#02x)", uint8(o))
}

// Insn is one instruction.
type Insn struct {
	Op      Op
	A, B, C uint8
	Imm     uint32
}

// off16 is the 16-bit field b | c<<8 (JRI offsets, LOOP body length).
func (in Insn) off16() int { return int(in.B) | int(in.C)<<8 }

// width is the access size of a load or store.
func (in Insn) width() uint64 { return uint64(in.C) }

// jumpTarget returns the target of a jump and whether in is one.
func (in Insn) jumpTarget(pc int) (int, bool) {
	switch ops[in.Op].form {
	case formJRR, formJ:
		return pc + 1 + int(in.Imm), true
	case formJRI:
		return pc + 1 + in.off16(), true
	}
	return 0, false
}

func (in Insn) String() string {
	info, ok := ops[in.Op]
	if !ok {
		return fmt.Sprintf("%v %d, %d, %d, %#x", in.Op, in.A, in.B, in.C, in.Imm)
	}
	r := func(n uint8) string { return fmt.Sprintf("r%d", n) }
	switch info.form {
	case formRRR:
		return fmt.Sprintf("%s %s, %s, %s", info.name, r(in.A), r(in.B), r(in.C))
	case formRR:
		return fmt.Sprintf("%s %s, %s", info.name, r(in.A), r(in.B))
	case formRRI:
		return fmt.Sprintf("%s %s, %s, %d", info.name, r(in.A), r(in.B), in.Imm)
	case formRI:
		return fmt.Sprintf("%s %s, %d", info.name, r(in.A), in.Imm)
	case formMem:
		if in.B == NoBase {
			return fmt.Sprintf("%s%d %s, [%d]", info.name, in.C, r(in.A), in.Imm)
		}
		return fmt.Sprintf("%s%d %s, [%s+%d]", info.name, in.C, r(in.A), r(in.B), in.Imm)
	case formJRR:
		return fmt.Sprintf("%s %s, %s, +%d", info.name, r(in.A), r(in.B), in.Imm)
	case formJRI:
		return fmt.Sprintf("%s %s, %d, +%d", info.name, r(in.A), in.Imm, in.off16())
	case formJ:
		return fmt.Sprintf("%s +%d", info.name, in.Imm)
	case formLoop:
		return fmt.Sprintf("%s %s, %d, len %d", info.name, r(in.A), in.Imm, in.off16())
	}
	return info.name
}

// Image is a decoded code image.
type Image struct {
	// ArgSize is the size of the argument window the code addresses: the
	// caller's buffer (at most ArgSize bytes) followed, up to ArgSize, by
	// bytes that read as zero and ignore stores.
	ArgSize uint32
	Code    []Insn
}

// Encode returns the binary image.
func (im *Image) Encode() []byte {
	b := make([]byte, HeaderSize+InsnSize*len(im.Code))
	copy(b, Magic)
	le := binary.LittleEndian
	le.PutUint16(b[4:], Version)
	le.PutUint32(b[8:], im.ArgSize)
	le.PutUint32(b[12:], uint32(len(im.Code)))
	for i, in := range im.Code {
		p := b[HeaderSize+InsnSize*i:]
		p[0], p[1], p[2], p[3] = byte(in.Op), in.A, in.B, in.C
		le.PutUint32(p[4:], in.Imm)
	}
	return b
}

// Decode parses a binary image: header, size limits and the instruction
// words. It does not check the instructions; Verify does.
func Decode(b []byte) (*Image, error) {
	if len(b) > MaxImage {
		return nil, verr(ReasonTooLong, -1, "image of %d bytes exceeds %d", len(b), MaxImage)
	}
	if len(b) < HeaderSize || string(b[:4]) != Magic {
		return nil, verr(ReasonHeader, -1, "not an access code image (magic %q)", Magic)
	}
	le := binary.LittleEndian
	if v := le.Uint16(b[4:]); v != Version {
		return nil, verr(ReasonHeader, -1, "version %d, want %d", v, Version)
	}
	if f := le.Uint16(b[6:]); f != 0 {
		return nil, verr(ReasonHeader, -1, "reserved flags %#x", f)
	}
	im := &Image{ArgSize: le.Uint32(b[8:])}
	n := le.Uint32(b[12:])
	if n == 0 || n > MaxInsns {
		return nil, verr(ReasonTooLong, -1, "%d instructions (1..%d)", n, MaxInsns)
	}
	if uint64(len(b)) != HeaderSize+InsnSize*uint64(n) {
		return nil, verr(ReasonHeader, -1, "image of %d bytes for %d instructions", len(b), n)
	}
	im.Code = make([]Insn, n)
	for i := range im.Code {
		p := b[HeaderSize+InsnSize*i:]
		im.Code[i] = Insn{Op: Op(p[0]), A: p[1], B: p[2], C: p[3], Imm: le.Uint32(p[4:])}
	}
	return im, nil
}
