package enumname

import (
	"fmt"
	"testing"
)

type color int8

const (
	red color = iota - 1
	green
	blue
)

var colorNames = map[color]string{red: "red", green: "green", blue: "blue"}

func (c color) String() string { return Name(c, colorNames, "color(%d)") }

type code uint8

var codeNames = map[code]string{0x8: "EIGHT", 0xF: "FIFTEEN"}

func (c code) String() string { return Name(c, codeNames, "reserved(%#x)") }

func TestName(t *testing.T) {
	for _, tc := range []struct {
		in   fmt.Stringer
		want string
	}{
		{red, "red"},
		{green, "green"},
		{blue, "blue"},
		{color(7), "color(7)"},
		{color(-128), "color(-128)"},
		{code(8), "EIGHT"},
		{code(0xF), "FIFTEEN"},
		{code(0), "reserved(0x0)"},
		{code(0xC), "reserved(0xc)"},
		{code(0xFF), "reserved(0xff)"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.in, got, tc.want)
		}
		// Through fmt as well: %v must reach String, not recurse.
		if got := fmt.Sprintf("%v", tc.in); got != tc.want {
			t.Errorf("Sprintf(%%v, %#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNameUint64(t *testing.T) {
	type big uint64
	if got, want := Name(big(1<<63), nil, "big(%d)"), "big(9223372036854775808)"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
}
