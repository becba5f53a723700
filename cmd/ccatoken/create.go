package main

import (
	"crypto"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/internal/textsafe"
	"github.com/ccakit/cca/token"
)

type createOptions struct {
	claims, iak, rak, format, out string
	hex                           bool
	formatSet                     bool
}

func newCreateCmd() *cobra.Command {
	var o createOptions
	cmd := &cobra.Command{
		Use:   "create --claims JSON --iak KEY --rak KEY [--format rel0|legacy|cmw|tfrmm-main] [-o FILE]",
		Short: "Create and sign CCA evidence from claims in JSON",
		Long: `create signs a platform and a realm claims set into CCA evidence, as platform
firmware and the RMM would, like 'evcli cca create'.

--claims is a JSON file (or - for standard input) in the evcli form:
  {"cca-platform-token": {...}, "cca-realm-delegated-token": {...}}
Byte strings are base64; unknown members are refused. The output of
'ccatoken inspect --output json' is accepted as it is: its "format" member
chooses the format when --format is not given, its extra claims are put back,
and its informational members are ignored.

create fills in what the format and the keys decide, overwriting the claims
if they say otherwise: the profiles, the RAK claim (the --rak public key, as a
COSE_Key or, for legacy, a raw point), the RAK hash algorithm when absent
(sha-256), and the platform challenge (the hash of the RAK claim that binds
the two tokens). Both claims sets are validated before signing.

--iak signs the platform token (the CPAK); --rak signs the realm token and
must be an ECDSA key. Each is a PEM (SEC1 or PKCS#8) or private JWK file, or a
raw 48-byte P-384 scalar (binary or 96 hex digits).

--format: rel0 (RMM 1.0-REL0, tag 399, 2023 profiles), legacy (RMM 1.0-EAC5,
tag 399, CCA-SSD profile, raw-point RAK), cmw (tag 907 with 2023 profiles,
TF-RMM v0.9.0) or tfrmm-main (what TF-RMM main emits: tag 907, the 2023
platform profile, the tag:arm.com,2024:realm#2.0.0 realm profile; the realm
claims must carry "cca-realm-instance-id" and "cca-realm-mec-policy").
Without it, the format follows the claims' profiles, or is rel0. A --format
that contradicts a profile in the claims is an error.

ECDSA signatures are deterministic (RFC 6979): the same claims and keys give
the same bytes. Ed25519 is deterministic too; RSA-PSS is not.

The evidence is written as raw CBOR to -o FILE, or to standard output unless
that is a terminal; --hex writes hex text instead.

Exit status: 0 written; 1 the claims do not make valid evidence; 2 usage or
unreadable input (bad flags, unreadable claims JSON, a key that cannot sign).`,
		Example: `  ccatoken create --claims testvectors/claims/rel0.json \
      --iak testvectors/keys/cpak-p384.pem --rak testvectors/keys/rak-p384.pem -o token.cbor
  ccatoken create --claims testvectors/claims/rel0.json --format cmw \
      --iak testvectors/keys/cpak-p384.pem --rak testvectors/keys/rak-p384.jwk --hex
  ccatoken inspect --output json token.cbor | ccatoken create --claims - \
      --iak cpak.pem --rak rak.pem -o copy.cbor`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.formatSet = cmd.Flags().Changed("format")
			return runCreate(cmd.InOrStdin(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.claims, "claims", "", "the claims: a `JSON` file in the evcli form, or - for standard input")
	f.StringVar(&o.iak, "iak", "", "private `KEY` that signs the platform token (the CPAK)")
	f.StringVar(&o.rak, "rak", "", "private ECDSA `KEY` that signs the realm token (the RAK)")
	f.StringVar(&o.format, "format", "", "token `FORMAT`: rel0, legacy, cmw or tfrmm-main (default: the claims' profiles', else rel0)")
	f.StringVarP(&o.out, "out", "o", "", "write the evidence to `FILE` instead of standard output")
	f.BoolVar(&o.hex, "hex", false, "write hex text instead of raw CBOR")
	for _, name := range []string{"claims", "iak", "rak"} {
		_ = cmd.MarkFlagRequired(name) // the names are the flags just defined
	}
	return cmd
}

func runCreate(stdin io.Reader, stdout io.Writer, o createOptions) error {
	if o.out == "-" {
		o.out = "" // -o - is standard output, as - is standard input
	}
	if err := refuseBinaryToTerminal(stdout, o.out, o.hex); err != nil {
		return err
	}
	if n := countStdin(o.claims, o.iak, o.rak); n > 1 {
		return usagef("only one of --claims, --iak and --rak can be - (standard input)")
	}
	data, err := readFile(o.claims, "--claims", stdin)
	if err != nil {
		return err
	}
	doc, err := parseClaimsDocument(data)
	if err != nil {
		return usagef("--claims %s: %v", textsafe.Escape(o.claims), err)
	}
	format, err := chooseFormat(doc, o)
	if err != nil {
		return err
	}
	iak, err := readPrivateKey("iak", o.iak, stdin)
	if err != nil {
		return err
	}
	rak, err := readPrivateKey("rak", o.rak, stdin)
	if err != nil {
		return err
	}
	// The realm token's key is ECDSA (its claim 44237 is an EC2 COSE_Key
	// or a raw SEC1 point); said here, where the flag and file are known.
	if _, ok := rak.(*ecdsa.PrivateKey); !ok {
		return usagef("--rak %s: %v: the RAK must be an ECDSA key, got %s",
			textsafe.Escape(o.rak), token.ErrKey, token.DescribeKey(rak.Public()))
	}
	// Deterministic ECDSA (RFC 6979): the same claims and keys make the
	// same evidence, byte for byte.
	raw, err := createEvidence(doc, iak, rak, format, token.RFC6979)
	if err != nil {
		return err
	}
	if toFile, err := writeCBOR(stdout, raw, o.out, o.hex); err != nil || !toFile {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s evidence (%d bytes) to %s\n", format, len(raw), textsafe.Escape(o.out))
	return nil
}

// createEvidence signs the claims. Errors about the keys are usage errors;
// the rest (claims that do not validate, a profile no format has) are the
// claims' fault.
func createEvidence(doc *claimsDocument, iak, rak crypto.Signer, format evidence.Format, rng io.Reader) ([]byte, error) {
	raw, err := evidence.Create(doc.Platform, doc.Realm, iak, rak, format, rng)
	if err != nil {
		if errors.Is(err, token.ErrKey) {
			return nil, usageError(err)
		}
		return nil, evidenceError(fmt.Errorf("cannot create %s evidence: %w", format, err))
	}
	return raw, nil
}

// chooseFormat picks the format: --format, else the document's "format"
// member, else the one the platform profile implies, else rel0. A format
// chosen explicitly must agree with a known profile in the claims.
func chooseFormat(doc *claimsDocument, o createOptions) (evidence.Format, error) {
	var (
		f   evidence.Format
		err error
		src string
	)
	switch {
	case o.formatSet:
		if f, err = evidence.ParseFormat(o.format); err != nil {
			return 0, usagef("--format: %v", err)
		}
		src = "--format " + f.String()
	case doc.Format != "":
		if f, err = evidence.ParseFormat(doc.Format); err != nil {
			return 0, usagef("--claims %s: \"format\": %v", textsafe.Escape(o.claims), err)
		}
		src = fmt.Sprintf("the claims' \"format\": %q", doc.Format)
	default:
		if pf, ok := evidence.FormatOfProfiles(doc.Platform.Profile, doc.Realm.Profile); ok {
			return pf, nil
		}
		// An unknown or 2.0 profile: rel0, and evidence.Create says why
		// the profile cannot be used.
		return evidence.FormatREL0, nil
	}
	for _, pr := range []struct {
		set  token.ClaimSet
		name string
	}{{token.SetPlatform, doc.Platform.Profile}, {token.SetRealm, doc.Realm.Profile}} {
		if pr.name == "" {
			continue
		}
		p, err := token.LookupProfile(pr.name, pr.set)
		if err != nil {
			continue // unknown: evidence.Create reports it
		}
		if p.Gen != f.GenerationOf(pr.set) {
			return 0, usagef("%s conflicts with the %s profile %q in the claims, which is %v; drop one of them",
				src, pr.set, pr.name, p.Gen)
		}
	}
	return f, nil
}

func countStdin(paths ...string) int {
	n := 0
	for _, p := range paths {
		if p == "-" {
			n++
		}
	}
	return n
}
