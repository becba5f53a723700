package accesscode

import (
	"crypto/sha256"
	"math"
	"math/bits"
)

// Program is a verified access code, ready to run against a region of the
// size it was verified for. It holds the RMM's own copy of the code.
type Program struct {
	code         []Insn
	argSize      uint64
	regionSize   uint64
	hash         [sha256.Size]byte
	maxSteps     uint64
	maxMoved     uint64
	writesRegion bool
}

// Hash is the SHA-256 of the image the program was verified from.
func (p *Program) Hash() [sha256.Size]byte { return p.hash }

// ArgSize is the size of the argument window.
func (p *Program) ArgSize() uint64 { return p.argSize }

// RegionSize is the region size the program was verified for.
func (p *Program) RegionSize() uint64 { return p.regionSize }

// MaxSteps is the proven bound on the instructions one run executes.
func (p *Program) MaxSteps() uint64 { return p.maxSteps }

// MaxMoved is the proven bound on the bytes one run loads, stores and
// copies.
func (p *Program) MaxMoved() uint64 { return p.maxMoved }

// WritesRegion reports whether the program contains a store or a copy into
// the region.
func (p *Program) WritesRegion() bool { return p.writesRegion }

// Len is the number of instructions.
func (p *Program) Len() int { return len(p.code) }

// Verify decodes image and proves it safe to run against a region of
// regionSize bytes (see the package documentation for what is proven). A
// rejection is a *VerifyError.
func Verify(image []byte, regionSize uint64) (*Program, error) {
	im, err := Decode(image)
	if err != nil {
		return nil, err
	}
	if regionSize == 0 || regionSize > MaxRegionSize {
		return nil, verr(ReasonSize, -1, "region of %d bytes (1..%d)", regionSize, MaxRegionSize)
	}
	if im.ArgSize > MaxArgSize {
		return nil, verr(ReasonSize, -1, "argument window of %d bytes exceeds %d", im.ArgSize, MaxArgSize)
	}
	v := &verifier{code: im.Code, argSize: uint64(im.ArgSize), regionSize: regionSize}
	if err := v.structure(); err != nil {
		return nil, err
	}
	if err := v.ranges(); err != nil {
		return nil, err
	}
	p := &Program{code: im.Code, argSize: v.argSize, regionSize: regionSize, hash: sha256.Sum256(image)}
	for pc, in := range im.Code {
		switch in.Op {
		case OpSTR, OpCPIN, OpCPR:
			p.writesRegion = true
		}
		p.maxSteps = satAdd(p.maxSteps, v.mult[pc])
		p.maxMoved = satAdd(p.maxMoved, satMul(v.mult[pc], v.moved[pc]))
	}
	if p.maxSteps > MaxSteps {
		return nil, verr(ReasonUnbounded, -1, "up to %d steps (limit %d)", p.maxSteps, MaxSteps)
	}
	if p.maxMoved > MaxMoved {
		return nil, verr(ReasonUnbounded, -1, "up to %d bytes moved (limit %d)", p.maxMoved, MaxMoved)
	}
	return p, nil
}

// verifier holds the analysis of one image.
type verifier struct {
	code       []Insn
	argSize    uint64
	regionSize uint64

	// encl[pc] is the innermost LOOP whose body holds pc, or -1;
	// loopEnd[h] is the end (exclusive) of the body of the LOOP at h.
	encl    []int
	loopEnd map[int]int
	// mult[pc] is how often pc can execute: the product of the counts of
	// the loops around it (saturating).
	mult []uint64
	// moved[pc] is the most bytes one execution of pc can move.
	moved []uint64
}

