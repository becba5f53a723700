package main

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	cose "github.com/veraison/go-cose"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/internal/textsafe"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/verifier"
)

type verifyOptions struct {
	cpak, nonce, output, earKey, corimKey string
	nonceSet                              bool // --nonce given, even empty
	trustAnchors, refvals                 []string
	algorithms                            []string
	policy                                verifier.Policy
}

// policyFlag is a verify flag that sets one boolean verifier.Policy field.
// The weakening ones say Unsafe in their names, as the fields do.
type policyFlag struct {
	name  string
	field func(*verifier.Policy) *bool
	usage string
}

var policyFlags = []policyFlag{
	{"allow-missing-nonce-unsafe", func(p *verifier.Policy) *bool { return &p.AllowMissingNonceUnsafe },
		"accept evidence without --nonce: freshness is not checked, so a replayed token is accepted"},
	{"allow-non-cca-platform-debug-unsafe", func(p *verifier.Policy) *bool { return &p.AllowNonCCAPlatformDebugUnsafe },
		"accept the non-CCA-platform debug lifecycle state (0x4000-0x40ff)"},
	{"allow-debug-lifecycle-unsafe", func(p *verifier.Policy) *bool { return &p.AllowDebugLifecycleUnsafe },
		"accept both debug lifecycle states (0x4000-0x40ff, 0x5000-0x50ff): development boards only"},
	{"allow-mixed-profiles-unsafe", func(p *verifier.Policy) *bool { return &p.AllowMixedProfilesUnsafe },
		"accept a pairing of profiles no firmware emits (Veraison's test evidence: CCA-SSD platform, 2023 realm), or an unknown one"},
	{"allow-draft-profiles-unsafe", func(p *verifier.Policy) *bool { return &p.AllowDraftProfilesUnsafe },
		"accept the shapes of draft-ffm-rats-cca-token that no producer emits (2024 platform profiles, the 2026 profiles)"},
	{"allow-measurement-size-mismatch-unsafe", func(p *verifier.Policy) *bool { return &p.AllowMeasurementSizeMismatchUnsafe },
		"accept a RIM and REMs of another digest size than their algorithm's (64 bytes labelled sha-256, as in Veraison's test evidence)"},
	{"allow-unknown-platform-unsafe", func(p *verifier.Policy) *bool { return &p.AllowUnknownPlatformUnsafe },
		"accept a platform for whose implementation id --refvals has no entry: only the CPAK and the lifecycle vouch for it"},
	{"allow-unknown-realm-unsafe", func(p *verifier.Policy) *bool { return &p.AllowUnknownRealmUnsafe },
		"accept a realm whose RIM --refvals does not know: its RIM, RPV and REMs are not checked"},
	{"require-mec-policy", func(p *verifier.Policy) *bool { return &p.RequireMECPolicy },
		"fail a realm whose MEC policy no reference value pins (\"mec-policy\" in a realm entry)"},
	{"require-rems", func(p *verifier.Policy) *bool { return &p.RequireREMs },
		"fail a realm whose reference value does not give the four REMs"},
	{"reject-unknown-claims", func(p *verifier.Policy) *bool { return &p.RejectUnknownClaims },
		"fail tokens with claims their profile does not define"},
}

// coseAlgorithms are the names --algorithms takes: the algorithms a key can
// be pinned to (token.AlgorithmForKey).
var coseAlgorithms = []cose.Algorithm{cose.AlgorithmES256, cose.AlgorithmES384, cose.AlgorithmES512,
	cose.AlgorithmEdDSA, cose.AlgorithmPS256}

