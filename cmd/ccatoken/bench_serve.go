package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/ccakit/cca/internal/servebench"
)

func newBenchServeCmd() *cobra.Command {
	var o servebench.Options
	cmd := &cobra.Command{
		Use:   "serve [--sessions N] [--clients N] [--rounds N] [--max-time D] [--db URL]",
		Short: "Load benchmark of the verification service against the verifier library's ceiling",
		Long: `serve measures verification sessions per second through 'ccatoken serve'
(Veraison's challenge-response API over loopback HTTP, with its store)
against the verifier library's ceiling on the same kind of tokens, with the
session latency at p50 and p99.

Each session has its own nonce and a token the emulated realm made for it
over RSI, made before the clock starts. The library ceiling verifies them
with in-memory stores: two P-384 signature verifications per token, the
platform token's cached after the first. Rounds alternate library and
service; the median round is reported. Loopback only; bounded by --sessions
per round and --max-time per run.`,
		Example: `  ccatoken bench serve
  ccatoken bench serve --sessions 3000 --rounds 5
  ccatoken bench serve --db 'postgres://postgres@127.0.0.1/ccakit?sslmode=disable'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchServe(cmd, cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Sessions, "sessions", 1000, "`N` sessions per round")
	f.IntVar(&o.Clients, "clients", 64, "`N` concurrent clients")
	f.IntVar(&o.Rounds, "rounds", 3, "`N` rounds (library and service alternate)")
	f.DurationVar(&o.MaxTime, "max-time", 60*time.Second, "bound `D` on each run")
	f.StringVar(&o.DB, "db", "", "the service's database `URL` (default: a fresh SQLite file in a temporary directory)")
	return cmd
}

func runBenchServe(cmd *cobra.Command, stdout, stderr io.Writer, o servebench.Options) error {
	if o.Sessions < 1 || o.Sessions > 100000 || o.Clients < 1 || o.Clients > 1024 || o.Rounds < 1 || o.Rounds > 20 {
		return usagef("--sessions 1..100000, --clients 1..1024, --rounds 1..20")
	}
	o.Progress = stderr
	rep, err := servebench.Run(cmd.Context(), o)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(stdout, rep.Text())
	return err
}