// operands checks the fields of one instruction against its form.
func operands(pc int, in Insn) *VerifyError {
	info, ok := ops[in.Op]
	if !ok {
		return verr(ReasonOpcode, pc, "unknown opcode %#02x", uint8(in.Op))
	}
	reg := func(n uint8) bool { return n < NumRegs }
	bad := func(what string) *VerifyError { return verr(ReasonOperand, pc, "%s: %s", in, what) }
	switch info.form {
	case formRRR:
		if !reg(in.A) || !reg(in.B) || !reg(in.C) || in.Imm != 0 {
			return bad("needs three registers and no immediate")
		}
	case formRR:
		if !reg(in.A) || !reg(in.B) || in.C != 0 || in.Imm != 0 {
			return bad("needs two registers")
		}
	case formRRI:
		if !reg(in.A) || !reg(in.B) || in.C != 0 {
			return bad("needs two registers and an immediate")
		}
		switch {
		case (in.Op == OpSHLI || in.Op == OpSHRI) && in.Imm >= 64:
			return bad("shift of 64 or more")
		case (in.Op == OpDIVI || in.Op == OpMODI) && in.Imm == 0:
			return bad("divisor 0")
		}
	case formRI:
		if !reg(in.A) || in.B != 0 || in.C != 0 {
			return bad("needs a register and an immediate")
		}
	case formMem:
		if !reg(in.A) || !(reg(in.B) || in.B == NoBase) {
			return bad("bad register")
		}
		switch in.C {
		case 1, 2, 4, 8:
		default:
			return bad("width must be 1, 2, 4 or 8")
		}
	case formJRR:
		if !reg(in.A) || !reg(in.B) || in.C != 0 {
			return bad("needs two registers and an offset")
		}
	case formJRI:
		if !reg(in.A) {
			return bad("bad register")
		}
	case formJ:
		if in.A != 0 || in.B != 0 || in.C != 0 {
			return bad("needs only an offset")
		}
	case formLoop:
		if !reg(in.A) {
			return bad("bad index register")
		}
	case formNone:
		if in.A != 0 || in.B != 0 || in.C != 0 || in.Imm != 0 {
			return bad("takes no operands")
		}
	}
	return nil
}

// writes returns the register an instruction writes, if any.
func writes(in Insn) (uint8, bool) {
	switch ops[in.Op].form {
	case formRRR:
		switch in.Op {
		case OpCPIN, OpCPOUT, OpCPR:
			return 0, false
		}
		return in.A, true
	case formRR, formRRI, formRI, formLoop:
		return in.A, true
	case formMem:
		return in.A, in.Op == OpLDR || in.Op == OpLDA
	}
	return 0, false
}

// structure checks every instruction's operands, the loop structure (count,
// body, nesting, index register) and the jumps (forward, inside the code,
// never into a loop body from outside it), and computes how often each
// instruction can execute.
func (v *verifier) structure() error {
	n := len(v.code)
	v.encl = make([]int, n)
	v.loopEnd = map[int]int{}
	v.mult = make([]uint64, n)
	v.moved = make([]uint64, n)
	var open []int // LOOP headers whose bodies hold pc, outer first
	for pc, in := range v.code {
		if err := operands(pc, in); err != nil {
			return err
		}
		for len(open) > 0 && v.loopEnd[open[len(open)-1]] <= pc {
			open = open[:len(open)-1]
		}
		v.encl[pc] = -1
		mult := uint64(1)
		for _, h := range open {
			mult = satMul(mult, uint64(v.code[h].Imm))
		}
		if len(open) > 0 {
			v.encl[pc] = open[len(open)-1]
		}
		v.mult[pc] = mult
		if r, ok := writes(in); ok {
			for _, h := range open {
				if v.code[h].A == r {
					return verr(ReasonLoop, pc, "%s writes r%d, the index of the loop at %d", in, r, h)
				}
			}
		}
		if in.Op == OpLOOP {
			end := pc + 1 + in.off16()
			switch {
			case in.Imm == 0 || in.Imm > MaxLoopCount:
				return verr(ReasonLoop, pc, "loop count %d (1..%d)", in.Imm, MaxLoopCount)
			case in.off16() == 0:
				return verr(ReasonLoop, pc, "empty loop body")
			case end > n:
				return verr(ReasonLoop, pc, "loop body ends at %d, beyond the code (%d)", end, n)
			case len(open) > 0 && end > v.loopEnd[open[len(open)-1]]:
				return verr(ReasonLoop, pc, "loop body overlaps the end of the enclosing loop at %d", open[len(open)-1])
			case len(open) >= MaxLoopDepth:
				return verr(ReasonLoop, pc, "loops nested deeper than %d", MaxLoopDepth)
			}
			v.loopEnd[pc] = end
			open = append(open, pc)
		}
	}
	for pc, in := range v.code {
		t, ok := in.jumpTarget(pc)
		if !ok {
			continue
		}
		if t > n {
			return verr(ReasonJump, pc, "%s jumps to %d, beyond the code (%d)", in, t, n)
		}
		// Every loop whose body holds t must hold pc: no jump into a body.
		if t < n {
			for h := v.encl[t]; h >= 0; h = v.encl[h] {
				if !v.inside(pc, h) {
					return verr(ReasonJump, pc, "%s jumps into the body of the loop at %d", in, h)
				}
			}
		}
	}
	return nil
}

// inside reports whether pc is in the body of the loop at h.
func (v *verifier) inside(pc, h int) bool { return pc > h && pc < v.loopEnd[h] }

// ival is the set of values a register may hold: [lo, hi], unsigned.
type ival struct{ lo, hi uint64 }

