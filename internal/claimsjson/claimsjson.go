// Package claimsjson holds what the evcli JSON forms of the platform and
// realm claims sets (veraison/evcli, veraison/ccatoken) share: a strict
// decoder and the carrying of optional array claims as optional members.
package claimsjson

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/ccakit/cca/token"
)

// Decode reads data into v, rejecting unknown members so that a misspelt
// claim name is an error rather than a silently missing claim. An error
// wraps token.ErrSyntax and names what (e.g. "platform claims JSON").
func Decode(data []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %v", token.ErrSyntax, what, err)
	}
	return nil
}

// Opt carries an optional claim to a member: nil (the claim is absent) is
// no member, an empty value an empty one.
func Opt[T any](v []T) *[]T {
	if v == nil {
		return nil
	}
	return &v
}

// FromOpt is the inverse of Opt: no member is nil, a present member (even
// null or empty) a non-nil value.
func FromOpt[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	if *p == nil {
		return []T{}
	}
	return *p
}