func newVerifyCmd() *cobra.Command {
	var o verifyOptions
	cmd := &cobra.Command{
		Use:   "verify TOKEN (--cpak KEY | --trust-anchors FILE...) [--nonce HEX] [--refvals FILE...] [--output FORM] [policy flags]",
		Short: "Verify CCA evidence and appraise it against reference values and a policy",
		Long: `verify verifies CCA evidence and appraises it (the verifier package, as a
relying party embeds it), and exits 0 only when the evidence is trustworthy
under the policy.

Verification, per leg: both claims sets decode and are valid for their
profiles, of one generation; a trust anchor knows the platform (--cpak, or
--trust-anchors by instance id); the platform token is signed by it; the realm
token is signed by the RAK it carries; the platform challenge binds that RAK;
the realm challenge is --nonce (32 to 64 bytes of hex, zero-padded to 64).

Appraisal, per check: the platform's lifecycle (secured), implementation id,
configuration and every software component against --refvals' platform
entries; the realm's RIM, RPV and REMs against its realm entries.

Every check is matched, mismatched or not checked (no --nonce, no reference
value). The default policy requires a nonce and reference values for the
platform and the realm: without them the evidence is not trustworthy, and the
text output says which flags would accept it. Flags ending in -unsafe waive
one requirement each; the policy id in the result names them.

--cpak trusts one platform attestation public key (PEM or JWK) for any
platform instance; --trust-anchors is a store of CPAKs by instance id.
--refvals is a reference-value store. Both are repeatable, their stores
combined, and each file is either JSON in rust-ccatoken's shape (what
'ccatoken measure -o' writes and testvectors/ ships) or a CoRIM of the CCA
platform or realm profile (tag 501, or COSE-signed: give --corim-key, the
signer's public key, to check its signature), told apart by content. An
entry of a JSON trust-anchor store that cannot be used (a key off its
curve, say) is reported on standard error and fails only its own platform.
A CoRIM's platform reference values endorse components one by one, as
Veraison reads them: every component of the token must be endorsed.
(The verifier package documentation has the details.)

Output forms (--output):
  text     every leg and every appraisal check, and the verdict (default)
  json     the verifier's Result
  ear      the EAT Attestation Result (EAR) as JSON
  ear-jwt  the EAR signed as a JWT with --ear-key (a private key)

Exit status: 0 verified and trustworthy under the policy; 1 the evidence
failed (malformed, bad signature, bad binding, stale nonce, a mismatched
measurement or lifecycle, or a check the policy requires that could not be
made); 2 usage or unreadable input (bad flags, missing file, unparsable key
or store, a --nonce that is not 32 to 64 bytes of hex).`,
		Example: `  ccatoken verify testvectors/rel0-es384.cbor --trust-anchors testvectors/trust-anchors/created-p384.json \
      --refvals testvectors/refvals/created.json --nonce "$(cat nonce.hex)"
  ccatoken verify token.cbor --cpak cpak.pem --refvals refvals.json --nonce "$NONCE" --output ear-jwt --ear-key ear.pem
  ccatoken verify token.cbor --trust-anchors cpaks.corim --trust-anchors more-cpaks.json \
      --refvals firmware.corim --refvals realm.json --corim-key provisioner.pem --nonce "$NONCE"
  ccatoken verify token.cbor --cpak cpak.pem --nonce "$NONCE" \
      --allow-unknown-platform-unsafe --allow-unknown-realm-unsafe     # the cryptographic legs only`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.nonceSet = cmd.Flags().Changed("nonce")
			return runVerify(cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.cpak, "cpak", "", "platform attestation public `KEY` (CPAK), PEM or JWK, trusted for any instance")
	f.StringArrayVar(&o.trustAnchors, "trust-anchors", nil, "trust-anchor store `FILE`: JSON of CPAKs by instance id, or CoRIM; repeatable")
	f.StringArrayVar(&o.refvals, "refvals", nil, "reference-value store `FILE`: JSON of platform and realm reference values, or CoRIM; repeatable")
	f.StringVar(&o.corimKey, "corim-key", "", "public `KEY` (PEM or JWK) that checks the signature of signed CoRIMs")
	f.StringVar(&o.nonce, "nonce", "", "the relying party's nonce, the expected realm challenge: 32 to 64 bytes of `HEX`")
	f.StringVarP(&o.output, "output", "O", "text", "output `FORM`: text, json, ear or ear-jwt")
	f.StringVar(&o.earKey, "ear-key", "", "private `KEY` that signs the EAR (--output ear-jwt): PEM or JWK")
	for _, pf := range policyFlags {
		f.BoolVar(pf.field(&o.policy), pf.name, false, pf.usage)
	}
	f.StringSliceVar(&o.algorithms, "algorithms", nil,
		"allowed COSE signature algorithms, comma-separated `LIST` (default ES256,ES384,ES512)")
	cmd.MarkFlagsOneRequired("cpak", "trust-anchors")
	cmd.MarkFlagsMutuallyExclusive("cpak", "trust-anchors")
	return cmd
}

// verification is what runVerify decided, for the renderers.
type verification struct {
	o      verifyOptions
	res    *verifier.Result
	hint   []string // policy flags that would make the result trustworthy
	noHint bool     // no policy flag would
}

func runVerify(stdin io.Reader, stdout, stderr io.Writer, path string, o verifyOptions) error {
	switch o.output {
	case "text", "json", "ear", "ear-jwt":
	default:
		return usagef("--output %q: want text, json, ear or ear-jwt", o.output)
	}
	if countStdin(append(append([]string{path, o.cpak, o.earKey, o.corimKey}, o.trustAnchors...), o.refvals...)...) > 1 {
		return usagef("only one of TOKEN, --cpak, --trust-anchors, --refvals, --ear-key and --corim-key can be - (standard input)")
	}
	var earKey crypto.Signer
	switch {
	case o.output == "ear-jwt" && o.earKey == "":
		return usagef("--output ear-jwt needs --ear-key, the private key that signs the EAR")
	case o.output != "ear-jwt" && o.earKey != "":
		return usagef("--ear-key is only used with --output ear-jwt")
	case o.earKey != "":
		k, err := readPrivateKey("ear-key", o.earKey, stdin)
		if err != nil {
			return err
		}
		if _, err := verifier.JWSAlgorithm(k.Public()); err != nil {
			return usagef("--ear-key %s: %v", textsafe.Escape(o.earKey), err)
		}
		earKey = k
	}
	var nonce []byte
	if o.nonceSet || o.nonce != "" {
		var err error
		if nonce, err = parseNonce(o.nonce); err != nil {
			return err
		}
	}
	policy := o.policy
	for _, name := range o.algorithms {
		alg, err := parseAlgorithm(name)
		if err != nil {
			return err
		}
		policy.Algorithms = append(policy.Algorithms, alg)
	}
	var corim endorsement.DecodeOptions
	if o.corimKey != "" {
		k, err := readPublicKey("corim-key", o.corimKey, stdin)
		if err != nil {
			return err
		}
		corim.SignerKey = k
	}
	anchors, err := readTrustAnchors(o, corim, stdin, stderr)
	if err != nil {
		return err
	}
	var opts []verifier.Option
	var refs []verifier.ReferenceValueStore
	for _, file := range o.refvals {
		data, err := readFile(file, "--refvals", stdin)
		if err != nil {
			return err
		}
		rv, err := verifier.ReadReferenceValues(data, corim)
		if err != nil {
			return usagef("--refvals %s: %s", textsafe.Escape(file), textsafe.Escape(err.Error()))
		}
		refs = append(refs, rv.Named(file))
	}
	switch len(refs) {
	case 0:
	case 1:
		opts = append(opts, verifier.WithReferenceValues(refs[0]))
	default:
		opts = append(opts, verifier.WithReferenceValues(verifier.CombineReferenceValues(refs...)))
	}
	raw, inputErr := readTokenFile(path, stdin)
	if inputErr != nil && exitCode(inputErr) != exitFailed {
		return inputErr
	}
	var data []byte
	if inputErr == nil {
		data, _, inputErr = decodeTokenInput(raw)
	}
	if inputErr != nil {
		// Input in no token form (empty, JSON, PEM, text) fails like any
		// malformed evidence. The machine-readable outputs still carry a
		// result, as they do whatever the verdict: the verifier's decode
		// failure of the bytes as they are. The stderr line keeps the
		// reason the input was not read as a token.
		if o.output == "text" {
			return inputErr
		}
		data = raw
	}

	v, err := verifier.New(anchors, append(opts, verifier.WithPolicy(policy))...)
	if err != nil {
		return usageError(err)
	}
	res, err := v.Verify(context.Background(), data, nonce)
	if err != nil {
		return usageError(err)
	}
	vr := &verification{o: o, res: res}
	if !res.Trustworthy {
		vr.hint, vr.noHint = acceptingFlags(anchors, opts, policy, res, data, nonce)
	}

	var out bytes.Buffer
	switch o.output {
	case "text":
		vr.writeText(&out)
	case "json":
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return usageError(err)
		}
		// Claims and store members are attacker-controlled: the format
		// characters encoding/json leaves as they are are escaped, as in
		// inspect's JSON.
		out.Write(append(escapeUnprintable(b), '\n'))
	case "ear":
		b, err := res.EARJSON()
		if err != nil {
			return usageError(err)
		}
		if err := json.Indent(&out, escapeUnprintable(b), "", "  "); err != nil {
			return usageError(err)
		}
		out.WriteByte('\n')
	case "ear-jwt":
		b, err := res.EARJWT(earKey)
		if err != nil {
			return usagef("signing the EAR: %v", err)
		}
		out.Write(append(b, '\n'))
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		return usagef("writing the output: %v", err)
	}
	switch {
	case inputErr != nil:
		return inputErr
	case res.Trustworthy:
		return nil
	}
	return evidenceError(errors.New(vr.failureLine()))
}

