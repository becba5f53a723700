package textsafe

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"RMM", "RMM"},
		{"sha-256 …", "sha-256 …"},
		{"a\nresult: TRUSTWORTHY", `a\nresult: TRUSTWORTHY`},
		{"\x1b[2K\x1b[1A\rok", `\x1b[2K\x1b[1A\rok`},
		{"tab\there", `tab\there`},
		{`back\slash`, `back\\slash`},
		{"del\x7f", `del\x7f`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"c1\u009bcsi", `c1\u009bcsi`},
		{"bidi\u202eevil\u2066", `bidi\u202eevil\u2066`},
		{"line\u2028sep", `line\u2028sep`},
		{"zwj\u200d", `zwj\u200d`},
		{"tag\U000e0041", `tag\U000e0041`},
		{"", ""},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzEscape: the output is one line of printable characters, and the
// escaping is reversible in the sense that distinct inputs give distinct
// outputs for the characters it keeps.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"RMM", "a\nb", "\x1b[31m", "\u202e", "\xff", `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8: %q", out)
		}
		for _, r := range out {
			if r != ' ' && !unicode.IsPrint(r) {
				t.Fatalf("Escape(%q) = %q keeps %U", s, out, r)
			}
		}
		if strings.Count(out, `\`) < strings.Count(s, `\`) {
			t.Fatalf("a backslash was not escaped: %q", out)
		}
		if firstUnsafe(s) < 0 && out != s {
			t.Fatalf("safe input changed: %q -> %q", s, out)
		}
	})
}

func BenchmarkEscapeSafe(b *testing.B) {
	s := "measurement-value 131313131313…13131313, signer-id 222222222222…22222222"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = Escape(s)
	}
}
