// Command ccatoken creates, inspects and verifies Arm CCA attestation tokens.
//
// See docs/cli.md for the commands, their flags and exit statuses, or run
// "ccatoken help".
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