// readTrustAnchors reads --cpak or the --trust-anchors stores (cobra lets
// exactly one of the flags through), combined, and reports on stderr the
// entries of a store that cannot be used (the others are). A store whose
// every entry is bad is kept, so that the platforms of the other stores
// still verify; only when no store has a usable entry is it refused.
func readTrustAnchors(o verifyOptions, corim endorsement.DecodeOptions, stdin io.Reader, stderr io.Writer) (verifier.TrustAnchorStore, error) {
	if o.cpak != "" {
		pub, err := readPublicKey("cpak", o.cpak, stdin)
		if err != nil {
			return nil, err
		}
		ta, err := verifier.NewTrustAnchors(verifier.TrustAnchor{Key: pub, Where: "--cpak " + o.cpak})
		if err != nil {
			return nil, usagef("--cpak %s: %v", textsafe.Escape(o.cpak), err)
		}
		return ta, nil
	}
	var stores []verifier.TrustAnchorStore
	usable := 0
	for _, file := range o.trustAnchors {
		data, err := readFile(file, "--trust-anchors", stdin)
		if err != nil {
			return nil, err
		}
		ta, err := verifier.ReadTrustAnchors(data, corim)
		if err != nil {
			return nil, usagef("--trust-anchors %s: %s", textsafe.Escape(file), textsafe.Escape(err.Error()))
		}
		ta = ta.Named(file)
		for _, w := range ta.Warnings() {
			fmt.Fprintf(stderr, "ccatoken verify: warning: --trust-anchors: %s (its platform will not verify; the other entries are used)\n", textsafe.Escape(w.Error()))
		}
		stores = append(stores, ta)
		usable += ta.Len()
	}
	if usable == 0 {
		return nil, usagef("--trust-anchors: no usable trust anchor in %s: every entry is unusable (the warnings above say why)",
			textsafe.Escape(strings.Join(o.trustAnchors, ", ")))
	}
	if len(stores) == 1 {
		return stores[0], nil
	}
	return verifier.CombineTrustAnchors(stores...), nil
}

