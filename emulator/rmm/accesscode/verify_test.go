package accesscode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func asm(t testing.TB, src string) []byte {
	t.Helper()
	b, err := Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ringPut and ringGet are the mailbox programs of the producer–consumer
// workload (docs/sharing.md §5.4): a ring of cap slots of 8+slot bytes at
// 0x40, head at 0, tail at 8.
func ringPut(cap, slot int) string {
	return fmt.Sprintf(`
	.arg %[2]d
	ldr8 r5, [0]          ; head
	ldr8 r6, [8]          ; tail
	sub r7, r5, r6
	jgei r7, %[1]d, full
	jgti r4, %[2]d, toolong
	modi r8, r5, %[1]d
	muli r8, r8, %[3]d
	addi r8, r8, 64
	str8 r4, [r8]
	addi r9, r8, 8
	movi r10, 0
	cpin r9, r10, r4
	addi r5, r5, 1
	str8 r5, [0]
	movi r0, 0
	exit
full:
	movi r0, 1
	exit
toolong:
	movi r0, 2
	`, cap, slot, 8+slot)
}

func ringGet(cap, slot int) string {
	return fmt.Sprintf(`
	.arg %[2]d
	ldr8 r5, [0]
	ldr8 r6, [8]
	jeq r5, r6, empty
	modi r8, r6, %[1]d
	muli r8, r8, %[3]d
	addi r8, r8, 64
	ldr8 r7, [r8]         ; length, written by another member: untrusted
	jgti r7, %[2]d, corrupt
	jgt r7, r4, small
	addi r9, r8, 8
	movi r10, 0
	cpout r10, r9, r7
	addi r6, r6, 1
	str8 r6, [8]
	movi r0, 0
	mov r1, r7
	exit
empty:
	movi r0, 1
	exit
small:
	movi r0, 2
	exit
corrupt:
	movi r0, 3
	`, cap, slot, 8+slot)
}

func ringSize(cap, slot int) uint64 { return uint64(64 + cap*(8+slot)) }

var accepted = []struct {
	name   string
	src    string
	region uint64
}{
	{"ring put", ringPut(4, 100), ringSize(4, 100)},
	{"ring get", ringGet(4, 100), ringSize(4, 100)},
	{"ring put, 1 MiB slot", ringPut(1, 1<<20), ringSize(1, 1<<20)},
	{"last word of the region", "str8 r0, [4088]\nldr8 r1, [4088]", 4096},
	{"sum of 16 words", `
	loop r9, 16, end
	shli r5, r9, 3
	ldr8 r6, [r5+0]
	add r7, r7, r6
end:
	mov r0, r7`, 128},
	{"nested loops over a 16x16 matrix", `
	loop r9, 16, outer
	loop r10, 16, inner
	muli r5, r9, 16
	add r5, r5, r10
	ldr1 r6, [r5]
	add r0, r0, r6
inner:
	movi r1, 1
outer:
	exit`, 256},
	{"break out of a loop", `
	loop r9, 1000, end
	shli r5, r9, 3
	ldr8 r6, [r5]
	jeqi r6, 0, found
end:
	movi r0, 0
	exit
found:
	mov r0, r9`, 8000},
	{"continue by jumping to the end of the body", `
	loop r9, 10, end
	jgti r9, 4, end
	str1 r9, [r9]
end:
	exit`, 16},
	{"guarded copy-in", ".arg 100\njgti r4, 100, bad\nmovi r5, 0\ncpin r5, r5, r4\nbad: exit", 100},
	{"copy length bounded by another register", `
	.arg 64
	ldr8 r1, [0]
	jgti r1, 56, bad
	jgt r1, r4, bad
	movi r2, 8
	movi r3, 0
	cpout r3, r2, r1
bad:
	exit`, 64},
	{"memmove inside the region", "movi r1, 10\nmovi r2, 0\nmovi r3, 100\ncpr r1, r2, r3", 110},
	{"masked offset", "andi r5, r0, 4095\nldr1 r1, [r5]", 4096},
	{"modulo offset", "modi r5, r0, 4089\nldr8 r1, [r5]", 4096},
	{"argument word", ".arg 8\nlda8 r1, [0]\nsta8 r1, [0]", 8},
	{"unreachable code is not checked", "exit\nldr8 r1, [r0]", 8},
	{"arithmetic on constants", "movi r1, 100\nsubi r1, r1, 60\nmuli r1, r1, 2\nldr8 r2, [r1]", 88},
	{"or and xor of small values", "andi r1, r0, 15\nori r1, r1, 16\nxori r2, r1, 7\nldr1 r3, [r2]", 32},
	{"deepest nesting allowed", `
	loop r9, 2, a
	loop r10, 2, b
	loop r11, 2, c
	loop r12, 2, d
	movi r0, 1
d:
	movi r1, 1
c:
	movi r2, 1
b:
	movi r3, 1
a:
	exit`, 8},
}

func TestVerifyAccepts(t *testing.T) {
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Verify(asm(t, tc.src), tc.region)
			if err != nil {
				t.Fatal(err)
			}
			if p.MaxSteps() == 0 || p.MaxSteps() > MaxSteps || p.MaxMoved() > MaxMoved {
				t.Fatalf("bounds: steps %d, moved %d", p.MaxSteps(), p.MaxMoved())
			}
		})
	}
}