var top = ival{0, math.MaxUint64}

func konst(k uint64) ival { return ival{k, k} }

func (a ival) join(b ival) ival { return ival{min(a.lo, b.lo), max(a.hi, b.hi)} }

// absState is the abstract machine state at one point: a register file of
// intervals, or unreachable (ok false).
type absState struct {
	ok bool
	r  [NumRegs]ival
}

var unreachable = absState{}

func join(a, b absState) absState {
	switch {
	case !a.ok:
		return b
	case !b.ok:
		return a
	}
	for i := range a.r {
		a.r[i] = a.r[i].join(b.r[i])
	}
	return a
}

// widen extends every bound of next that moved past prev to the end of the
// domain, so that loop analysis converges.
func widen(prev, next absState) absState {
	if !prev.ok || !next.ok {
		return next
	}
	for i := range next.r {
		if next.r[i].lo < prev.r[i].lo {
			next.r[i].lo = 0
		}
		if next.r[i].hi > prev.r[i].hi {
			next.r[i].hi = math.MaxUint64
		}
	}
	return next
}

// ranges runs the interval analysis over the whole program: the entry state
// is r0..r3 unknown (the caller's arguments), r4 the argument length (at
// most ArgSize) and r5..r15 zero.
func (v *verifier) ranges() error {
	entry := absState{ok: true}
	for i := range 4 {
		entry.r[i] = top
	}
	entry.r[4] = ival{0, v.argSize}
	_, _, err := v.analyse(0, len(v.code), entry)
	return err
}

// analyse interprets [from, to) abstractly from state in. It returns the
// state that reaches `to` (falling off the end, or a jump to exactly `to`)
// and the states of jumps beyond `to`, by target.
func (v *verifier) analyse(from, to int, in absState) (absState, map[int]absState, error) {
	pending := map[int]absState{}
	esc := map[int]absState{}
	target := func(t int, s absState) {
		if !s.ok {
			return
		}
		if t <= to {
			pending[t] = join(pending[t], s)
		} else {
			esc[t] = join(esc[t], s)
		}
	}
	cur := in
	for pc := from; pc < to; {
		if p, ok := pending[pc]; ok {
			cur = join(cur, p)
			delete(pending, pc)
		}
		ins := v.code[pc]
		if !cur.ok {
			if ins.Op == OpLOOP {
				pc = v.loopEnd[pc]
			} else {
				pc++
			}
			continue
		}
		switch f := ops[ins.Op].form; {
		case ins.Op == OpLOOP:
			after, loopEsc, err := v.loop(pc, cur)
			if err != nil {
				return unreachable, nil, err
			}
			for t, s := range loopEsc {
				target(t, s)
			}
			cur = after
			pc = v.loopEnd[pc]
			continue
		case ins.Op == OpEXIT:
			cur = unreachable
		case ins.Op == OpJMP:
			target(pc+1+int(ins.Imm), cur)
			cur = unreachable
		case f == formJRR || f == formJRI:
			t, _ := ins.jumpTarget(pc)
			taken, fall := branch(cur, ins)
			target(t, taken)
			cur = fall
		default:
			next, err := v.transfer(pc, cur, ins)
			if err != nil {
				return unreachable, nil, err
			}
			cur = next
		}
		pc++
	}
	out := join(cur, pending[to])
	return out, esc, nil
}

// maxLoopIterations bounds the fixpoint iterations of one loop; widening
// makes it converge long before.
const maxLoopIterations = 64

// loop analyses the LOOP at h entered with state in: a fixpoint over the
// body, widened after a few rounds. It returns the state after the loop and
// the jumps that leave it.
func (v *verifier) loop(h int, in absState) (absState, map[int]absState, error) {
	ins := v.code[h]
	idx, count, end := ins.A, uint64(ins.Imm), v.loopEnd[h]
	entry := in
	entry.r[idx] = ival{0, count - 1}
	cur := entry
	for iter := 0; iter < maxLoopIterations; iter++ {
		out, esc, err := v.analyse(h+1, end, cur)
		if err != nil {
			return unreachable, nil, err
		}
		next := join(entry, out)
		next.r[idx] = ival{0, count - 1}
		if iter >= 2 {
			next = widen(cur, next)
		}
		if next == cur {
			if out.ok {
				out.r[idx] = konst(count - 1)
			}
			return out, esc, nil
		}
		cur = next
	}
	return unreachable, nil, verr(ReasonLoop, h, "range analysis of the loop did not converge")
}