func parseAlgorithm(name string) (cose.Algorithm, error) {
	var names []string
	for _, a := range coseAlgorithms {
		if strings.EqualFold(strings.TrimSpace(name), a.String()) {
			return a, nil
		}
		names = append(names, a.String())
	}
	return 0, usagef("--algorithms: unknown algorithm %q (want %s)", name, strings.Join(names, ", "))
}

// waiver is a policy flag that can make a failing check pass, and what
// would make the check pass without weakening the policy.
type waiver struct {
	flag, instead string
}

// waiverFor says which policy flag would waive a check that did not pass,
// if any: the not-checked checks the policy requires, a debug lifecycle,
// mixed profiles, unknown claims.
func waiverFor(side string, c verifier.Check, res *verifier.Result, p verifier.Policy) (waiver, bool) {
	switch {
	case side == "realm" && c.ID == verifier.CheckFreshness && c.Outcome == verifier.NotChecked:
		return waiver{"allow-missing-nonce-unsafe", "give --nonce"}, true
	case side == "platform" && c.ID == verifier.CheckImplementationID && c.Outcome == verifier.NotChecked:
		return waiver{"allow-unknown-platform-unsafe", "give --refvals with an entry for its implementation id"}, true
	case side == "realm" && c.ID == verifier.CheckInitialMeasurement && c.Outcome == verifier.NotChecked:
		return waiver{"allow-unknown-realm-unsafe", "give --refvals with an entry for its RIM"}, true
	case side == "realm" && c.ID == verifier.CheckREM && c.Outcome == verifier.NotChecked && p.RequireREMs:
		return waiver{"require-rems", "give the REMs in the realm's --refvals entry"}, true
	case side == "platform" && c.ID == verifier.CheckLifecycle && c.Outcome == verifier.Mismatched:
		switch res.Platform.Lifecycle.State() {
		case platform.LifecycleNonCCAPlatformDebug:
			return waiver{"allow-non-cca-platform-debug-unsafe", ""}, true
		case platform.LifecycleRecoverableCCAPlatformDebug:
			return waiver{"allow-debug-lifecycle-unsafe", ""}, true
		}
	case c.ID == verifier.CheckProfiles && c.Outcome == verifier.Mismatched && strings.Contains(c.Detail, "AllowDraftProfilesUnsafe"):
		return waiver{"allow-draft-profiles-unsafe", ""}, true
	case c.ID == verifier.CheckProfiles && c.Outcome == verifier.Mismatched:
		return waiver{"allow-mixed-profiles-unsafe", ""}, true
	case side == "realm" && c.ID == verifier.CheckClaims && c.Outcome == verifier.Mismatched &&
		strings.Contains(c.Detail, "--allow-measurement-size-mismatch-unsafe"):
		return waiver{"allow-measurement-size-mismatch-unsafe", ""}, true
	case side == "realm" && c.ID == verifier.CheckMECPolicy && c.Outcome == verifier.NotChecked && p.RequireMECPolicy:
		return waiver{"require-mec-policy", "pin \"mec-policy\" in the realm's --refvals entry"}, true
	case c.ID == verifier.CheckClaims && c.Outcome == verifier.Mismatched && p.RejectUnknownClaims:
		return waiver{"reject-unknown-claims", ""}, true
	}
	return waiver{}, false
}

