package accesscode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
)

func verify(t testing.TB, src string, region uint64) *Program {
	t.Helper()
	p, err := Verify(asm(t, src), region)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t testing.TB, p *Program, region, arg []byte, args ...uint64) Result {
	t.Helper()
	var a [4]uint64
	copy(a[:], args)
	res, err := p.Run(Bytes(region), Bytes(arg), a)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps > p.MaxSteps() || res.Moved > p.MaxMoved() {
		t.Fatalf("run exceeded its proven bounds: %+v, steps ≤ %d, moved ≤ %d", res, p.MaxSteps(), p.MaxMoved())
	}
	return res
}

func TestRing(t *testing.T) {
	const cap, slot = 4, 100
	region := make([]byte, ringSize(cap, slot))
	put := verify(t, ringPut(cap, slot), uint64(len(region)))
	get := verify(t, ringGet(cap, slot), uint64(len(region)))
	msg := func(i int) []byte { return bytes.Repeat([]byte{byte(i + 1)}, 10+i) }
	for i := range cap {
		if r := run(t, put, region, msg(i)); r.Regs[0] != 0 {
			t.Fatalf("put %d: %d", i, r.Regs[0])
		}
	}
	if r := run(t, put, region, msg(9)); r.Regs[0] != 1 {
		t.Fatalf("put into a full ring: %d", r.Regs[0])
	}
	if r := run(t, put, region, make([]byte, slot)); r.Regs[0] != 1 {
		t.Fatalf("full is checked before length: %d", r.Regs[0])
	}
	for i := range cap {
		buf := make([]byte, slot)
		r := run(t, get, region, buf)
		if r.Regs[0] != 0 || !bytes.Equal(buf[:r.Regs[1]], msg(i)) {
			t.Fatalf("get %d: status %d, %x", i, r.Regs[0], buf[:r.Regs[1]])
		}
	}
	if r := run(t, get, region, make([]byte, slot)); r.Regs[0] != 1 {
		t.Fatalf("get from an empty ring: %d", r.Regs[0])
	}
	// A buffer too small for the message: nothing copied, nothing consumed.
	run(t, put, region, msg(20))
	if r := run(t, get, region, make([]byte, 5)); r.Regs[0] != 2 {
		t.Fatalf("small buffer: %d", r.Regs[0])
	}
	// Another member corrupts the length field: the guard refuses it.
	head := binary.LittleEndian.Uint64(region[8:])
	binary.LittleEndian.PutUint64(region[64+int(head%cap)*(8+slot):], 1<<40)
	buf := make([]byte, slot)
	if r := run(t, get, region, buf); r.Regs[0] != 3 || !bytes.Equal(buf, make([]byte, slot)) {
		t.Fatalf("corrupt length: %d", r.Regs[0])
	}
	// Too long for a slot.
	putBig := verify(t, ringPut(cap, slot), uint64(len(region)))
	if _, err := putBig.Run(Bytes(region), Bytes(make([]byte, slot+1)), [4]uint64{}); !errors.Is(err, ErrFault) {
		t.Fatalf("argument longer than the window: %v", err)
	}
}

func TestArgumentWindow(t *testing.T) {
	p := verify(t, ".arg 16\nlda8 r0, [0]\nlda8 r1, [8]\nsta8 r0, [8]\nsta8 r0, [2]\nmov r2, r4", 8)
	arg := []byte{1, 2, 3, 4}
	r := run(t, p, make([]byte, 8), arg)
	if r.Regs[0] != 0x04030201 || r.Regs[1] != 0 || r.Regs[2] != 4 {
		t.Fatalf("regs %#x", r.Regs)
	}
	// The store at 2 wrote the two bytes that exist; the one at 8 vanished.
	if !bytes.Equal(arg, []byte{1, 2, 1, 2}) {
		t.Fatalf("arg %x", arg)
	}
}

