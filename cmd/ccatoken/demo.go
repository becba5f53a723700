package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/token"
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
	cmd.Flags().StringVar(&format, "format", "rel0", "token format: rel0, legacy or cmw")
	return cmd
}

func runDemo(stdout io.Writer, format string) error {
	var out bytes.Buffer
	p := func(f string, a ...any) { fmt.Fprintf(&out, f, a...) }
	res, err := emulateRealm(emulateOptions{format: format}, nil)
	if err != nil {
		return err
	}
	defer res.machine.Close()
	m := res.machine
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

	p("2. The host builds a realm through RMI, as a VMM does (%d calls):\n", len(res.rmiCalls))
	var order []string
	for _, c := range res.rmiCalls {
		if !slices.Contains(order, c) {
			order = append(order, c)
		}
	}
	for _, c := range order {
		p("     %-26s x%d\n", c, res.rmiCount[c])
	}
	pred := res.plan.Predict()
	p("   Each measured step extended the realm's initial measurement; predicted from the\n")
	p("   description alone, the RIM is %x.\n\n", pred.RIM)

	p("3. The realm runs (RMI_REC_ENTER). Its software called, over RSI:\n")
	names := make([]string, 0, len(res.rsiCalls))
	for n := range res.rsiCalls {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p("     %-32s x%d\n", n, res.rsiCalls[n])
	}
	p("   REC exits seen by the host:")
	for _, reason := range []uint64{rmm.ExitSync, rmm.ExitIRQ, rmm.ExitPSCI, rmm.ExitRIPASChange, rmm.ExitHostCall} {
		if n := res.exits[reason]; n > 0 {
			p(" %s x%d", exitName(reason), n)
		}
	}
	p("\n")
	for _, ipa := range res.abortIPAs {
		p("   A data abort at IPA %#x was resolved by backing the page (RMI_DATA_CREATE_UNKNOWN).\n", ipa)
	}
	p("   It extended REM[0] with %q and fetched a %d-byte token with the Linux loop.\n\n", bootMessage, len(res.token))

	p("4. The relying party verifies the token\n")
	ev, verr := evidence.DecodeAndVerify(res.token, m.CPAK(), evidence.VerifyOptions{Nonce: res.challenge})
	if ev != nil {
		p("   evidence:            %s\n", ev.Kind())
	}
	for _, leg := range verifyLegs {
		status := "ok"
		if failed := evidence.FailedLeg(verr); failed != "" {
			switch {
			case leg == failed:
				status = "FAILED: " + legReason(verr)
			case slices.Index(verifyLegs, leg) > slices.Index(verifyLegs, failed):
				status = "not checked"
			}
		}
		p("   %-20s %s\n", string(leg)+":", status)
	}
	rimOK := ev != nil && bytes.Equal(ev.Realm.InitialMeasurement, pred.RIM)
	if ev != nil {
		p("   RIM:                 %s (token %x)\n", map[bool]string{true: "matches the prediction", false: "DOES NOT match the prediction"}[rimOK], ev.Realm.InitialMeasurement)
		p("   platform lifecycle:  %v\n", ev.Platform.Lifecycle)
	}
	p("\n5. Isolation\n")
	if pa, ok := res.realm.DataGranule(0x8000_0000); ok {
		err := m.HostRead(pa, make([]byte, 16))
		p("   The host reads the realm's kernel page at PA %#x: %v\n", pa, describeGPF(err))
	}

	if err := res.realm.Destroy(); err != nil {
		p("   tearing the realm down failed: %v\n", err)
	} else {
		p("   The host tore the realm down (REC, DATA, RTT, RD destroyed; granules undelegated).\n")
	}
	ok := verr == nil && rimOK
	p("\nResult: %s\n", map[bool]string{true: "the token is genuine, fresh, bound to this platform, and measures the realm that was built",
		false: "FAILED"}[ok])
	if _, err := stdout.Write(out.Bytes()); err != nil {
		return err
	}
	if !ok {
		if verr == nil {
			verr = errors.New("the token's RIM is not the predicted one")
		}
		return evidenceError(verr)
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
