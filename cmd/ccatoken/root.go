package main

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/ccakit/cca/internal/textsafe"
	"github.com/ccakit/cca/token"
)

// Exit statuses, as docs/cli.md and the design's CLI contract define them.
const (
	exitOK     = 0 // verified, decoded and valid, or written
	exitFailed = 1 // the evidence failed: malformed, bad signature, bad binding, stale nonce, invalid claims
	exitUsage  = 2 // usage or unreadable input: bad flags, missing file, unparsable key
)

// exitError carries the exit status a failure calls for, decided where the
// context is known (the same token.ErrKey is the user's fault in create and
// the evidence's in a realm signature).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as a usage or input problem (exit 2).
func usageError(err error) error { return &exitError{exitUsage, err} }

// usagef is usageError(fmt.Errorf(...)).
func usagef(format string, args ...any) error {
	return usageError(fmt.Errorf(format, args...))
}

// evidenceError marks err as a failure of the evidence (exit 1).
func evidenceError(err error) error { return &exitError{exitFailed, err} }

// exitCode picks the exit status of an error: the one an exitError decided,
// else 1 for the token classes that blame the evidence, else 2 (flag errors
// from cobra, I/O errors, unusable keys).
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, token.ErrKey) {
		return exitUsage
	}
	// Every other token class means the evidence (or the claims it is made
	// from) is at fault; token.ErrKey, handled above, is the user's.
	for _, class := range token.Classes() {
		if errors.Is(err, class) {
			return exitFailed
		}
	}
	return exitUsage
}

// oneLine flattens a message so that every failure is exactly one line on
// stderr.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ; ")), " ")
}

// safeLine is the last defence of the one standard-error line: what a
// message quotes without escaping it (an error of a library that names a
// file, an image name from a realm description) gets its control and format
// characters, and bytes that are not UTF-8, escaped as textsafe.Escape
// writes them. Backslashes are left alone, so that text escaped where it
// was quoted, which holds none of those characters, is not escaped twice.
func safeLine(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\\' || textsafe.Escape(s[i:i+size]) == s[i:i+size] {
			b.WriteString(s[i : i+size])
		} else {
			b.WriteString(textsafe.Escape(s[i : i+size]))
		}
		i += size
	}
	return b.String()
}

// run is the whole program, testable without exec: it parses args, runs
// the command and returns the exit status. Every failure is reported as one
// "ccatoken: ..." line on stderr, a panic included.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "ccatoken: internal error (please report it): %s\n", safeLine(oneLine(fmt.Sprint(r))))
			code = exitUsage
		}
	}()
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	msg := oneLine(err.Error())
	var ee *exitError
	if !errors.As(err, &ee) && cmd != nil {
		// A cobra usage error (unknown flag, wrong argument count, missing
		// required flag): point at the help.
		msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
	}
	fmt.Fprintf(stderr, "ccatoken: %s\n", safeLine(msg))
	return exitCode(err)
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "ccatoken",
		Short: "Create, inspect and verify Arm CCA attestation tokens",
		Long: `ccatoken creates, inspects and verifies Arm CCA attestation evidence in every
form firmware emits today: the collection of a platform token and a realm
token (tag 399 or the tag-907 CMW collection) with the legacy RMM 1.0-EAC5
tokens, the RMM 1.0-REL0 2023 profiles, or the realm 2.0 profile current
TF-RMM emits; and a bare platform token. It also runs an emulated CCA machine
that makes such tokens, predicts reference values, and serves Veraison's
verification and provisioning APIs.

A TOKEN argument is a file path, or - for standard input. Its content may be
raw CBOR, hex (whitespace allowed) or base64 (standard or URL alphabet,
padded or not); the form is detected.

Exit status: 0 success (verified, valid, written); 1 the evidence failed
(malformed, bad signature, bad binding, stale nonce, invalid claims); 2 usage
or unreadable input (bad flags, missing file, unparsable key). Every failure
is reported as one line on standard error.`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetHelpCommand(newHelpCmd())
	root.SetVersionTemplate("ccatoken {{.Version}}\n")
	root.AddCommand(newInspectCmd(), newCreateCmd(), newVerifyCmd())
	root.AddCommand(newMeasureCmd(), newEmulateCmd(), newDemoCmd())
	root.AddCommand(newBenchCmd(), newServeCmd())
	return root
}

// version is the module version the binary was built from ("(devel)" for a
// build inside the repository).
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// newHelpCmd replaces cobra's help command, which answers an unknown topic
// with "Unknown help topic" and status 0: here it is a usage error, as an
// unknown command is.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "Help about any command",
		Long:  "help shows the help of a command: ccatoken help verify is ccatoken verify --help.",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || cmd == nil || len(rest) > 0 {
				return usagef("help: unknown command %q (see 'ccatoken --help')", strings.Join(args, " "))
			}
			cmd.InitDefaultHelpFlag() // shown in the help, as with --help
			cmd.InitDefaultVersionFlag()
			return cmd.Help()
		},
	}
}
