package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
	"github.com/spf13/cobra"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/token"
)

func newInspectCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "inspect TOKEN",
		Short: "Decode and show CCA evidence, and validate its claims",
		Long: `inspect decodes CCA evidence and shows its generation and wrapper, each
token's COSE algorithm and signature size, and every claim with its name and
key: byte strings in hex, the lifecycle decoded, the software components, the
realm attestation key (curve and encoding), and claims the profiles do not
define (in CBOR diagnostic notation). The last line is the result of
validating the claims against their profiles.

inspect checks no signature: use 'ccatoken verify' for that.

TOKEN is a file or - for standard input, in raw CBOR, hex or base64.

Output forms (--output):
  text  the human-readable listing (default)
  json  the claims in the evcli JSON form, which 'ccatoken create --claims'
        reads back, with the generation, the format, extra claims and the
        validation result beside them
  diag  the whole collection in CBOR extended diagnostic notation, embedded
        CBOR (the tokens, their payloads, a COSE_Key) shown as <<...>>

Exit status: 0 decoded and valid; 1 malformed or invalid (an invalid but
decodable token is still shown, with the problem); 2 usage or unreadable
input.`,
		Example: `  ccatoken inspect testvectors/rel0-es384.cbor
  ccatoken inspect --output json testvectors/cmw-es384.cbor > claims.json
  base64 -w0 token.cbor | ccatoken inspect -
  ccatoken inspect --output diag token.hex`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd.InOrStdin(), cmd.OutOrStdout(), args[0], output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "O", "text", "output `FORM`: text, json or diag")
	return cmd
}

func runInspect(stdin io.Reader, stdout io.Writer, path, output string) error {
	switch output {
	case "text", "json", "diag":
	default:
		return usagef("--output %q: want text, json or diag", output)
	}
	raw, err := readTokenFile(path, stdin)
	if err != nil {
		if exitCode(err) == exitFailed {
			return inspectFailed(stdout, output, err)
		}
		return err
	}
	data, form, err := decodeTokenInput(raw)
	if err != nil {
		return inspectFailed(stdout, output, err)
	}
	if output == "diag" {
		return inspectDiag(stdout, data, form)
	}
	ev, err := evidence.Decode(data)
	if err != nil {
		hint := ""
		if _, derr := token.Diagnose(data); derr == nil {
			hint = " ('inspect --output diag' shows the CBOR as it is)"
		}
		return inspectFailed(stdout, output, evidenceError(fmt.Errorf("%w (input read as %s)%s", err, form, hint)))
	}
	verr := ev.Validate(evidence.ValidateOptions{})
	var out bytes.Buffer
	if output == "json" {
		b, err := json.MarshalIndent(newClaimsDocument(ev, verr), "", "  ")
		if err != nil {
			return evidenceError(err)
		}
		out.Write(append(escapeUnprintable(b), '\n'))
	} else {
		writeInspectText(&out, ev, form, len(data), verr)
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		return usagef("writing the output: %v", err)
	}
	if verr != nil {
		return evidenceError(fmt.Errorf("invalid evidence: %w", verr))
	}
	return nil
}

// inspectFailed reports evidence that does not decode. With --output json
// standard output still gets one JSON object, as for evidence that decodes:
// no claims, and the reason in "validation", so that a pipeline reading
// the JSON sees the failure rather than no input.
func inspectFailed(stdout io.Writer, output string, err error) error {
	if output != "json" {
		return err
	}
	b, merr := json.MarshalIndent(struct {
		Validation string `json:"validation"`
	}{err.Error()}, "", "  ")
	if merr != nil {
		return err
	}
	if _, werr := stdout.Write(append(escapeUnprintable(b), '\n')); werr != nil {
		return usagef("writing the output: %v", werr)
	}
	return err
}