func TestLoops(t *testing.T) {
	region := make([]byte, 128)
	for i := range 16 {
		binary.LittleEndian.PutUint64(region[8*i:], uint64(i))
	}
	sum := verify(t, acceptedSrc(t, "sum of 16 words"), 128)
	if r := run(t, sum, region, nil); r.Regs[0] != 120 {
		t.Fatalf("sum %d", r.Regs[0])
	}
	// Break: the first zero word is at index 0 here; put it at 5.
	brk := make([]byte, 8000)
	for i := range 1000 {
		binary.LittleEndian.PutUint64(brk[8*i:], 1)
	}
	binary.LittleEndian.PutUint64(brk[40:], 0)
	p := verify(t, acceptedSrc(t, "break out of a loop"), 8000)
	if r := run(t, p, brk, nil); r.Regs[0] != 5 || r.Steps > 5*4+3 {
		t.Fatalf("break: r0 %d after %d steps", r.Regs[0], r.Steps)
	}
	// Continue: only indices 0..4 are stored.
	cont := make([]byte, 16)
	run(t, verify(t, acceptedSrc(t, "continue by jumping to the end of the body"), 16), cont, nil)
	if !bytes.Equal(cont, []byte{0, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) {
		t.Fatalf("continue: %v", cont)
	}
	// Nested: sum of a 16x16 byte matrix, and the index after the loop.
	m := make([]byte, 256)
	for i := range m {
		m[i] = 1
	}
	nested := verify(t, acceptedSrc(t, "nested loops over a 16x16 matrix"), 256)
	r := run(t, nested, m, nil)
	if r.Regs[0] != 256 || r.Regs[1] != 1 {
		t.Fatalf("nested: %v", r.Regs)
	}
	if r.Steps != nested.MaxSteps() {
		t.Fatalf("a loop without exits runs exactly its bound: %d steps, bound %d", r.Steps, nested.MaxSteps())
	}
	if r := run(t, verify(t, "loop r9, 5, e\nmovi r0, 1\ne: mov r3, r9", 8), make([]byte, 8), nil); r.Regs[3] != 4 {
		t.Fatalf("index after the loop: %d", r.Regs[3])
	}
}

func acceptedSrc(t *testing.T, name string) string {
	for _, tc := range accepted {
		if tc.name == name {
			return tc.src
		}
	}
	t.Fatalf("no accepted program %q", name)
	return ""
}

func TestMemmove(t *testing.T) {
	for _, tc := range []struct{ dst, src, n uint64 }{{10, 0, 100}, {0, 10, 100}, {0, 0, 110}, {5000, 0, 5000}, {0, 5000, 5000}} {
		size := max(tc.dst, tc.src) + tc.n
		region := make([]byte, size)
		for i := range region {
			region[i] = byte(i * 7)
		}
		want := bytes.Clone(region)
		copy(want[tc.dst:tc.dst+tc.n], region[tc.src:tc.src+tc.n])
		p := verify(t, "movi r1, "+itoa(tc.dst)+"\nmovi r2, "+itoa(tc.src)+"\nmovi r3, "+itoa(tc.n)+"\ncpr r1, r2, r3", size)
		run(t, p, region, nil)
		if !bytes.Equal(region, want) {
			t.Errorf("cpr %+v", tc)
		}
	}
}

func TestRunChecksSizes(t *testing.T) {
	p := verify(t, ".arg 8\nexit", 64)
	if _, err := p.Run(Bytes(make([]byte, 63)), Bytes(nil), [4]uint64{}); !errors.Is(err, ErrFault) {
		t.Fatalf("wrong region size: %v", err)
	}
	if _, err := p.Run(Bytes(make([]byte, 64)), Bytes(make([]byte, 9)), [4]uint64{}); !errors.Is(err, ErrFault) {
		t.Fatalf("argument too long: %v", err)
	}
}

// TestRandomPrograms generates programs from the instruction set with valid
// operands (most are rejected, many accepted) and runs every accepted one
// against memories that fail on any out-of-bounds access: the verifier's
// soundness, checked on every test run.
func TestRandomPrograms(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 500
	}
	accepted := 0
	for range n {
		img, region, argSize := randomProgram(rng)
		p, err := Verify(img, region)
		if err != nil {
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("non-rejection error: %v", err)
			}
			continue
		}
		accepted++
		arg := make([]byte, rng.Uint64N(argSize+1))
		args := [4]uint64{rng.Uint64(), rng.Uint64N(64), rng.Uint64N(4096), 0}
		checkRun(t, p, img, make([]byte, region), arg, args)
	}
	if accepted < n/20 {
		t.Fatalf("only %d of %d random programs verified; the generator is too weak", accepted, n)
	}
}