// transfer applies a non-branch instruction to s, checking its memory
// accesses, and records the bytes it moves.
func (v *verifier) transfer(pc int, s absState, in Insn) (absState, error) {
	a, b, c := in.A, in.B, in.C
	imm := konst(uint64(in.Imm))
	var res ival
	switch in.Op {
	case OpMOV:
		res = s.r[b]
	case OpMOVI:
		res = imm
	case OpADD, OpADDI, OpSUB, OpSUBI, OpMUL, OpMULI, OpAND, OpANDI, OpOR, OpORI, OpXOR, OpXORI,
		OpSHL, OpSHLI, OpSHR, OpSHRI:
		y := imm
		if ops[in.Op].form == formRRR {
			y = s.r[c]
		}
		res = alu(in.Op, s.r[b], y)
	case OpDIVI:
		x := s.r[b]
		res = ival{x.lo / uint64(in.Imm), x.hi / uint64(in.Imm)}
	case OpMODI:
		if x := s.r[b]; x.hi < uint64(in.Imm) {
			res = x
		} else {
			res = ival{0, uint64(in.Imm) - 1}
		}
	case OpLDR, OpSTR, OpLDA, OpSTA:
		size, space := v.regionSize, "region"
		if in.Op == OpLDA || in.Op == OpSTA {
			size, space = v.argSize, "argument window"
		}
		base := konst(0)
		if b != NoBase {
			base = s.r[b]
		}
		w := in.width()
		if !fits(base.hi, uint64(in.Imm), w, size) {
			return unreachable, verr(ReasonBounds, pc, "%s may access beyond the %d-byte %s (offset up to %s+%d)",
				in, size, space, hiString(base.hi), in.Imm)
		}
		v.moved[pc] = w
		if in.Op == OpSTR || in.Op == OpSTA {
			return s, nil
		}
		res = ival{0, math.MaxUint64 >> (64 - 8*w)}
	case OpCPIN, OpCPOUT, OpCPR:
		dstSize, srcSize := v.regionSize, v.argSize // CPIN
		switch in.Op {
		case OpCPOUT:
			dstSize, srcSize = v.argSize, v.regionSize
		case OpCPR:
			srcSize = v.regionSize
		}
		n := s.r[c].hi
		if !fits(s.r[a].hi, 0, n, dstSize) || !fits(s.r[b].hi, 0, n, srcSize) {
			return unreachable, verr(ReasonBounds, pc, "%s may copy up to %s bytes from offset up to %s to offset up to %s, beyond the source (%d) or destination (%d)",
				in, hiString(n), hiString(s.r[b].hi), hiString(s.r[a].hi), srcSize, dstSize)
		}
		v.moved[pc] = max(v.moved[pc], n)
		return s, nil
	}
	s.r[a] = res
	return s, nil
}

func hiString(x uint64) string {
	if x == math.MaxUint64 {
		return "2^64-1"
	}
	return itoa(x)
}

func itoa(x uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + x%10)
		x /= 10
		if x == 0 {
			return string(b[i:])
		}
	}
}

// fits reports whether [base+off, base+off+n) lies within [0, size) for the
// largest base, without overflow.
func fits(base, off, n, size uint64) bool {
	end, c1 := bits.Add64(base, off, 0)
	end, c2 := bits.Add64(end, n, 0)
	return c1 == 0 && c2 == 0 && end <= size
}

// alu is the interval transfer function of a two-operand ALU operation.
func alu(op Op, x, y ival) ival {
	if x.lo == x.hi && y.lo == y.hi {
		return konst(eval(op, x.lo, y.lo))
	}
	switch op {
	case OpADD, OpADDI:
		hi, c := bits.Add64(x.hi, y.hi, 0)
		if c != 0 {
			return top
		}
		return ival{x.lo + y.lo, hi}
	case OpSUB, OpSUBI:
		if x.lo < y.hi {
			return top
		}
		return ival{x.lo - y.hi, x.hi - y.lo}
	case OpMUL, OpMULI:
		h, l := bits.Mul64(x.hi, y.hi)
		if h != 0 {
			return top
		}
		return ival{x.lo * y.lo, l}
	case OpAND, OpANDI:
		return ival{0, min(x.hi, y.hi)}
	case OpOR, OpORI:
		return ival{max(x.lo, y.lo), fill(max(x.hi, y.hi))}
	case OpXOR, OpXORI:
		return ival{0, fill(max(x.hi, y.hi))}
	case OpSHL, OpSHLI:
		if y.lo != y.hi {
			return top
		}
		k := y.lo % 64
		if k > 0 && x.hi>>(64-k) != 0 {
			return top
		}
		return ival{x.lo << k, x.hi << k}
	case OpSHR, OpSHRI:
		if y.lo != y.hi {
			return ival{0, x.hi}
		}
		k := y.lo % 64
		return ival{x.lo >> k, x.hi >> k}
	}
	return top
}

