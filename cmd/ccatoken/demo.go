package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/internal/emulation"
	"github.com/ccakit/cca/internal/textsafe"
	"github.com/ccakit/cca/token"
	"github.com/ccakit/cca/verifier"
)

func newDemoCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the emulated CCA machine end to end and explain every step",
		Long: `demo is the whole story on the embedded machine: boot (GPT, monitor, root of
trust, RMM), build a realm through RMI as a VMM does, run its software,
which measures itself and asks for an attestation token over RSI, then
verify that token as a relying party would (platform signature with the
machine's CPAK, realm signature with the RAK, binding, freshness) and check
its initial measurement against the one predicted from the realm's
description. Each step is explained as it happens.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.OutOrStdout(), format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "rel0", "token `FORMAT`: rel0, legacy, cmw or tfrmm-main")
	return cmd
}

func runDemo(stdout io.Writer, format string) error {
	var out bytes.Buffer
	p := func(f string, a ...any) { fmt.Fprintf(&out, f, a...) }
	res, err := emulateRealm(emulateOptions{format: format}, nil)
	if err != nil {
		return err
	}
	defer res.Machine.Close()
	m := res.Machine
	rt := m.RootOfTrust()
	gpccr, gptbr := m.Monitor().Registers()

	p("1. Boot\n")
	p("   EL3 built the Granule Protection Table (GPCCR_EL3 %#x, GPTBR_EL3 %#x) from the memory map:\n", gpccr, gptbr)
	for _, r := range m.Monitor().Layout().Regions {
		p("     %-7s %#011x..%#011x  %v\n", r.Name, r.Base, r.Base+r.Size, r.GPI)
	}
	p("   The root of trust measured %d boot images; CPAK %s; instance id %x; lifecycle %v.\n",
		len(rt.SoftwareComponents()), token.DescribeKey(m.CPAK()), rt.InstanceID(), rt.Lifecycle())
	p("   The RMM booted: it took its RAK from EL3 (RMM_GET_REALM_ATTEST_KEY) and fetched the\n")
	p("   platform token bound to the RAK's hash in pieces (RMM_GET_PLAT_TOKEN), and caches it.\n\n")

	p("2. The host builds a realm through RMI, as a VMM does (%d calls):\n", len(res.RMICalls))
	var order []string
	for _, c := range res.RMICalls {
		if !slices.Contains(order, c) {
			order = append(order, c)
		}
	}
	for _, c := range order {
		p("     %-26s x%d\n", c, res.RMICount[c])
	}
	p("   Each measured step extended the realm's initial measurement; predicted from the\n")
	p("   description alone, the RIM is %x.\n\n", res.Plan.Predict().RIM)

	p("3. The realm runs (RMI_REC_ENTER). Its software called, over RSI:\n")
	names := make([]string, 0, len(res.RSICalls))
	for n := range res.RSICalls {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p("     %-32s x%d\n", n, res.RSICalls[n])
	}
	p("   REC exits seen by the host:")
	for _, reason := range []uint64{rmm.ExitSync, rmm.ExitIRQ, rmm.ExitPSCI, rmm.ExitRIPASChange, rmm.ExitHostCall} {
		if n := res.Exits[reason]; n > 0 {
			p(" %s x%d", exitName(reason), n)
		}
	}
	p("\n")
	for _, ipa := range res.AbortIPAs {
		p("   A data abort at IPA %#x was resolved by backing the page (RMI_DATA_CREATE_UNKNOWN).\n", ipa)
	}
	p("   It extended REM[0] with %q and fetched a %d-byte token with the Linux loop.\n\n", emulation.BootMessage, len(res.Token))

	p("4. The relying party verifies and appraises the token. It trusts this platform's CPAK\n")
	p("   (for its instance id) and holds reference values: the firmware measurements the\n")
	p("   platform vendor publishes, and the realm's RIM and REMs predicted from its description.\n")
	result, err := appraiseEmulated(res)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(result.Text(), "\n"), "\n") {
		p("   %s\n", line)
	}
	p("\n5. Isolation\n")
	if pa, ok := res.Realm.DataGranule(0x8000_0000); ok {
		err := m.HostRead(pa, make([]byte, 16))
		p("   The host reads the realm's kernel page at PA %#x: %v\n", pa, describeGPF(err))
	}

	if err := res.Realm.Destroy(); err != nil {
		p("   tearing the realm down failed: %v\n", err)
	} else {
		p("   The host tore the realm down (REC, DATA, RTT, RD destroyed; granules undelegated).\n")
	}
	ok := result.Trustworthy
	p("\nResult: %s\n", map[bool]string{true: "the token is genuine, fresh, bound to this platform, and measures the realm that was built",
		false: "NOT TRUSTWORTHY: " + textsafe.Escape(result.Reason())}[ok])
	if _, err := stdout.Write(out.Bytes()); err != nil {
		return err
	}
	if !ok {
		return evidenceError(errors.New(textsafe.Escape(result.Reason())))
	}
	return nil
}

func exitName(reason uint64) string {
	names := [...]string{"SYNC", "IRQ", "FIQ", "PSCI", "RIPAS_CHANGE", "HOST_CALL", "SERROR"}
	if reason < uint64(len(names)) {
		return names[reason]
	}
	return fmt.Sprint(reason)
}

func describeGPF(err error) string {
	if errors.Is(err, emulator.ErrGPF) {
		return "refused by the granule protection check (" + err.Error() + ")"
	}
	if err == nil {
		return "SUCCEEDED (isolation broken!)"
	}
	return err.Error()
}

// appraiseEmulated verifies the emulated token as a relying party would:
// the machine's CPAK as the trust anchor for its instance id, the firmware
// measurements as platform reference values, and the RIM, RPV and REMs
// predicted from the realm description (REM[0] holds emulation.BootMessage, the
// others are zero) as realm reference values.
func appraiseEmulated(res *emulated) (*verifier.Result, error) {
	m, rt := res.Machine, res.Machine.RootOfTrust()
	anchors, err := verifier.NewTrustAnchors(verifier.TrustAnchor{
		InstanceID: rt.InstanceID(), ImplementationID: rt.ImplementationID(), Key: m.CPAK()})
	if err != nil {
		return nil, err
	}
	refs, err := verifier.NewReferenceValues([]verifier.PlatformReference{emulation.PlatformReference(rt)},
		[]verifier.RealmReference{emulation.RealmReference(res.Plan)})
	if err != nil {
		return nil, err
	}
	v, err := verifier.New(anchors, verifier.WithReferenceValues(refs), verifier.WithPolicy(verifier.Policy{RequireREMs: true}))
	if err != nil {
		return nil, err
	}
	return v.Verify(context.Background(), res.Token, res.Challenge)
}
