package testvectors

// This file verifies a token as a manifest run says, through the verifier
// library, as `ccatoken verify` would.

import (
	"context"
	"encoding/hex"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/token"
	"github.com/ccakit/cca/verifier"
)

// verdict verifies a token as run says, through the verifier library, and
// fills in the command and the verdict.
func (g *Set) verdict(tok []byte, file string, r Run) (Run, error) {
	v, warnings, err := g.verifier(r)
	if err != nil {
		return r, err
	}
	r.Warnings = warnings
	var nonce []byte
	if r.Nonce != "" {
		if nonce, err = hex.DecodeString(r.Nonce); err != nil {
			return r, err
		}
	}
	res, err := v.Verify(context.Background(), tok, nonce)
	if err != nil {
		return r, err
	}
	r.Command = "ccatoken " + strings.Join(slashPaths(r.Args("testvectors", file)), " ")
	r.Trustworthy = res.Trustworthy
	r.Exit = ExitTrustworthy
	if !res.Trustworthy {
		r.Exit = ExitNotTrustworthy
	}
	r.Failed = FailedChecks(res)
	ar, err := res.EAR()
	if err != nil {
		return r, err
	}
	r.EAR = map[string]string{}
	for name, a := range ar.Submods {
		if a.Status != nil {
			r.EAR[name] = a.Status.String()
		}
	}
	return r, nil
}

// verifier is the verifier of a run's stores and policy, and the warnings
// its trust-anchor store gave when it loaded (unusable entries, each
// failing only its own platform), each "FILE: message".
func (g *Set) verifier(r Run) (*verifier.Verifier, []string, error) {
	key := strings.Join(slices.Concat([]string{r.CPAK, r.TrustAnchors, r.CoRIMKey}, r.refvals(), []string{"--"}, r.Policy), "\x00")
	if v, ok := g.verifiers[key]; ok {
		return v, g.warnings[key], nil
	}
	var corim endorsement.DecodeOptions
	if r.CoRIMKey != "" {
		data, err := g.read(r.CoRIMKey)
		if err != nil {
			return nil, nil, err
		}
		if corim.SignerKey, err = token.ParsePublicKey(data); err != nil {
			return nil, nil, err
		}
	}
	var anchors *verifier.TrustAnchors
	var opts []verifier.Option
	switch {
	case r.CPAK != "":
		data, err := g.read(r.CPAK)
		if err != nil {
			return nil, nil, err
		}
		if anchors, err = verifier.ParseTrustAnchorKey(data); err != nil {
			return nil, nil, err
		}
	default:
		// JSON or CoRIM, told apart by content as verify does.
		data, err := g.read(r.TrustAnchors)
		if err != nil {
			return nil, nil, err
		}
		if anchors, err = verifier.ReadTrustAnchors(data, corim); err != nil {
			return nil, nil, err
		}
	}
	var stores []verifier.ReferenceValueStore
	for _, p := range r.refvals() {
		data, err := g.read(p)
		if err != nil {
			return nil, nil, err
		}
		rv, err := verifier.ReadReferenceValues(data, corim)
		if err != nil {
			return nil, nil, err
		}
		stores = append(stores, rv)
	}
	if len(stores) > 0 {
		opts = append(opts, verifier.WithReferenceValues(verifier.CombineReferenceValues(stores...)))
	}
	policy, err := Policy(r.Policy)
	if err != nil {
		return nil, nil, err
	}
	v, err := verifier.New(anchors, append(opts, verifier.WithPolicy(policy))...)
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	for _, w := range anchors.Warnings() {
		warnings = append(warnings, r.TrustAnchors+": "+w.Error())
	}
	g.verifiers[key], g.warnings[key] = v, warnings
	return v, warnings, nil
}

func slashPaths(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = filepath.ToSlash(a)
	}
	return out
}
