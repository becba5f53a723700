// Package classtest checks, in tests, that an error carries exactly one of
// the token error classes. Only tests import it.
package classtest

import (
	"errors"
	"testing"

	"github.com/ccakit/cca/token"
)

// One fails t unless err wraps exactly one token error class and, when
// allowed is not empty, that class is one of allowed.
func One(t testing.TB, err error, allowed ...error) {
	t.Helper()
	var got []error
	for _, c := range token.Classes() {
		if errors.Is(err, c) {
			got = append(got, c)
		}
	}
	if len(got) != 1 {
		t.Fatalf("error wraps %d classes: %v", len(got), err)
	}
	if len(allowed) == 0 {
		return
	}
	for _, a := range allowed {
		if got[0] == a {
			return
		}
	}
	t.Fatalf("error class %v not expected here: %v", got[0], err)
}