func checkRun(t testing.TB, p *Program, img, region, arg []byte, args [4]uint64) {
	t.Helper()
	res, err := p.Run(Bytes(region), Bytes(arg), args)
	if err != nil {
		t.Fatalf("verified program faulted: %v\n%s", err, disasm(img))
	}
	if res.Steps > p.MaxSteps() || res.Moved > p.MaxMoved() {
		t.Fatalf("run beyond proven bounds: %+v (steps ≤ %d, moved ≤ %d)\n%s", res, p.MaxSteps(), p.MaxMoved(), disasm(img))
	}
}

func disasm(img []byte) string {
	im, err := Decode(img)
	if err != nil {
		return err.Error()
	}
	var b bytes.Buffer
	for i, in := range im.Code {
		b.WriteString(itoa(uint64(i)) + ": " + in.String() + "\n")
	}
	return b.String()
}

// randomProgram returns a random image of well-formed instructions, with
// small immediates so that some accesses are provably in bounds.
func randomProgram(rng *rand.Rand) ([]byte, uint64, uint64) {
	region := 1 + rng.Uint64N(512)
	argSize := rng.Uint64N(256)
	n := 1 + rng.IntN(24)
	code := make([]Insn, n)
	var opList []Op
	for op := range ops {
		opList = append(opList, op)
	}
	// Map iteration order is random; sort for reproducibility.
	for i := range opList {
		for j := i + 1; j < len(opList); j++ {
			if opList[j] < opList[i] {
				opList[i], opList[j] = opList[j], opList[i]
			}
		}
	}
	reg := func() uint8 { return uint8(rng.IntN(8)) }
	small := func() uint32 { return uint32(rng.Uint64N(region + 8)) }
	for pc := range code {
		op := opList[rng.IntN(len(opList))]
		in := Insn{Op: op}
		switch ops[op].form {
		case formRRR:
			in.A, in.B, in.C = reg(), reg(), reg()
		case formRR:
			in.A, in.B = reg(), reg()
		case formRRI:
			in.A, in.B, in.Imm = reg(), reg(), 1+uint32(rng.IntN(63))
		case formRI:
			in.A, in.Imm = reg(), small()
		case formMem:
			in.A, in.C, in.Imm = reg(), []uint8{1, 2, 4, 8}[rng.IntN(4)], small()
			in.B = NoBase
			if rng.IntN(2) == 0 {
				in.B = reg()
			}
		case formJRR:
			in.A, in.B, in.Imm = reg(), reg(), uint32(rng.IntN(n-pc))
		case formJRI:
			in.A, in.Imm = reg(), small()
			off := rng.IntN(n - pc)
			in.B, in.C = uint8(off), uint8(off>>8)
		case formJ:
			in.Imm = uint32(rng.IntN(n - pc))
		case formLoop:
			in.A, in.Imm = 8+uint8(rng.IntN(8)), 1+uint32(rng.IntN(20))
			body := rng.IntN(n - pc)
			in.B, in.C = uint8(body), uint8(body>>8)
		}
		code[pc] = in
	}
	return (&Image{ArgSize: uint32(argSize), Code: code}).Encode(), region, argSize
}
