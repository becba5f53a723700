// Package textsafe makes attacker-controlled strings safe to print on a
// terminal: a claim of a token, a member of a store, an error message that
// quotes either. A string from evidence can hold newlines, ANSI escape
// sequences or Unicode bidirectional controls, and so print lines that the
// program never wrote (a fake "result: TRUSTWORTHY") or hide the real ones.
package textsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with everything that is not a printable character or
// an ASCII space written as a Go-style escape: \n, \r, \t, \xNN for other
// ASCII controls, DEL and bytes that are not UTF-8, \uNNNN for the other
// non-printable runes (C1 controls, bidirectional and other format
// characters, line and paragraph separators). A backslash becomes \\, so
// that an escape in the output always means one in the input. Escape of a
// string that needs none returns it unchanged, without allocating.
func Escape(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < utf8.RuneSelf && !safeASCII(byte(r)):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= utf8.RuneSelf && !unicode.IsPrint(r):
			if r > 0xFFFF {
				fmt.Fprintf(&b, `\U%08x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func safeASCII(c byte) bool { return c >= 0x20 && c < 0x7f && c != '\\' }

// firstUnsafe is the index of the first byte Escape changes, or -1.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !safeASCII(c) {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !unicode.IsPrint(r) {
			return i
		}
		i += size
	}
	return -1
}