// escapeUnprintable writes the characters of JSON output that a terminal
// would act on or draw misleadingly (format characters such as the
// bidirectional overrides, which encoding/json leaves as they are) as \u
// escapes. They can only occur inside JSON strings, where the escape means
// the same character.
func escapeUnprintable(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, r := range string(b) {
		switch {
		case r == '\n' || r == ' ' || unicode.IsPrint(r):
			out = utf8.AppendRune(out, r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
	}
	return out
}

// inspectDiag writes the input in diagnostic notation. It shows any
// well-formed CBOR, evidence or not, and then says whether it is valid
// evidence through the exit status.
func inspectDiag(stdout io.Writer, data []byte, form string) error {
	d, err := token.Diagnose(data)
	if err != nil {
		return evidenceError(fmt.Errorf("%w (input read as %s)", err, form))
	}
	if _, err := io.WriteString(stdout, prettyDiag(d)+"\n"); err != nil {
		return usagef("writing the output: %v", err)
	}
	ev, err := evidence.Decode(data)
	if err != nil {
		return evidenceError(err)
	}
	if err := ev.Validate(evidence.ValidateOptions{}); err != nil {
		return evidenceError(fmt.Errorf("invalid evidence: %w", err))
	}
	return nil
}

// Layout of the text listing: claim key right-aligned, name, value from
// valueCol on; byte strings longer than hexOneLine bytes (a 33-byte instance
// id stays on one line) wrapped at hexPerLine bytes.
const (
	valueCol   = 44
	hexOneLine = 40
	hexPerLine = 32
)

type lister struct{ w *bytes.Buffer }

func (l lister) printf(format string, args ...any) { fmt.Fprintf(l.w, format, args...) }

// row writes "key  name   value" at the given indent; a multi-line value
// (wrapped hex) continues under the value column.
func (l lister) row(indent int, key, name, value string) {
	left := strings.Repeat(" ", indent) + key + "  " + name
	if len(left) < valueCol {
		left += strings.Repeat(" ", valueCol-len(left))
	} else {
		left += "  "
	}
	lines := strings.Split(value, "\n")
	l.printf("%s%s\n", left, lines[0])
	for _, cont := range lines[1:] {
		l.printf("%s%s\n", strings.Repeat(" ", valueCol), cont)
	}
}

// claimRow writes one claim of set: its key, its name from the table.
func (l lister) claimRow(indent int, set token.ClaimSet, key int64, value string) {
	name := fmt.Sprintf("claim %d", key)
	if c, ok := token.LookupClaim(set, key); ok {
		name = c.Name
	}
	l.row(indent, fmt.Sprintf("%5d", key), name, value)
}

// hexValue is b in hex, hexPerLine bytes a line.
func hexValue(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	if len(b) <= hexOneLine {
		return hex.EncodeToString(b)
	}
	var lines []string
	for len(b) > hexPerLine {
		lines = append(lines, hex.EncodeToString(b[:hexPerLine]))
		b = b[hexPerLine:]
	}
	return strings.Join(append(lines, hex.EncodeToString(b)), "\n")
}

func writeInspectText(w *bytes.Buffer, ev *evidence.Evidence, form string, size int, verr error) {
	l := lister{w}
	l.printf("evidence:  %s\n", ev.Kind())
	if form == formRaw {
		l.printf("input:     %s, %d bytes\n", form, size)
	} else {
		l.printf("input:     %s, decoded to %d bytes of CBOR\n", form, size)
	}
	l.printf("wrapper:   %s\n", ev.Collection.Wrapper)

	pm, _ := token.DecodeClaimsMap(ev.PlatformSign1.Payload, token.SetPlatform)
	if ev.Bare() {
		l.printf("\nplatform token (bare COSE_Sign1)\n")
	} else {
		l.printf("\nplatform token (collection entry %d)\n", token.KeyPlatformToken)
	}
	l.sign1Line(ev.PlatformSign1)
	p := ev.Platform
	const set = token.SetPlatform
	l.claimRow(2, set, token.KeyProfile, textValue(pm, token.KeyProfile, p.Profile))
	l.claimRow(2, set, token.KeyChallenge, bytesValue(pm, token.KeyChallenge, p.Challenge))
	l.claimRow(2, set, token.KeyImplementationID, bytesValue(pm, token.KeyImplementationID, p.ImplementationID))
	l.claimRow(2, set, token.KeyInstanceID, bytesValue(pm, token.KeyInstanceID, p.InstanceID))
	l.claimRow(2, set, token.KeyPlatformConfig, bytesValue(pm, token.KeyPlatformConfig, p.Config))
	lc := absent
	if present(pm, token.KeyLifecycle) {
		lc = p.Lifecycle.String()
	}
	l.claimRow(2, set, token.KeyLifecycle, lc)
	l.claimRow(2, set, token.KeyPlatformHashAlgID, textValue(pm, token.KeyPlatformHashAlgID, p.HashAlgID))
	l.claimRow(2, set, token.KeyVerificationService, textValue(pm, token.KeyVerificationService, p.VerificationService))
	l.claimRow(2, set, token.KeySwComponents, countValue(pm, token.KeySwComponents, len(p.SwComponents), "components"))
	for i, sc := range p.SwComponents {
		l.printf("%s[%d]\n", strings.Repeat(" ", 11), i)
		const sub = token.SetSwComponent
		if sc.MeasurementType != "" {
			l.claimRow(9, sub, token.KeySwMeasurementType, fmt.Sprintf("%q", sc.MeasurementType))
		}
		l.claimRow(9, sub, token.KeySwMeasurementValue, hexValue(sc.MeasurementValue))
		if sc.Version != "" {
			l.claimRow(9, sub, token.KeySwVersion, fmt.Sprintf("%q", sc.Version))
		}
		l.claimRow(9, sub, token.KeySwSignerID, hexValue(sc.SignerID))
		if sc.MeasurementDesc != "" {
			l.claimRow(9, sub, token.KeySwMeasurementDesc, fmt.Sprintf("%q", sc.MeasurementDesc))
		}
		if sc.LFASupported != nil {
			l.claimRow(9, sub, token.KeySwLFASupported, fmt.Sprint(*sc.LFASupported))
		}
		if sc.CountersignerIDs != nil {
			l.claimRow(9, sub, token.KeySwCountersigners, hexList(sc.CountersignerIDs))
		}
	}
	l.platform2Rows(p)
	l.extraRows(set, p.Extra)

	if ev.Bare() {
		l.printf("\nrealm token: none (a bare platform token)\n")
	} else {
		l.realmRows(ev)
	}

	if verr != nil {
		l.printf("\nvalidation: FAILED: %s\n", oneLine(verr.Error()))
	} else {
		l.printf("\nvalidation: ok (claims and profiles; 'ccatoken verify' checks the signatures)\n")
	}
}

// platform2Rows lists the 2.0 platform claims the token carries.
func (l lister) platform2Rows(p *platform.Claims) {
	const set = token.SetPlatform
	if p.ClientID != nil {
		name := ""
		if *p.ClientID == platform.ClientIDRMSD {
			name = " (Realm Management Security Domain)"
		}
		l.claimRow(2, set, token.KeyPlatformClientID, fmt.Sprintf("%d%s", *p.ClientID, name))
	}
	if p.ManufacturingConfig != nil {
		l.claimRow(2, set, token.KeyPlatformManufacturing, hexValue(p.ManufacturingConfig))
	}
	if p.Extension != nil {
		l.claimRow(2, set, token.KeyPlatformExtension, fmt.Sprintf("%d devices", len(p.Extension)))
		for i, d := range p.Extension {
			l.printf("%s[%d]\n", strings.Repeat(" ", 11), i)
			if d.HashAlgID != "" {
				l.row(9, "1", "hash algorithm", fmt.Sprintf("%q", d.HashAlgID))
			}
			l.row(9, "2", "device measurements digest", hexValue(d.DeviceMeasurementsDigest))
			l.row(9, "3", "certificate chain digest", hexValue(d.CertificateChainDigest))
			l.row(9, "4", "uses IDE", optString(d.UsesIDE))
			l.row(9, "5", "protocol", optString(d.Protocol))
			if d.VCADigest != nil {
				l.row(9, "6", "VCA digest", hexValue(d.VCADigest))
			}
			l.row(9, "7", "device type", optString(d.DeviceType))
			if d.EncryptionType != nil {
				l.row(9, "8", "encryption type", fmt.Sprint(*d.EncryptionType))
			}
		}
	}
	if p.TBBRoTPK != nil {
		l.claimRow(2, set, token.KeyPlatformTBBRoTPK, fmt.Sprintf("%d keys", len(p.TBBRoTPK)))
		for i, k := range p.TBBRoTPK {
			l.row(9, fmt.Sprintf("[%d]", i), fmt.Sprintf("%s, array %s, index %s", optString(k.Name), optString(k.ActiveArrayIndex), optString(k.Index)), hexValue(k.Hash))
		}
	}
	if p.PeerSigners != nil {
		l.claimRow(2, set, token.KeyPlatformPeerSigners, hexList(p.PeerSigners))
	}
	if p.DiscreteTPMBinding != nil {
		l.claimRow(2, set, token.KeyPlatformDiscreteTPM, hexValue(p.DiscreteTPMBinding))
	}
	if p.WorkloadBinding != nil {
		l.claimRow(2, set, token.KeyPlatformWorkloadBinding, hexValue(p.WorkloadBinding))
	}
}

// optString shows an optional member: "(absent)", or its value, a string
// quoted (escaped).
func optString[T any](v *T) string {
	if v == nil {
		return absent
	}
	if s, ok := any(*v).(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(*v)
}

// hexList is a list of byte strings, one a line.
func hexList(list [][]byte) string {
	if len(list) == 0 {
		return "(empty list)"
	}
	lines := make([]string, len(list))
	for i, b := range list {
		lines[i] = hexValue(b)
	}
	return strings.Join(lines, "\n")
}

// realmRows lists the realm token.
func (l lister) realmRows(ev *evidence.Evidence) {
	rm, _ := token.DecodeClaimsMap(ev.RealmSign1.Payload, token.SetRealm)
	l.printf("\nrealm token (collection entry %d)\n", token.KeyRealmToken)
	l.sign1Line(ev.RealmSign1)
	r := ev.Realm
	const rset = token.SetRealm
	prof := textValue(rm, token.KeyProfile, r.Profile)
	if !present(rm, token.KeyProfile) {
		prof += " (a legacy realm token has none)"
	}
	l.claimRow(2, rset, token.KeyProfile, prof)
	l.claimRow(2, rset, token.KeyChallenge, bytesValue(rm, token.KeyChallenge, r.Challenge))
	l.claimRow(2, rset, token.KeyRealmPersonalizationValue, bytesValue(rm, token.KeyRealmPersonalizationValue, r.PersonalizationValue))
	l.claimRow(2, rset, token.KeyRealmPubKey, rakValue(rm, ev))
	l.claimRow(2, rset, token.KeyRealmPubKeyHashAlgID, textValue(rm, token.KeyRealmPubKeyHashAlgID, r.PubKeyHashAlgID))
	l.claimRow(2, rset, token.KeyRealmHashAlgID, textValue(rm, token.KeyRealmHashAlgID, r.HashAlgID))
	l.claimRow(2, rset, token.KeyRealmInitialMeasurement, bytesValue(rm, token.KeyRealmInitialMeasurement, r.InitialMeasurement))
	l.claimRow(2, rset, token.KeyRealmExtensibleMeas, countValue(rm, token.KeyRealmExtensibleMeas, len(r.ExtensibleMeasurements), "measurements"))
	for i, rem := range r.ExtensibleMeasurements {
		l.row(9, fmt.Sprintf("[%d]", i), "", hexValue(rem))
	}
	if r.InstanceID != nil {
		l.claimRow(2, rset, token.KeyRealmInstanceID, hexValue(r.InstanceID))
	}
	if r.MECPolicy != nil {
		l.claimRow(2, rset, token.KeyRealmMECPolicy, r.MECPolicy.String())
	}
	if r.LFAPolicy != nil {
		l.claimRow(2, rset, token.KeyRealmLFAPolicy, lfaPolicy(*r.LFAPolicy))
	}
	if r.DevicesTokenHash != nil {
		l.claimRow(2, rset, token.KeyRealmDevicesTokenHash, hexValue(r.DevicesTokenHash))
	}
	l.extraRows(rset, r.Extra)
}

func lfaPolicy(v uint64) string {
	switch v {
	case 0:
		return "disallow (0)"
	case 1:
		return "allow (1)"
	}
	return fmt.Sprintf("invalid (%d)", v)
}

const absent = "(absent)"

func present(m token.ClaimsMap, key int64) bool {
	_, ok := m.Claims[key]
	return ok
}

func textValue(m token.ClaimsMap, key int64, s string) string {
	if !present(m, key) {
		return absent
	}
	return fmt.Sprintf("%q", s)
}

// countValue is an array claim's row: how many items, of what.
func countValue(m token.ClaimsMap, key int64, n int, items string) string {
	if !present(m, key) {
		return absent
	}
	return fmt.Sprintf("%d %s", n, items)
}

func bytesValue(m token.ClaimsMap, key int64, b []byte) string {
	if !present(m, key) {
		return absent
	}
	return hexValue(b)
}

// rakValue describes the RAK: its curve, its encoding and size, then the
// bytes as carried.
func rakValue(m token.ClaimsMap, ev *evidence.Evidence) string {
	if !present(m, token.KeyRealmPubKey) {
		return absent
	}
	b := ev.Realm.PubKey
	enc := "COSE_Key"
	if ev.Realm.Generation() == token.GenLegacy {
		enc = "raw SEC1 point"
	}
	desc := fmt.Sprintf("%s, %d bytes", enc, len(b))
	if k, err := ev.Realm.RAK(); err != nil {
		desc = fmt.Sprintf("%d bytes, not a usable key: %s", len(b), oneLine(err.Error()))
	} else {
		desc = token.DescribeKey(k) + ", " + desc
	}
	return desc + "\n" + hexValue(b)
}

// extraRows lists the claims the claims set does not interpret: 2.0 claims
// by their name, unknown ones as such, each value in diagnostic notation.
func (l lister) extraRows(set token.ClaimSet, extra map[int64]cbor.RawMessage) {
	for _, ec := range extraClaims(set, extra) {
		name := "unknown claim"
		if ec.Name != "" {
			name = ec.Name + " (not interpreted)"
		}
		diag := ec.Diag
		if diag == "" {
			diag = "h'" + hex.EncodeToString(ec.CBOR) + "' (not well-formed CBOR)"
		}
		l.row(2, fmt.Sprintf("%5d", ec.Key), name, diag)
	}
}

// sign1Line describes a COSE_Sign1: algorithm, signature and payload sizes.
func (l lister) sign1Line(s *token.Sign1) {
	l.printf("  COSE_Sign1: %v, %d-byte signature, %d-byte payload\n", s.Alg, len(s.Signature()), len(s.Payload))
}

// prettyDiag breaks one-line diagnostic notation into indented lines: a
// map, array or embedded item that does not fit in a short line gets one
// line per element.
func prettyDiag(s string) string {
	var b strings.Builder
	prettyDiagInto(&b, s, 0)
	return b.String()
}

const diagInline = 72

func prettyDiagInto(b *strings.Builder, s string, depth int) {
	indent := func(d int) string { return "\n" + strings.Repeat("  ", d) }
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\'':
			j := skipQuoted(s, i)
			b.WriteString(s[i:j])
			i = j
		case c == '{' || c == '[' || strings.HasPrefix(s[i:], "<<"):
			open := s[i : i+1]
			if c == '<' {
				open = "<<"
			}
			end := matching(s, i)
			if end+len(open) > len(s) { // unbalanced: leave the rest as it is
				b.WriteString(s[i:])
				return
			}
			inner := s[i+len(open) : end]
			closer := s[end : end+len(open)]
			switch {
			case len(inner) <= diagInline:
				b.WriteString(s[i : end+len(closer)])
			case open == "<<" && !hasTopLevelComma(inner):
				// One embedded item: <<{ ... }>> rather than a line of its own.
				b.WriteString(open)
				prettyDiagInto(b, inner, depth)
				b.WriteString(closer)
			default:
				b.WriteString(open)
				b.WriteString(indent(depth + 1))
				prettyDiagInto(b, inner, depth+1)
				b.WriteString(indent(depth))
				b.WriteString(closer)
			}
			i = end + len(closer)
		case c == ',':
			b.WriteString(",")
			b.WriteString(indent(depth))
			i++
			for i < len(s) && s[i] == ' ' {
				i++
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
}

// skipQuoted returns the index after the quoted string starting at i.
func skipQuoted(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			return j + 1
		}
	}
	return len(s)
}

// matching returns the index of the closer of the opener at i.
func matching(s string, i int) int {
	depth := 0
	for j := i; j < len(s); {
		switch {
		case s[j] == '"' || s[j] == '\'':
			j = skipQuoted(s, j)
			continue
		case strings.HasPrefix(s[j:], "<<"):
			depth++
			j += 2
			continue
		case strings.HasPrefix(s[j:], ">>"):
			depth--
			if depth == 0 {
				return j
			}
			j += 2
			continue
		case s[j] == '{' || s[j] == '[':
			depth++
		case s[j] == '}' || s[j] == ']':
			depth--
			if depth == 0 {
				return j
			}
		}
		j++
	}
	return len(s)
}

// hasTopLevelComma reports whether s is a sequence of items rather than one.
func hasTopLevelComma(s string) bool {
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '"' || c == '\'':
			i = skipQuoted(s, i)
			continue
		case c == '{' || c == '[' || strings.HasPrefix(s[i:], "<<"):
			end := matching(s, i)
			if c == '<' {
				end++
			}
			i = end + 1
			continue
		case c == ',':
			return true
		}
		i++
	}
	return false
}
