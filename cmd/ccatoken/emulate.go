package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/guest"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/emulator/vmm"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// defaultRealm is the realm emulate and demo build when no --realm is
// given: 256 MB of RAM at 2 GB, a 64 KB synthetic kernel (AArch64 NOPs) at
// the base of RAM, a 4 KB stand-in for the DTB, one vCPU entering the
// kernel with x0 = the DTB's address (the kvmtool convention).
const defaultRealm = `{
  "realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 5, "num_wps": 3,
            "rpv": "6363616b69742064656661756c74207265616c6d"},
  "ram": [{"base": "0x80000000", "size": "0x10000000"}],
  "images": [
    {"name": "kernel", "ipa": "0x80000000", "fill": "1f2003d5", "size": "0x10000"},
    {"name": "dtb", "ipa": "0x8fe00000", "fill": "d00dfeed", "size": "0x1000"}
  ],
  "recs": [{"pc": "0x80000000", "gprs": ["0x8fe00000"]}]
}`

// tokenBufferIPA is the guest page the realm software receives its token
// in: RAM the VMM has not populated, so the first CONTINUE takes a stage-2
// fault the host resolves, as a guest kernel's fresh page would.
const tokenBufferIPA = 0x8100_0000

// bootMessage is what the realm software extends REM[0] (RSI index 1) with
// before it asks for its token, as a guest kernel would measure what it
// runs.
const bootMessage = "ccakit realm: kernel booted"

type emulateOptions struct {
	challenge, cpak, rak, format, exportCPAK, out, realmFile string
	hex                                                      bool
	// lifecycle, when set, is the platform's lifecycle from boot (no
	// flag: golden uses it for its debug-lifecycle vectors).
	lifecycle *platform.Lifecycle
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
			return runEmulate(cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.challenge, "challenge", "", "realm challenge, 32..64 bytes in hex (zero-padded to 64); default: random 64 bytes")
	f.StringVar(&o.cpak, "cpak", "", "platform attestation key (PEM or JWK private key); default: the test CPAK")
	f.StringVar(&o.rak, "rak", "", "realm attestation key (P-384 private key: PEM, JWK or raw 48-byte scalar); default: the test RAK")
	f.StringVar(&o.format, "format", "rel0", "token `FORMAT`: rel0 (RMM 1.0-REL0), legacy (RMM 1.0-EAC5), cmw (tag 907, TF-RMM v0.9.0) or tfrmm-main (what TF-RMM main emits)")
	f.StringVar(&o.exportCPAK, "export-cpak", "", "write the CPAK public key (PEM) to FILE")
	f.StringVarP(&o.out, "output", "o", "", "write the token to FILE instead of standard output")
	f.BoolVar(&o.hex, "hex", false, "write the token as hex")
	f.StringVar(&o.realmFile, "realm", "", "realm description (JSON, see docs/realm-description.md); default: a small built-in realm")
	return cmd
}

func runEmulate(stdout, stderr io.Writer, o emulateOptions) error {
	if o.out == "" && !o.hex && isTerminal(stdout) {
		return usagef("refusing to write binary CBOR to a terminal: give -o FILE, or --hex")
	}
	res, err := emulateRealm(o, nil)
	if err != nil {
		return err
	}
	if o.exportCPAK != "" {
		pem, err := token.MarshalPublicPEM(res.machine.CPAK())
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.exportCPAK, pem, 0o644); err != nil {
			return usagef("--export-cpak: %v", pathErr(err))
		}
	}
	raw := res.token
	if o.hex {
		raw = []byte(hex.EncodeToString(raw) + "\n")
	}
	if o.out == "" {
		_, err := stdout.Write(raw)
		return err
	}
	if err := os.WriteFile(o.out, raw, 0o644); err != nil {
		return usagef("-o: %v", pathErr(err))
	}
	fmt.Fprintf(stdout, "wrote %s token (%d bytes) to %s\nchallenge: %x\n", res.format, len(res.token), o.out, res.challenge)
	return nil
}

// emulation is what one run of the emulated machine produced.
type emulation struct {
	machine   *emulator.Machine
	realm     *vmm.Realm
	plan      *realm.Plan
	format    evidence.Format
	challenge []byte
	token     []byte
	rmiCalls  []string       // RMI commands in the order the VMM issued them
	rmiCount  map[string]int // and how often
	rsiCalls  map[string]int // RSI calls the realm software made
	exits     map[uint64]int // REC exits by reason
	abortIPAs []uint64       // stage-2 data aborts the host resolved
}

