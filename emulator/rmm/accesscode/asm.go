package accesscode

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrSyntax matches assembly errors.
var ErrSyntax = errors.New("accesscode: syntax")

// Assemble translates the textual form of an access code into an image
// (docs/sharing.md §5.3). One instruction per line; ';' starts a comment;
// "name:" defines a label; ".arg N" sets the argument window size.
//
//	add r1, r2, r3          addi r1, r2, 8          mov r1, r2      movi r1, 5
//	ldr8 r1, [r2+16]        str4 r1, [64]           lda1 r1, [r2]   sta8 r1, [0]
//	cpin r1, r2, r3         cpout r1, r2, r3        cpr r1, r2, r3
//	jeq r1, r2, label       jgti r1, 100, label     jmp label
//	loop r9, 16, end        (the body runs up to, not including, label end)
//	exit
//
// Jumps must go forward; the assembler refuses backward ones, as the
// verifier would.
func Assemble(src string) ([]byte, error) {
	type pending struct {
		line  int
		in    Insn
		label string // jump target or loop end, resolved in pass 2
	}
	var (
		prog    []pending
		labels  = map[string]int{}
		argSize uint64
	)
	fail := func(line int, format string, args ...any) error {
		return fmt.Errorf("%w: line %d: %s", ErrSyntax, line, fmt.Sprintf(format, args...))
	}
	for i, raw := range strings.Split(src, "\n") {
		line := i + 1
		text := raw
		if k := strings.IndexByte(text, ';'); k >= 0 {
			text = text[:k]
		}
		text = strings.TrimSpace(text)
		for {
			k := strings.IndexByte(text, ':')
			if k < 0 || strings.ContainsAny(text[:k], " \t[") {
				break
			}
			name := text[:k]
			if !isIdent(name) {
				return nil, fail(line, "bad label %q", name)
			}
			if _, dup := labels[name]; dup {
				return nil, fail(line, "label %q defined twice", name)
			}
			labels[name] = len(prog)
			text = strings.TrimSpace(text[k+1:])
		}
		if text == "" {
			continue
		}
		mnem, rest, _ := strings.Cut(text, " ")
		mnem = strings.ToLower(mnem)
		args := splitArgs(rest)
		if mnem == ".arg" {
			if len(args) != 1 {
				return nil, fail(line, ".arg takes one number")
			}
			n, err := parseNum(args[0])
			if err != nil || n > 1<<32-1 {
				return nil, fail(line, "bad argument size %q", args[0])
			}
			argSize = n
			continue
		}
		in, label, err := parseInsn(mnem, args)
		if err != nil {
			return nil, fail(line, "%v", err)
		}
		prog = append(prog, pending{line: line, in: in, label: label})
	}
	im := &Image{ArgSize: uint32(argSize)}
	for pc, p := range prog {
		in := p.in
		if p.label != "" {
			t, ok := labels[p.label]
			if !ok {
				return nil, fail(p.line, "undefined label %q", p.label)
			}
			off := t - (pc + 1)
			if off < 0 {
				return nil, fail(p.line, "backward jump to %q", p.label)
			}
			switch ops[in.Op].form {
			case formJRR, formJ:
				in.Imm = uint32(off)
			case formJRI, formLoop:
				if off > 0xFFFF {
					return nil, fail(p.line, "offset %d to %q does not fit 16 bits", off, p.label)
				}
				in.B, in.C = uint8(off), uint8(off>>8)
			}
		}
		im.Code = append(im.Code, in)
	}
	if len(im.Code) == 0 {
		return nil, fmt.Errorf("%w: no instructions", ErrSyntax)
	}
	return im.Encode(), nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// splitArgs splits operands at commas outside brackets.
func splitArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if last := strings.TrimSpace(s[start:]); last != "" || len(out) > 0 {
		out = append(out, last)
	}
	return out
}

func parseNum(s string) (uint64, error) {
	return strconv.ParseUint(strings.ReplaceAll(s, "_", ""), 0, 64)
}

