package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/token"
)

type verifyOptions struct {
	cpak, nonce string
}

func newVerifyCmd() *cobra.Command {
	var o verifyOptions
	cmd := &cobra.Command{
		Use:   "verify TOKEN --cpak KEY [--nonce HEX]",
		Short: "Verify the signatures, binding and freshness of CCA evidence",
		Long: `verify decodes CCA evidence, validates its claims and runs the cryptographic
legs of verification in order, stopping at the first failure:

  claims              both claims sets are valid for their profiles, and the
                      profiles and the wrapper are of one generation
  platform signature  the platform token is signed by --cpak, with the
                      algorithm that key implies
  realm signature     the realm token is signed by the RAK it carries (claim
                      44237, a COSE_Key or, for legacy, a raw point)
  binding             the platform challenge is the hash of the RAK claim
  freshness           the realm challenge is --nonce (32 to 64 bytes of hex,
                      zero-padded to 64); skipped without --nonce, and then
                      nothing shows that the evidence is fresh rather than a
                      replay

It prints one line for each leg on standard output and, on failure, the
reason on standard error. Appraisal against reference values and policy is
not done here.

--cpak is the platform attestation public key: PEM (SubjectPublicKeyInfo,
or a private key whose public half is used) or JWK.

Exit status: 0 verified; 1 the evidence failed (malformed, invalid claims,
bad signature, bad binding, stale nonce); 2 usage or unreadable input
(bad flags, missing file, unparsable key, a --nonce that is not 32 to 64
bytes of hex).`,
		Example: `  ccatoken verify testvectors/rel0-es384.cbor --cpak testvectors/keys/cpak-p384.pub.pem
  ccatoken verify token.b64 --cpak cpak.jwk --nonce "$(cat nonce.hex)"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.InOrStdin(), cmd.OutOrStdout(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.cpak, "cpak", "", "platform attestation public `KEY` (CPAK): PEM or JWK file")
	f.StringVar(&o.nonce, "nonce", "", "expected realm challenge: 32 to 64 bytes of `HEX`")
	_ = cmd.MarkFlagRequired("cpak") // the flag just defined
	return cmd
}

// verifyLegs are the legs in the order evidence.Verify runs them.
var verifyLegs = []evidence.Leg{
	evidence.LegDecode, evidence.LegValidate, evidence.LegPlatformSignature,
	evidence.LegRealmSignature, evidence.LegBinding, evidence.LegFreshness,
}

func runVerify(stdin io.Reader, stdout io.Writer, path string, o verifyOptions) error {
	var nonce []byte
	if o.nonce != "" {
		var err error
		if nonce, err = parseNonce(o.nonce); err != nil {
			return err
		}
	}
	if path == "-" && o.cpak == "-" {
		return usagef("TOKEN and --cpak cannot both be - (standard input)")
	}
	cpak, err := readPublicKey("cpak", o.cpak, stdin)
	if err != nil {
		return err
	}
	if _, err := token.AlgorithmForKey(cpak); err != nil {
		return usagef("--cpak %s: %s cannot verify a CCA token: %v", o.cpak, token.DescribeKey(cpak), err)
	}
	data, _, err := readToken(path, stdin)
	if err != nil {
		return err
	}
	ev, verr := evidence.DecodeAndVerify(data, cpak, evidence.VerifyOptions{Nonce: nonce})
	failed := evidence.FailedLeg(verr)
	if verr != nil && failed == "" {
		failed = evidence.LegDecode // not expected: Decode and Verify name their leg
	}

	var out bytes.Buffer
	if ev != nil {
		fmt.Fprintf(&out, "evidence:            %s\n", ev.Kind())
	}
	passed := true
	for _, leg := range verifyLegs {
		var status string
		switch {
		case !passed:
			status = "not checked"
		case leg == failed:
			status = "FAILED: " + oneLine(legReason(verr))
			passed = false
		case leg == evidence.LegFreshness && nonce == nil:
			status = "skipped: no --nonce, so nothing shows this evidence is fresh (it may be a replay)"
		default:
			status = "ok" + legDetail(leg, ev, cpak, nonce)
		}
		fmt.Fprintf(&out, "%-20s %s\n", string(leg)+":", status)
	}
	switch {
	case verr != nil:
		fmt.Fprintf(&out, "result:              FAILED (%s)\n", failed)
	case nonce == nil:
		fmt.Fprintf(&out, "result:              verified, freshness not checked\n")
	default:
		fmt.Fprintf(&out, "result:              verified\n")
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		return usagef("writing the output: %v", err)
	}
	if verr == nil {
		return nil
	}
	if failed == evidence.LegPlatformSignature && errors.Is(verr, token.ErrKey) {
		return usageError(fmt.Errorf("verification failed: --cpak %s cannot be used: %w", o.cpak, verr))
	}
	return evidenceError(fmt.Errorf("verification failed: %w", verr))
}

// legReason is the failure without the leg name the LegError puts first.
func legReason(err error) string {
	var le *evidence.LegError
	if errors.As(err, &le) {
		return le.Err.Error()
	}
	return err.Error()
}

// legDetail says what a passed leg checked.
func legDetail(leg evidence.Leg, ev *evidence.Evidence, cpak any, nonce []byte) string {
	switch leg {
	case evidence.LegPlatformSignature:
		return fmt.Sprintf(" (%v, CPAK %s)", ev.PlatformSign1.Alg, token.DescribeKey(cpak))
	case evidence.LegRealmSignature:
		enc := "COSE_Key"
		if ev.Realm.Generation() == token.GenLegacy {
			enc = "raw point"
		}
		desc := "RAK"
		if k, err := ev.Realm.RAK(); err == nil {
			desc = "RAK " + token.DescribeKey(k)
		}
		return fmt.Sprintf(" (%v, %s from claim %d as a %s)", ev.RealmSign1.Alg, desc, token.KeyRealmPubKey, enc)
	case evidence.LegBinding:
		return fmt.Sprintf(" (platform challenge = %s of the RAK claim)", ev.Realm.PubKeyHashAlgID)
	case evidence.LegFreshness:
		return fmt.Sprintf(" (realm challenge = the %d-byte nonce, zero-padded to %d)", len(nonce), token.ChallengeSize)
	}
	return ""
}