// fill sets every bit below the highest set bit of x.
func fill(x uint64) uint64 {
	if x == 0 {
		return 0
	}
	return math.MaxUint64 >> bits.LeadingZeros64(x)
}

// eval is the concrete semantics of the two-operand ALU operations, shared
// by the analysis (constant folding) and the interpreter.
func eval(op Op, x, y uint64) uint64 {
	switch op {
	case OpADD, OpADDI:
		return x + y
	case OpSUB, OpSUBI:
		return x - y
	case OpMUL, OpMULI:
		return x * y
	case OpAND, OpANDI:
		return x & y
	case OpOR, OpORI:
		return x | y
	case OpXOR, OpXORI:
		return x ^ y
	case OpSHL, OpSHLI:
		return x << (y % 64)
	case OpSHR, OpSHRI:
		return x >> (y % 64)
	}
	return 0
}

// cond is the comparison of a conditional jump.
type cond uint8

const (
	condEQ cond = iota
	condNE
	condLT
	condLE
	condGT
	condGE
)

// condOf returns the comparison of a conditional jump.
func condOf(op Op) cond {
	if op >= OpJEQI {
		return cond(op - OpJEQI)
	}
	return cond(op - OpJEQ)
}

// negate is the comparison that holds when c does not.
func (c cond) negate() cond {
	return [...]cond{condNE, condEQ, condGE, condGT, condLE, condLT}[c]
}

func (c cond) holds(x, y uint64) bool {
	switch c {
	case condEQ:
		return x == y
	case condNE:
		return x != y
	case condLT:
		return x < y
	case condLE:
		return x <= y
	case condGT:
		return x > y
	}
	return x >= y
}

// branch splits s at a conditional jump into the states where it is taken
// and where it falls through, refining the compared registers.
func branch(s absState, in Insn) (taken, fall absState) {
	c := condOf(in.Op)
	return refine(s, in, c), refine(s, in, c.negate())
}

// refine returns s restricted to the values where `ra c operand` holds, or
// unreachable when none do.
func refine(s absState, in Insn, c cond) absState {
	x := s.r[in.A]
	y := konst(uint64(in.Imm))
	regY := ops[in.Op].form == formJRR
	if regY {
		if in.B == in.A {
			if c.holds(0, 0) { // EQ, LE, GE: always; NE, LT, GT: never
				return s
			}
			return unreachable
		}
		y = s.r[in.B]
	}
	x, y, ok := constrain(x, y, c)
	if !ok {
		return unreachable
	}
	s.r[in.A] = x
	if regY {
		s.r[in.B] = y
	}
	return s
}

// constrain narrows x and y to the values with x c y.
func constrain(x, y ival, c cond) (ival, ival, bool) {
	switch c {
	case condEQ:
		z := ival{max(x.lo, y.lo), min(x.hi, y.hi)}
		return z, z, z.lo <= z.hi
	case condNE:
		if x.lo == x.hi && y.lo == y.hi && x.lo == y.lo {
			return x, y, false
		}
		x, okx := exclude(x, y)
		y, oky := exclude(y, x)
		return x, y, okx && oky
	case condLT:
		if y.hi == 0 || x.lo == math.MaxUint64 {
			return x, y, false
		}
		x.hi = min(x.hi, y.hi-1)
		y.lo = max(y.lo, x.lo+1)
	case condLE:
		x.hi = min(x.hi, y.hi)
		y.lo = max(y.lo, x.lo)
	case condGT:
		y, x, ok := constrain(y, x, condLT)
		return x, y, ok
	case condGE:
		y, x, ok := constrain(y, x, condLE)
		return x, y, ok
	}
	return x, y, x.lo <= x.hi && y.lo <= y.hi
}

// exclude removes the constant k (when k is a single value) from the ends of
// x.
func exclude(x, k ival) (ival, bool) {
	if k.lo != k.hi {
		return x, true
	}
	if x.lo == k.lo {
		if x.lo == x.hi {
			return x, false
		}
		x.lo++
	}
	if x.hi == k.lo {
		if x.lo == x.hi {
			return x, false
		}
		x.hi--
	}
	return x, true
}

func satAdd(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return math.MaxUint64
	}
	return s
}

func satMul(a, b uint64) uint64 {
	h, l := bits.Mul64(a, b)
	if h != 0 {
		return math.MaxUint64
	}
	return l
}
