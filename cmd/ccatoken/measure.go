package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/internal/textsafe"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/realmbuild"
	"github.com/ccakit/cca/token"
	"github.com/ccakit/cca/verifier"
)

type measureOptions struct {
	realm, out, corim, output, rakHashAlgo string
	rems                                   []string
}

func newMeasureCmd() *cobra.Command {
	var o measureOptions
	cmd := &cobra.Command{
		Use:   "measure --realm FILE [-o FILE] [--output text|json|plan]",
		Short: "Predict a realm's initial measurement (RIM) from its description",
		Long: `measure reads a realm description (docs/realm-description.md: the realm
parameters, guest RAM, the images a VMM loads and the vCPUs), replays the RMI
build sequence a VMM runs for it, in the conventional order, and prints the
Realm Initial Measurement the RMM will compute:

  REALM_CREATE; RTT_INIT_RIPAS over all RAM; DATA_CREATE of the measured
  images in ascending IPA order, 4 KB at a time; REC_CREATE of every REC
  (runnable ones measured); DATA_CREATE of the unmeasured images.

Image files named in the description are read relative to its directory
(the current directory when --realm is -).

-o FILE writes the reference values, in the JSON shape of rust-ccatoken's
reference-value store, which the verifier package reads, with every member
rust-ccatoken requires:

  {"realm": [{"initial-measurement": HEX, "hash-algo": "sha-256"|"sha-512",
              "rak-hash-algorithm": ALG, "extensible-measurements": [HEX x 4],
              "personalization-value": HEX}]}

--corim FILE writes the same reference values (RIM, RPV, REMs) as an
unsigned CoRIM of the CCA realm profile (tag:arm.com,2025:cca_realm#1.0.0,
draft-ydb-rats-cca-endorsements), the form Veraison's provisioning API takes
and --refvals reads; its id names the RIM. (The profile has no RAK hash
algorithm: a CoRIM reference value matches whatever the RMM uses.)

The RAK hash algorithm is the RMM's, not the description's: --rak-hash-algo,
default sha-256 (TF-RMM's). The REMs are zero when the realm is activated;
a realm whose software extends one at run time needs the value it reaches:
--rem I=HEX gives REM[I] (repeatable).

Output forms (--output):
  text  the RIM with the algorithm, RPV and a count of the steps (default)
  json  the reference values, as -o writes them
  plan  every RMI step of the build, with the RIM after it

Exit status: 0 success; 2 usage, an unreadable or invalid description, an
image file that cannot be read.`,
		Example: `  ccatoken measure --realm testvectors/realms/small.json
  ccatoken measure --realm testvectors/realms/small.json -o refvalues.json
  ccatoken measure --realm testvectors/realms/small.json --corim realm.corim
  ccatoken measure --realm realm.json --rak-hash-algo sha-512 --rem 0=9f86d081884c7d65... -o refvalues.json
  ccatoken measure --realm realm.json --output plan | less`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMeasure(cmd.InOrStdin(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.realm, "realm", "", "realm description `FILE` (JSON), or - for standard input")
	f.StringVarP(&o.out, "out", "o", "", "write the reference values (JSON) to `FILE`")
	f.StringVar(&o.corim, "corim", "", "write the reference values as a CoRIM of the CCA realm profile to `FILE`")
	f.StringVarP(&o.output, "output", "O", "text", "output `FORM`: text, json or plan")
	f.StringVar(&o.rakHashAlgo, "rak-hash-algo", token.SHA256, "the RMM's RAK hash algorithm, `ALG`, for the reference values (sha-256, sha-384, sha-512)")
	f.StringArrayVar(&o.rems, "rem", nil, "`I=HEX`: the value REM[I] (0..3) reaches at run time, for the reference values (default zero, as at activation; repeatable)")
	_ = cmd.MarkFlagRequired("realm") // the flag just defined
	return cmd
}

func runMeasure(stdin io.Reader, stdout io.Writer, o measureOptions) error {
	switch o.output {
	case "text", "json", "plan":
	default:
		return usagef("--output %q: want text, json or plan", o.output)
	}
	// Standard output has the --output form: "-" would otherwise make a
	// file named "-".
	if o.out == "-" {
		return usagef("-o -: give a file (--output json writes the reference values to standard output)")
	}
	if o.corim == "-" {
		return usagef("--corim -: give a file (a CoRIM is binary)")
	}
	if _, err := token.HashByName(o.rakHashAlgo); err != nil {
		return usagef("--rak-hash-algo %q: want sha-256, sha-384 or sha-512", o.rakHashAlgo)
	}
	data, err := readFile(o.realm, "--realm", stdin)
	if err != nil {
		return err
	}
	dir := filepath.Dir(o.realm)
	if o.realm == "-" {
		dir = "."
	}
	d, err := realmbuild.ParseDescription(data)
	if err != nil {
		return usagef("--realm %s: %v", textsafe.Escape(o.realm), err)
	}
	plan, err := d.Plan(realmbuild.DirLoader(dir))
	if err != nil {
		return usagef("--realm %s: %v", textsafe.Escape(o.realm), pathErr(err))
	}
	pred := plan.Predict()
	rems, err := parseREMs(o.rems, pred.HashAlgo)
	if err != nil {
		return err
	}
	rv, err := verifier.NewReferenceValues(nil, []verifier.RealmReference{{
		InitialMeasurement: pred.RIM, PersonalizationValue: pred.RPV, HashAlgorithm: pred.HashAlgo.Name(),
		RAKHashAlgorithm: o.rakHashAlgo, ExtensibleMeasurements: rems,
	}})
	if err != nil {
		return usageError(err)
	}
	refJSON, err := json.MarshalIndent(rv, "", "  ")
	if err != nil {
		return usageError(err)
	}
	refJSON = append(refJSON, '\n')

	var out bytes.Buffer
	switch o.output {
	case "json":
		out.Write(refJSON)
	case "plan":
		writePlan(&out, plan)
	default:
		writeMeasureText(&out, o.realm, plan, pred)
	}
	if o.out != "" {
		if err := os.WriteFile(o.out, refJSON, 0o644); err != nil {
			return usagef("-o: %v", pathErr(err))
		}
		if o.output == "text" {
			fmt.Fprintf(&out, "wrote reference values to %s\n", textsafe.Escape(o.out))
		}
	}
	if o.corim != "" {
		ref := endorsement.RealmReference{RIM: pred.RIM, HashAlg: pred.HashAlgo.Name(), RPV: pred.RPV}
		copy(ref.REMs[:], rems)
		c, err := endorsement.EncodeRealm(fmt.Sprintf("ccatoken measure %x", pred.RIM[:8]), ref)
		if err != nil {
			return usageError(err)
		}
		if err := os.WriteFile(o.corim, c, 0o644); err != nil {
			return usagef("--corim: %v", pathErr(err))
		}
		if o.output == "text" {
			fmt.Fprintf(&out, "wrote the reference values as a CoRIM to %s\n", textsafe.Escape(o.corim))
		}
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		return usagef("writing the output: %v", err)
	}
	return nil
}

// parseREMs reads the --rem flags into the four REMs of the reference
// values: each "I=HEX" gives REM[I], of the realm's hash size; the others
// are zero, as the RMM sets them when the realm is created.
func parseREMs(flags []string, h realm.HashAlgorithm) ([][]byte, error) {
	rems := make([][]byte, realm.NumREMs)
	for _, f := range flags {
		i, v, ok := strings.Cut(f, "=")
		n, err := strconv.Atoi(i)
		if !ok || err != nil || n < 0 || n >= realm.NumREMs {
			return nil, usagef("--rem %q: want I=HEX with I from 0 to %d", f, realm.NumREMs-1)
		}
		if rems[n] != nil {
			return nil, usagef("--rem: REM[%d] is given twice", n)
		}
		b, err := hex.DecodeString(strings.TrimPrefix(v, "0x"))
		if err != nil || len(b) != h.Size() {
			return nil, usagef("--rem %q: want %d bytes of hex (%s, the realm's hash algorithm)", f, h.Size(), h.Name())
		}
		rems[n] = b
	}
	for i := range rems {
		if rems[i] == nil {
			rems[i] = make([]byte, h.Size())
		}
	}
	return rems, nil
}

func writeMeasureText(w io.Writer, path string, plan *realmbuild.Plan, pred realmbuild.Prediction) {
	var ripas, measured, unmeasured, recs, runnable int
	for _, s := range plan.Steps {
		switch s := s.(type) {
		case realmbuild.InitRIPASStep:
			ripas++
		case realmbuild.DataCreateStep:
			if s.Measured() {
				measured++
			} else {
				unmeasured++
			}
		case realmbuild.RECCreateStep:
			recs++
			if s.Runnable() {
				runnable++
			}
		}
	}
	create := plan.Steps[0].(realmbuild.RealmCreateStep)
	fmt.Fprintf(w, "realm:                 %s\n", textsafe.Escape(path))
	fmt.Fprintf(w, "ipa width (s2sz):      %d, RTT start level %d (%d table(s))\n", create.Params.S2SZ, create.RTTLevelStart, create.RTTNumStart)
	fmt.Fprintf(w, "steps:                 REALM_CREATE, %d RTT_INIT_RIPAS entries, %d measured DATA_CREATE, %d REC_CREATE (%d runnable), %d unmeasured DATA_CREATE\n",
		ripas, measured, recs, runnable, unmeasured)
	fmt.Fprintf(w, "hash algorithm:        %s\n", pred.HashAlgo.Name())
	fmt.Fprintf(w, "personalization value: %s\n", hex.EncodeToString(pred.RPV))
	fmt.Fprintf(w, "initial measurement:   %s\n", hex.EncodeToString(pred.RIM))
}

// writePlan lists every step with the RIM after it, to compare with a
// trace of the emulated RMM line by line.
func writePlan(w io.Writer, plan *realmbuild.Plan) {
	n := 0
	plan.Replay(func(s realmbuild.Step, rim *realm.Measurement) {
		fmt.Fprintf(w, "%d %s rim=%s\n", n, s, hex.EncodeToString(rim.Value(plan.HashAlgo)))
		n++
	})
}