// raw builds an image from instructions without the assembler's checks.
func raw(argSize uint32, code ...Insn) []byte { return (&Image{ArgSize: argSize, Code: code}).Encode() }

func TestVerifyRejects(t *testing.T) {
	exit := Insn{Op: OpEXIT}
	long := make([]Insn, MaxInsns+1)
	for i := range long {
		long[i] = exit
	}
	badVersion := raw(0, exit)
	binary.LittleEndian.PutUint16(badVersion[4:], 2)
	badFlags := raw(0, exit)
	badFlags[6] = 1
	for _, tc := range []struct {
		name   string
		image  []byte
		region uint64
		reason Reason
		pc     int
	}{
		// Header and size.
		{"empty image", nil, 64, ReasonHeader, -1},
		{"bad magic", []byte("XSAC\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x41\x00\x00\x00\x00\x00\x00\x00"), 64, ReasonHeader, -1},
		{"bad version", badVersion, 64, ReasonHeader, -1},
		{"reserved flags", badFlags, 64, ReasonHeader, -1},
		{"truncated", raw(0, exit, exit)[:20], 64, ReasonHeader, -1},
		{"no instructions", raw(0), 64, ReasonTooLong, -1},
		{"too long", raw(0, long...), 64, ReasonTooLong, -1},
		{"argument window too large", raw(MaxArgSize+1, exit), 64, ReasonSize, -1},
		{"empty region", raw(0, exit), 0, ReasonSize, -1},
		{"region too large", raw(0, exit), MaxRegionSize + 1, ReasonSize, -1},
		// Bad instructions.
		{"opcode 0 (zero memory is not code)", raw(0, Insn{}), 64, ReasonOpcode, 0},
		{"unknown opcode", raw(0, exit, Insn{Op: 0xFF}), 64, ReasonOpcode, 1},
		{"register r16", raw(0, Insn{Op: OpMOV, A: 16}), 64, ReasonOperand, 0},
		{"width 3", raw(0, Insn{Op: OpLDR, C: 3, B: NoBase}), 64, ReasonOperand, 0},
		{"reserved field", raw(0, Insn{Op: OpEXIT, A: 1}), 64, ReasonOperand, 0},
		{"immediate on a register form", raw(0, Insn{Op: OpADD, Imm: 1}), 64, ReasonOperand, 0},
		{"shift by 64", raw(0, Insn{Op: OpSHLI, Imm: 64}), 64, ReasonOperand, 0},
		{"divide by zero", raw(0, Insn{Op: OpDIVI}), 64, ReasonOperand, 0},
		// Control flow.
		{"jump beyond the code", raw(0, Insn{Op: OpJMP, Imm: 5}, exit), 64, ReasonJump, 0},
		{"backward jump (offset wraps)", raw(0, exit, Insn{Op: OpJMP, Imm: 0xFFFFFFFF}), 64, ReasonJump, 1},
		{"jump into a loop body", asmRaw(t, "jmp in\nloop r9, 4, end\nin: exit\nend: exit"), 64, ReasonJump, 0},
		{"loop count 0", raw(0, Insn{Op: OpLOOP, B: 1}, exit), 64, ReasonLoop, 0},
		{"loop count above the limit", raw(0, Insn{Op: OpLOOP, B: 1, Imm: MaxLoopCount + 1}, exit), 64, ReasonLoop, 0},
		{"empty loop body", raw(0, Insn{Op: OpLOOP, Imm: 4}, exit), 64, ReasonLoop, 0},
		{"loop body beyond the code", raw(0, Insn{Op: OpLOOP, B: 5, Imm: 4}, exit), 64, ReasonLoop, 0},
		{"overlapping loops", raw(0, Insn{Op: OpLOOP, A: 1, B: 2, Imm: 2}, Insn{Op: OpLOOP, A: 2, B: 2, Imm: 2}, exit, exit), 64, ReasonLoop, 1},
		{"loop writes its index", asmRaw(t, "loop r9, 4, end\naddi r9, r9, 1\nend: exit"), 64, ReasonLoop, 1},
		{"inner loop reuses the index", asmRaw(t, "loop r9, 4, end\nloop r9, 4, end\nexit\nend: exit"), 64, ReasonLoop, 1},
		{"nested too deep", asmRaw(t, "loop r1, 2, e\nloop r2, 2, e\nloop r3, 2, e\nloop r5, 2, e\nloop r6, 2, e\nexit\ne: exit"), 64, ReasonLoop, 4},
		{"unbounded: 2^32 steps", asmRaw(t, "loop r9, 65536, e\nloop r10, 65536, e\nmovi r0, 1\ne: exit"), 64, ReasonUnbounded, -1},
		{"unbounded: bytes moved", asmRaw(t, ".arg 1048576\nloop r9, 65536, e\nmovi r1, 0\nmovi r2, 2048\ncpin r1, r1, r2\ne: exit"), 1 << 20, ReasonUnbounded, -1},
		// Escapes.
		{"absolute load past the end", asmRaw(t, "ldr8 r1, [4090]"), 4096, ReasonBounds, 0},
		{"load through an unknown register", asmRaw(t, "ldr1 r1, [r0]"), 4096, ReasonBounds, 0},
		{"store through a loaded value", asmRaw(t, "ldr8 r1, [0]\nstr8 r2, [r1]"), 4096, ReasonBounds, 1},
		{"argument window overrun", asmRaw(t, ".arg 100\nlda1 r1, [100]"), 4096, ReasonBounds, 0},
		{"unguarded copy length", asmRaw(t, ".arg 4096\nmovi r5, 0\ncpin r5, r5, r4"), 100, ReasonBounds, 1},
		{"copy length from the caller", asmRaw(t, ".arg 64\nmovi r5, 0\ncpout r5, r5, r0"), 64, ReasonBounds, 1},
		{"loop index times stride too large", asmRaw(t, "loop r9, 600, e\nshli r5, r9, 3\nldr8 r6, [r5]\ne: exit"), 4096, ReasonBounds, 2},
		{"induction variable (widened)", asmRaw(t, "loop r9, 4, e\nldr8 r6, [r5]\naddi r5, r5, 8\ne: exit"), 4096, ReasonBounds, 1},
		{"address overflow", asmRaw(t, "andi r1, r0, 1\nshli r1, r1, 63\nadd r1, r1, r1\nldr1 r2, [r1]"), 4096, ReasonBounds, 3},
		{"wrapped subtraction", asmRaw(t, "andi r1, r0, 15\nsubi r1, r1, 1\nldr1 r2, [r1]"), 4096, ReasonBounds, 2},
		{"branch on the wrong register", asmRaw(t, ".arg 64\njgti r1, 64, e\nmovi r5, 0\ncpin r5, r5, r4\ne: exit"), 32, ReasonBounds, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(tc.image, tc.region)
			var ve *VerifyError
			if !errors.As(err, &ve) || !errors.Is(err, ErrRejected) {
				t.Fatalf("accepted or wrong error: %v", err)
			}
			if ve.Reason != tc.reason || ve.PC != tc.pc {
				t.Fatalf("rejected for %v at %d, want %v at %d: %v", ve.Reason, ve.PC, tc.reason, tc.pc, err)
			}
		})
	}
}

// asmRaw assembles without verifying.
func asmRaw(t *testing.T, src string) []byte { return asm(t, src) }

func TestAssemblerErrors(t *testing.T) {
	for _, src := range []string{
		"",
		"; only a comment",
		"jmp back\nback: exit\njmp back",
		"frob r1",
		"add r1, r2",
		"add r1, r2, r16",
		"ldr r1, [0]",
		"ldr8 r1, [r2+r3]",
		"movi r1, 0x100000000",
		"jmp nowhere",
		"a: exit\na: exit",
		".arg",
		"1bad: exit",
	} {
		if _, err := Assemble(src); !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: %v", src, err)
		}
	}
}

func TestAssembleRoundTrip(t *testing.T) {
	src := ringGet(4, 100)
	im, err := Decode(asm(t, src))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, in := range im.Code {
		lines = append(lines, in.String())
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{"ldr8 r5, [0]", "jeq r5, r6, +", "cpout r10, r9, r7", "modi r8, r6, 4"} {
		if !strings.Contains(text, want) {
			t.Errorf("disassembly lacks %q:\n%s", want, text)
		}
	}
}