// acceptingFlags finds the policy flags that would make an untrustworthy
// result trustworthy, and proves it by verifying again under the changed
// policy, so that the hint can never be wrong. The tightening flags
// (--require-rems, --reject-unknown-claims) are dropped rather than added.
// It returns the flags in policyFlags order, or none with ok false when no
// policy would accept the evidence.
func acceptingFlags(anchors verifier.TrustAnchorStore, opts []verifier.Option, p verifier.Policy, res *verifier.Result,
	data, nonce []byte) (flags []string, none bool) {
	want := map[string]bool{}
	for _, side := range []struct {
		name   string
		checks []verifier.Check
	}{{"platform", res.Platform.Checks}, {"realm", res.Realm.Checks}} {
		for _, c := range side.checks {
			if w, ok := waiverFor(side.name, c, res, p); ok && !c.Passed() {
				want[w.flag] = true
			}
		}
	}
	if len(want) == 0 {
		return nil, true
	}
	for _, pf := range policyFlags {
		if want[pf.name] {
			*pf.field(&p) = !*pf.field(&p)
			flags = append(flags, pf.name)
		}
	}
	v, err := verifier.New(anchors, append(opts, verifier.WithPolicy(p))...)
	if err != nil {
		return nil, true
	}
	r, err := v.Verify(context.Background(), data, nonce)
	if err != nil || !r.Trustworthy {
		return nil, true
	}
	return flags, false
}