func parseReg(s string) (uint8, error) {
	if len(s) < 2 || (s[0] != 'r' && s[0] != 'R') {
		return 0, fmt.Errorf("%q is not a register", s)
	}
	n, err := strconv.ParseUint(s[1:], 10, 8)
	if err != nil || n >= NumRegs {
		return 0, fmt.Errorf("%q is not a register (r0..r15)", s)
	}
	return uint8(n), nil
}

func parseImm(s string) (uint32, error) {
	n, err := parseNum(s)
	if err != nil || n > 1<<32-1 {
		return 0, fmt.Errorf("%q is not a 32-bit immediate", s)
	}
	return uint32(n), nil
}

// parseMem parses [rN], [rN+imm] or [imm] into base and offset.
func parseMem(s string) (uint8, uint32, error) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return 0, 0, fmt.Errorf("%q is not a memory operand", s)
	}
	inner := strings.ReplaceAll(s[1:len(s)-1], " ", "")
	base, off, hasOff := strings.Cut(inner, "+")
	if b, err := parseReg(base); err == nil {
		var imm uint32
		if hasOff {
			if imm, err = parseImm(off); err != nil {
				return 0, 0, err
			}
		}
		return b, imm, nil
	}
	if hasOff {
		return 0, 0, fmt.Errorf("%q: base must be a register", s)
	}
	imm, err := parseImm(inner)
	return NoBase, imm, err
}

var byName = func() map[string]Op {
	m := map[string]Op{}
	for op, info := range ops {
		m[info.name] = op
	}
	return m
}()

// parseInsn parses one instruction; a jump target or loop end label is
// returned for pass 2.
func parseInsn(mnem string, args []string) (Insn, string, error) {
	name, width := mnem, uint8(0)
	if n := len(mnem); n > 3 {
		if w := mnem[n-1]; w == '1' || w == '2' || w == '4' || w == '8' {
			if op, ok := byName[mnem[:n-1]]; ok && ops[op].form == formMem {
				name, width = mnem[:n-1], w-'0'
			}
		}
	}
	op, ok := byName[name]
	if !ok {
		return Insn{}, "", fmt.Errorf("unknown instruction %q", mnem)
	}
	f := ops[op].form
	want := map[form]int{formRRR: 3, formRR: 2, formRRI: 3, formRI: 2, formMem: 2, formJRR: 3,
		formJRI: 3, formJ: 1, formLoop: 3, formNone: 0}[f]
	if len(args) != want {
		return Insn{}, "", fmt.Errorf("%s takes %d operands, got %d", mnem, want, len(args))
	}
	in := Insn{Op: op}
	var err error
	regs := func(dst ...*uint8) {
		for i, d := range dst {
			if err == nil {
				*d, err = parseReg(args[i])
			}
		}
	}
	imm := func(i int) {
		if err == nil {
			in.Imm, err = parseImm(args[i])
		}
	}
	var label string
	switch f {
	case formRRR:
		regs(&in.A, &in.B, &in.C)
	case formRR:
		regs(&in.A, &in.B)
	case formRRI:
		regs(&in.A, &in.B)
		imm(2)
	case formRI:
		regs(&in.A)
		imm(1)
	case formMem:
		if width == 0 {
			return Insn{}, "", fmt.Errorf("%s needs a width suffix (1, 2, 4 or 8)", mnem)
		}
		in.C = width
		regs(&in.A)
		if err == nil {
			in.B, in.Imm, err = parseMem(args[1])
		}
	case formJRR:
		regs(&in.A, &in.B)
		label = args[2]
	case formJRI:
		regs(&in.A)
		imm(1)
		label = args[2]
	case formJ:
		label = args[0]
	case formLoop:
		regs(&in.A)
		imm(1)
		label = args[2]
	}
	if err != nil {
		return Insn{}, "", err
	}
	if label != "" && !isIdent(label) {
		return Insn{}, "", fmt.Errorf("%q is not a label", label)
	}
	return in, label, nil
}