// emulateRealm boots the machine and runs the realm; trace, if set, sees
// each RMI command as it is issued.
func emulateRealm(o emulateOptions, trace func(string, uint64)) (*emulation, error) {
	format, err := evidence.ParseFormat(o.format)
	if err != nil {
		return nil, usageError(err)
	}
	res := &emulation{format: format, rmiCount: map[string]int{}, rsiCalls: map[string]int{}, exits: map[uint64]int{}}
	if o.challenge != "" {
		if res.challenge, err = parseNonce(o.challenge); err != nil {
			return nil, err
		}
	} else {
		res.challenge = make([]byte, token.ChallengeSize)
		if _, err := rand.Read(res.challenge); err != nil {
			return nil, err
		}
	}
	cfg := emulator.Config{TokenFormat: format, Lifecycle: o.lifecycle}
	if o.cpak != "" {
		if cfg.CPAK, err = readPrivateKey("cpak", o.cpak, nil); err != nil {
			return nil, err
		}
	}
	if o.rak != "" {
		k, err := readPrivateKey("rak", o.rak, nil)
		if err != nil {
			return nil, err
		}
		if cfg.RAK, err = p384Key(k); err != nil {
			return nil, usagef("--rak %s: %v", o.rak, err)
		}
	}
	var desc *realm.Description
	var load realm.Loader
	if o.realmFile != "" {
		if desc, load, err = realm.ReadDescriptionFile(o.realmFile); err != nil {
			return nil, usagef("--realm: %v", err)
		}
	} else if desc, err = realm.ParseDescription([]byte(defaultRealm)); err != nil {
		return nil, err
	}
	if res.plan, err = desc.Plan(load); err != nil {
		return nil, usagef("--realm: %v", err)
	}
	if res.machine, err = emulator.New(cfg); err != nil {
		return nil, usageError(err)
	}
	var runErr error
	res.machine.SetRealmProgram(desc.RECs[0].PC, func(cpu emulator.RealmCPU) {
		c := &countingCPU{RealmCPU: cpu, calls: res.rsiCalls}
		if runErr = guest.MeasurementExtend(c, 1, []byte(bootMessage)); runErr != nil {
			return
		}
		res.token, runErr = guest.AttestationToken(c, res.challenge, tokenBufferIPA)
	})
	v := vmm.New(res.machine)
	v.Trace = func(cmd string, x0 uint64) {
		res.rmiCalls = append(res.rmiCalls, cmd)
		res.rmiCount[cmd]++
		if trace != nil {
			trace(cmd, x0)
		}
	}
	if res.realm, err = v.Build(res.plan); err != nil {
		return nil, fmt.Errorf("building the realm: %w", err)
	}
	_, err = res.realm.Run(0, vmm.Handlers{Exit: func(_ int, e vmm.Exit) {
		res.exits[e.Reason]++
		if e.Reason == rmm.ExitSync {
			res.abortIPAs = append(res.abortIPAs, e.IPA())
		}
	}})
	if err != nil {
		return nil, fmt.Errorf("running the realm: %w", err)
	}
	if runErr != nil {
		return nil, fmt.Errorf("realm software: %w", runErr)
	}
	if res.token == nil {
		return nil, errors.New("the realm stopped without a token")
	}
	return res, nil
}

func p384Key(k crypto.Signer) (*ecdsa.PrivateKey, error) {
	e, ok := k.(*ecdsa.PrivateKey)
	if !ok || e.Curve.Params().Name != "P-384" {
		return nil, fmt.Errorf("the RAK must be a P-384 ECDSA key, got %s", token.DescribeKey(k.Public()))
	}
	return e, nil
}

// countingCPU counts the realm software's RSI calls by name.
type countingCPU struct {
	emulator.RealmCPU
	calls map[string]int
}

var rsiNames = map[uint64]string{
	rmm.RSIVersion: "RSI_VERSION", rmm.RSIFeatures: "RSI_FEATURES", rmm.RSIMeasurementRead: "RSI_MEASUREMENT_READ",
	rmm.RSIMeasurementExtend: "RSI_MEASUREMENT_EXTEND", rmm.RSIAttestationTokenInit: "RSI_ATTESTATION_TOKEN_INIT",
	rmm.RSIAttestationTokenContinue: "RSI_ATTESTATION_TOKEN_CONTINUE", rmm.RSIRealmConfig: "RSI_REALM_CONFIG",
	rmm.RSIIPAStateSet: "RSI_IPA_STATE_SET", rmm.RSIIPAStateGet: "RSI_IPA_STATE_GET", rmm.RSIHostCall: "RSI_HOST_CALL",
}

func (c *countingCPU) SMC(fid uint64, args ...uint64) [9]uint64 {
	name, ok := rsiNames[fid]
	if !ok {
		name = fmt.Sprintf("SMC %#x", fid)
	}
	c.calls[name]++
	return c.RealmCPU.SMC(fid, args...)
}