// hintText renders the accepting flags: "with --a, --b and without --c";
// long adds, after each waiver, what would pass the check without it.
func (vr *verification) hintText(long bool) string {
	var add, drop []string
	for _, f := range vr.hint {
		if !strings.HasSuffix(f, "-unsafe") {
			drop = append(drop, "--"+f)
			continue
		}
		s := "--" + f
		if alt := vr.insteadOf(f); long && alt != "" {
			s += " (or " + alt + ")"
		}
		add = append(add, s)
	}
	var parts []string
	if len(add) > 0 {
		parts = append(parts, "with "+strings.Join(add, ", "))
	}
	if len(drop) > 0 {
		parts = append(parts, "without "+strings.Join(drop, ", "))
	}
	return strings.Join(parts, " and ")
}

// insteadOf is what would make the check a flag waives pass without
// weakening the policy.
func (vr *verification) insteadOf(flag string) string {
	for _, side := range []struct {
		name   string
		checks []verifier.Check
	}{{"platform", vr.res.Platform.Checks}, {"realm", vr.res.Realm.Checks}} {
		for _, c := range side.checks {
			if w, ok := waiverFor(side.name, c, vr.res, vr.o.policy); ok && w.flag == flag {
				return w.instead
			}
		}
	}
	return ""
}

// failureLine is the one stderr line of an untrustworthy result: the first
// reason, a mismatch rather than a check not made when there is one, how
// many more there are, and the flags that would accept it.
func (vr *verification) failureLine() string {
	res := vr.res
	msg := "not trustworthy"
	if len(res.Reasons) > 0 {
		first := res.Reasons[0]
		if failing := res.Failures(); len(failing) == len(res.Reasons) {
			for i, c := range failing {
				if c.Outcome == verifier.Mismatched {
					first = res.Reasons[i]
					break
				}
			}
		}
		msg += ": " + textsafe.Escape(first)
		if n := len(res.Reasons) - 1; n > 0 {
			msg += fmt.Sprintf(" (and %d more)", n)
		}
	}
	if len(vr.hint) > 0 {
		msg += "; the policy would accept it " + vr.hintText(false)
	}
	return msg
}

// legRow is one leg of the verification in the text output: a check of
// the result, by side and name.
type legRow struct {
	label, side string
	check       verifier.CheckID
}

var legRows = []legRow{
	{"platform claims", "platform", verifier.CheckClaims},
	{"realm claims", "realm", verifier.CheckClaims},
	{"profile coherence", "realm", verifier.CheckProfiles},
	{"trust anchor", "platform", verifier.CheckTrustAnchor},
	{"platform signature", "platform", verifier.CheckSignature},
	{"realm signature", "realm", verifier.CheckSignature},
	{"binding", "realm", verifier.CheckBinding},
	{"freshness", "realm", verifier.CheckFreshness},
}

// isLeg reports whether a check is shown among the legs rather than the
// appraisal (the realm's "platform" check summarises the platform legs).
func isLeg(side string, id verifier.CheckID) bool {
	if id == verifier.CheckDecode || (side == "realm" && id == verifier.CheckPlatform) {
		return true
	}
	for _, l := range legRows {
		if l.side == side && l.check == id {
			return true
		}
	}
	return false
}

