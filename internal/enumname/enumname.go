// Package enumname names the values of small integer enumerations from a
// table: the String method that the emulator, token, verifier and
// realm-building packages would otherwise each write as a switch.
package enumname

import "fmt"

// integer is every integer kind an enumeration may be declared on.
type integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr
}

// Name returns the name of v in names, or, for a value the table does not
// name, unknown formatted with v's number (for example "Op(%d)" or
// "reserved(%#x)"). The number is passed as a plain int64 or uint64, not as
// a T, so that a String method of T that calls Name does not recurse
// through fmt.
func Name[T integer](v T, names map[T]string, unknown string) string {
	if s, ok := names[v]; ok {
		return s
	}
	if v < 0 {
		return fmt.Sprintf(unknown, int64(v))
	}
	return fmt.Sprintf(unknown, uint64(v))
}
