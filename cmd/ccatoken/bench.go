package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ccakit/cca/emulator/sharing"
	"github.com/ccakit/cca/internal/textsafe"
)

type benchOptions struct {
	sizes, modes, out string
	messages, ring    int
	verify            bool
}

func newBenchCmd() *cobra.Command {
	bench := &cobra.Command{
		Use:   "bench",
		Short: "Benchmarks of the emulated machine",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("bench needs a benchmark name (sharing, serve)")
		},
	}
	var o benchOptions
	sharingCmd := &cobra.Command{
		Use:   "sharing [--sizes LIST] [--modes LIST] [--out DIR]",
		Short: "Inter-realm messaging: RMM-mediated sharing, leases, encrypted channels",
		Long: `sharing measures one-way messaging between two realms on the emulated machine
(with the sharing extension switched on) for each message size and mode
(docs/sharing.md §11):

  mediated         one RSI_SHARE_INVOKE per send and per receive (the paper)
  amortised        a lease per window of messages; produced and read in place
  baseline         AES-128-GCM (ECDH-agreed key) through NS memory, a host
                   call per send and per receive (the paper's native channel)
  sealed-in-place  sealed straight into an NS ring and opened straight from
                   it, polled: the strongest fair encrypted channel
  direct           an unprotected NS ring (the ceiling)

The emulator counts every primitive where it executes it (exits to the host,
RSI calls inside the RMM, stage-2 walks, RTT entries, TLB invalidations, locks,
access-code steps, copies, reads, AES-GCM); one cost table with cited low,
middle and high values turns the counts into modelled cycles. The report gives
per-size throughput and speedups with their sensitivity band (each constant
over its range), the geometric means, the prediction under the paper's own
setting, the goals and whether they are met, and the emulator's wall clock
apart (which is not a model of hardware).

--out DIR writes results.md, results.csv, throughput.svg (comparable with the
paper's figure 3) and speedup.svg (with the bands). Sizes take K and M
suffixes (powers of 2).`,
		Example: `  ccatoken bench sharing
  ccatoken bench sharing --sizes 64,4K,64K,1M --out bench-results
  ccatoken bench sharing --modes mediated,baseline`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchSharing(cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := sharingCmd.Flags()
	f.StringVar(&o.sizes, "sizes", "", "message sizes, a comma-separated `LIST` (default 64 B to 1 MiB, powers of 2)")
	f.StringVar(&o.modes, "modes", "", "modes, a comma-separated `LIST` (default all)")
	f.StringVar(&o.out, "out", "", "directory `DIR` for results.md, results.csv and the SVG charts")
	f.IntVar(&o.messages, "messages", 0, "`N` messages per run (default: about 4 MiB, 8..512)")
	f.IntVar(&o.ring, "ring", 0, "ring capacity in bytes, `N` (default 1 MiB)")
	f.BoolVar(&o.verify, "verify", false, "check every byte of every message")
	bench.AddCommand(sharingCmd, newBenchServeCmd())
	return bench
}

// parseSizes parses "64,4K,1M".
func parseSizes(s string) ([]int, error) {
	if s == "" {
		return sharing.DefaultSizes(), nil
	}
	var out []int
	for _, field := range strings.Split(s, ",") {
		f := strings.TrimSpace(field)
		mul := 1
		switch {
		case strings.HasSuffix(strings.ToUpper(f), "K"):
			mul, f = 1<<10, f[:len(f)-1]
		case strings.HasSuffix(strings.ToUpper(f), "M"):
			mul, f = 1<<20, f[:len(f)-1]
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 || n > (1<<20)/mul {
			return nil, usagef("--sizes: %q is not a size from 1 B to 1 MiB", strings.TrimSpace(field))
		}
		out = append(out, n*mul)
	}
	return out, nil
}

func parseModes(s string) ([]sharing.Mode, error) {
	if s == "" {
		return sharing.Modes, nil
	}
	var out []sharing.Mode
	for _, f := range strings.Split(s, ",") {
		m := sharing.Mode(strings.TrimSpace(f))
		known := false
		for _, k := range sharing.Modes {
			known = known || k == m
		}
		if !known {
			return nil, usagef("--modes: unknown mode %q (mediated, amortised, baseline, sealed-in-place, direct)", m)
		}
		out = append(out, m)
	}
	return out, nil
}

func runBenchSharing(stdout, stderr io.Writer, o benchOptions) error {
	sizes, err := parseSizes(o.sizes)
	if err != nil {
		return err
	}
	modes, err := parseModes(o.modes)
	if err != nil {
		return err
	}
	if o.messages < 0 || o.ring < 0 {
		return usagef("--messages and --ring cannot be negative")
	}
	rep, err := sharing.RunAll(modes, sizes, sharing.Options{Messages: o.messages, RingBytes: o.ring, Verify: o.verify},
		func(r sharing.Run) {
			fmt.Fprintf(stderr, "%-16s %8d B  %4d msgs  %v\n", r.Mode, r.Size, r.Messages, r.Elapsed.Round(1000))
		})
	if err != nil {
		return err
	}
	md := rep.Markdown()
	if _, err := io.WriteString(stdout, md); err != nil {
		return err
	}
	if o.out == "" {
		return nil
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return usageError(err)
	}
	for name, content := range map[string]string{
		"results.md": md, "results.csv": rep.CSV(), "throughput.svg": rep.ThroughputSVG(), "speedup.svg": rep.SpeedupSVG(),
	} {
		if err := os.WriteFile(filepath.Join(o.out, name), []byte(content), 0o644); err != nil {
			return usageError(err)
		}
	}
	fmt.Fprintf(stderr, "wrote %s/{results.md,results.csv,throughput.svg,speedup.svg}\n", textsafe.Escape(o.out))
	return nil
}