// writeText renders the result: the legs as before (ok, FAILED, not
// checked), the appraisal checks (matched, mismatched, not checked), the
// verdict and, for an untrustworthy result, the reasons and the flags that
// would accept it.
func (vr *verification) writeText(w io.Writer) {
	res := vr.res
	checks := map[string][]verifier.Check{"platform": res.Platform.Checks, "realm": res.Realm.Checks}
	find := func(side string, id verifier.CheckID) (verifier.Check, bool) {
		for _, c := range checks[side] {
			if c.ID == id {
				return c, true
			}
		}
		return verifier.Check{}, false
	}
	if res.Format != "" {
		fmt.Fprintf(w, "evidence:            %s\n", textsafe.Escape(res.Format))
	}
	fmt.Fprintf(w, "policy:              %s\n", textsafe.Escape(res.Policy))

	// Every status quotes the evidence or a store: escaped, so that no
	// claim can print a line of its own.
	leg := func(label, status string) { fmt.Fprintf(w, "%-20s %s\n", label+":", textsafe.Escape(status)) }
	if c, failed := find("platform", verifier.CheckDecode); failed {
		leg("decode", "FAILED: "+c.Detail)
	} else {
		leg("decode", "ok")
	}
	for _, l := range legRows {
		c, ok := find(l.side, l.check)
		switch {
		case !ok && l.side == "realm" && res.Realm.Absent:
			leg(l.label, "none: a bare platform token has no realm token")
		case !ok:
			leg(l.label, "not checked: not reached after the failure above")
		case c.Outcome == verifier.Matched:
			leg(l.label, "ok ("+c.Detail+")")
		case c.Outcome == verifier.Mismatched:
			leg(l.label, "FAILED: "+c.Detail)
		default:
			leg(l.label, c.DetailText())
		}
	}

	fmt.Fprintf(w, "appraisal:\n")
	var rows [][2]string
	width := 0
	for _, side := range []string{"platform", "realm"} {
		n := 0
		for _, c := range checks[side] {
			if isLeg(side, c.ID) {
				continue
			}
			status := string(c.Outcome) + ": " + c.Detail
			if c.Outcome == verifier.NotChecked {
				status = c.DetailText()
			}
			rows = append(rows, [2]string{textsafe.Escape(side + " " + c.Name()), textsafe.Escape(status)})
			n++
		}
		switch {
		case n == 0 && side == "realm" && res.Realm.Absent:
			rows = append(rows, [2]string{side, "none: a bare platform token has no realm token"})
		case n == 0:
			rows = append(rows, [2]string{side, "not appraised: its verification failed"})
		}
	}
	for _, r := range rows {
		width = max(width, utf8.RuneCountInString(r[0]))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %s%s  %s\n", r[0], strings.Repeat(" ", width-utf8.RuneCountInString(r[0])), r[1])
	}

	side := func(ok bool) string { return map[bool]string{true: "trustworthy", false: "not trustworthy"}[ok] }
	fmt.Fprintf(w, "platform:            %s\n", side(res.Platform.Trustworthy))
	if res.Realm.Absent {
		fmt.Fprintf(w, "realm:               none (a bare platform token)\n")
	} else {
		fmt.Fprintf(w, "realm:               %s\n", side(res.Realm.Trustworthy))
	}
	if res.Trustworthy {
		fmt.Fprintf(w, "result:              TRUSTWORTHY\n")
		return
	}
	fmt.Fprintf(w, "result:              NOT TRUSTWORTHY\n")
	for _, r := range res.Reasons {
		fmt.Fprintf(w, "  - %s\n", textsafe.Escape(r))
	}
	switch {
	case len(vr.hint) > 0:
		fmt.Fprintf(w, "The policy would accept it %s.\n", vr.hintText(true))
	case vr.noHint:
		fmt.Fprintf(w, "No policy flag would make this evidence trustworthy.\n")
	}
}
