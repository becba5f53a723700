package main

import (
	"crypto"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/internal/emulation"
	"github.com/ccakit/cca/internal/textsafe"
	"github.com/ccakit/cca/realmbuild"
	"github.com/ccakit/cca/token"
)

type emulateOptions struct {
	challenge, cpak, rak, format, exportCPAK, out, realmFile string
	hex                                                      bool
	challengeSet                                             bool // --challenge given, even empty
	// stdin is read for a key given as "-"; nil (demo) refuses "-".
	stdin io.Reader
}

func newEmulateCmd() *cobra.Command {
	var o emulateOptions
	cmd := &cobra.Command{
		Use:   "emulate [flags]",
		Short: "Boot the emulated CCA machine, run a realm, and get its token over RSI",
		Long: `emulate boots the emulated Arm CCA machine (EL3 monitor with its GPT, platform
root of trust, RMM), builds a realm through RMI exactly as a VMM does
(REALM_CREATE, RTT_INIT_RIPAS over its RAM, measured DATA_CREATE of its
images, a runnable REC, REALM_ACTIVATE), enters it, and lets the realm's
software ask for its attestation token over RSI with the Linux guest loop
(RSI_ATTESTATION_TOKEN_INIT, then CONTINUE until SUCCESS). The token is
written as raw CBOR.

--format chooses what the RMM emits: rel0 (RMM 1.0-REL0: tag 399, 2023
profiles; the default), legacy (RMM 1.0-EAC5: tag 399, CCA-SSD platform
profile, profile-less realm), cmw (tag 907 with 2023 profiles, as TF-RMM
v0.9.0) or tfrmm-main (what TF-RMM main emits: tag 907, the 2023 platform
token, a tag:arm.com,2024:realm#2.0.0 realm token with the realm instance id
the RMM draws at REALM_CREATE and the MEC policy, shared on this machine,
which has no FEAT_MEC).

Without --cpak/--rak the machine uses the fixed, published test keys of
emulator/rot; --export-cpak writes the CPAK public key a verifier needs.
--realm describes the realm (docs/realm-description.md); the default is a
small kvmtool-style realm.`,
		Example: `  ccatoken emulate -o token.cbor --export-cpak cpak.pem
  ccatoken emulate --challenge $(openssl rand -hex 64) --format cmw -o t.cbor
  ccatoken emulate --format tfrmm-main -o main.cbor --export-cpak cpak.pem
  ccatoken verify t.cbor --cpak cpak.pem --refvals testvectors/refvals/emulator.json --nonce ...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.stdin = cmd.InOrStdin()
			o.challengeSet = cmd.Flags().Changed("challenge")
			return runEmulate(cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.challenge, "challenge", "", "realm challenge, 32..64 bytes in `HEX` (zero-padded to 64); default: random 64 bytes")
	f.StringVar(&o.cpak, "cpak", "", "platform attestation `KEY` (PEM or JWK private key); default: the test CPAK")
	f.StringVar(&o.rak, "rak", "", "realm attestation `KEY` (P-384 private key: PEM, JWK or raw 48-byte scalar); default: the test RAK")
	f.StringVar(&o.format, "format", "rel0", "token `FORMAT`: rel0 (RMM 1.0-REL0), legacy (RMM 1.0-EAC5), cmw (tag 907, TF-RMM v0.9.0) or tfrmm-main (what TF-RMM main emits)")
	f.StringVar(&o.exportCPAK, "export-cpak", "", "write the CPAK public key (PEM) to `FILE`")
	// -o is --out, as in create and measure, where --output (-O) is the
	// output form; --output FILE, this command's first spelling, is kept
	// as a hidden alias.
	f.StringVarP(&o.out, "out", "o", "", "write the token to `FILE` instead of standard output")
	f.StringVar(&o.out, "output", "", "the same as --out")
	_ = f.MarkHidden("output") // the flag just defined
	cmd.MarkFlagsMutuallyExclusive("out", "output")
	f.BoolVar(&o.hex, "hex", false, "write the token as hex")
	f.StringVar(&o.realmFile, "realm", "", "realm description `FILE` (JSON, see docs/realm-description.md); default: a small built-in realm")
	return cmd
}

func runEmulate(stdout, stderr io.Writer, o emulateOptions) error {
	if o.out == "-" {
		o.out = "" // -o - is standard output, as - is standard input
	}
	if o.exportCPAK == "-" {
		return usagef("--export-cpak -: give a file (standard output has the token)")
	}
	if err := refuseBinaryToTerminal(stdout, o.out, o.hex); err != nil {
		return err
	}
	res, err := emulateRealm(o, nil)
	if err != nil {
		return err
	}
	if o.exportCPAK != "" {
		pem, err := token.MarshalPublicPEM(res.Machine.CPAK())
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.exportCPAK, pem, 0o644); err != nil {
			return usagef("--export-cpak: %v", pathErr(err))
		}
	}
	if toFile, err := writeCBOR(stdout, res.Token, o.out, o.hex); err != nil || !toFile {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s token (%d bytes) to %s\nchallenge: %x\n", res.format, len(res.Token), textsafe.Escape(o.out), res.Challenge)
	return nil
}

// emulated is what one run of the emulated machine produced, and in which
// format.
type emulated struct {
	*emulation.Result
	format evidence.Format
}

// emulateRealm boots the machine and runs the realm as the flags say;
// trace, if set, sees each RMI command as it is issued.
func emulateRealm(o emulateOptions, trace func(string, uint64)) (*emulated, error) {
	format, err := evidence.ParseFormat(o.format)
	if err != nil {
		return nil, usagef("--format: %w", err)
	}
	eo := emulation.Options{Config: emulator.Config{TokenFormat: format}, Trace: trace}
	if o.challengeSet || o.challenge != "" {
		if eo.Challenge, err = parseHexNonce("--challenge", o.challenge); err != nil {
			return nil, err
		}
	}
	if countStdin(o.cpak, o.rak) > 1 {
		return nil, usagef("only one of --cpak and --rak can be - (standard input)")
	}
	if o.cpak != "" {
		if eo.Config.CPAK, err = readPrivateKey("cpak", o.cpak, o.stdin); err != nil {
			return nil, err
		}
	}
	if o.rak != "" {
		k, err := readPrivateKey("rak", o.rak, o.stdin)
		if err != nil {
			return nil, err
		}
		if eo.Config.RAK, err = p384Key(k); err != nil {
			return nil, usagef("--rak %s: %v", textsafe.Escape(o.rak), err)
		}
	}
	if o.realmFile != "" {
		if eo.Realm, eo.Load, err = realmbuild.ReadDescriptionFile(o.realmFile); err != nil {
			return nil, usagef("--realm %s: %v", textsafe.Escape(o.realmFile), err)
		}
	}
	res, err := emulation.Run(eo)
	switch {
	case errors.Is(err, realmbuild.ErrDescription):
		return nil, usagef("--realm %s: %v", textsafe.Escape(o.realmFile), err)
	case errors.Is(err, emulation.ErrMachine):
		return nil, usageError(err)
	case err != nil:
		return nil, err
	}
	return &emulated{Result: res, format: format}, nil
}

func p384Key(k crypto.Signer) (*ecdsa.PrivateKey, error) {
	e, ok := k.(*ecdsa.PrivateKey)
	if !ok || e.Curve.Params().Name != "P-384" {
		return nil, fmt.Errorf("the RAK must be a P-384 ECDSA key, got %s", token.DescribeKey(k.Public()))
	}
	return e, nil
}
