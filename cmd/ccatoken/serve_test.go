package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestServeRuns starts the command on loopback ports with the default
// database under a scratch state directory: discovery answers on both
// listeners, the EAR key is created private beside the database, and
// cancelling shuts it down cleanly.
func TestServeRuns(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	o := serveOptions{listen: "127.0.0.1:0", adminListen: "127.0.0.1:0", nonceEncoding: "compat", logFormat: "json", logLevel: "info",
		nonceSize: 48, sessionTTL: time.Minute, maxBody: 1 << 20, shutdown: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [2]string, 1)
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, &logs, o, func(pub, adm string) { addrs <- [2]string{pub, adm} })
	}()
	var a [2]string
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	}
	for _, url := range []string{"http://" + a[0] + "/.well-known/veraison/verification", "http://" + a[1] + "/.well-known/veraison/provisioning"} {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		err = json.NewDecoder(res.Body).Decode(&doc)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 || doc["service-state"] != "READY" {
			t.Fatalf("%s: %d %v %v", url, res.StatusCode, doc, err)
		}
	}
	fi, err := os.Stat(filepath.Join(state, "ccakit", "ear-key.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("EAR key: %v %v", fi, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if !bytes.Contains(logs.Bytes(), []byte(`"msg":"serving"`)) {
		t.Errorf("no start log line in %s", logs.Bytes())
	}
}

// TestServeUsage: configurations that must not start.
func TestServeUsage(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	for _, tc := range []struct {
		args  []string
		cause string
	}{
		{[]string{"--admin-listen", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"--db", "postgres://nobody@127.0.0.1:1/x"}, "--ear-key is required with PostgreSQL"},
		{[]string{"--nonce-encoding", "hex"}, "--nonce-encoding"},
		{[]string{"--tls-cert", "x.pem"}, "go together"},
		{[]string{"--client-ca", "ca.pem"}, "--client-ca needs --tls-cert"},
		{[]string{"--log-format", "xml"}, "--log-format"},
		{[]string{"--nonce-size", "16", "--listen", "127.0.0.1:0", "--admin-listen", ""}, "nonce size 16"},
		{[]string{"--provisioning-token-file", "/nonexistent/token"}, "--provisioning-token-file"},
	} {
		t.Run(tc.cause, func(t *testing.T) {
			ccatoken(t, nil, append([]string{"serve"}, tc.args...)...).check(t, exitUsage, tc.cause)
		})
	}
}

// TestServeStdinFiles: --ear-key, --corim-key and --provisioning-token-file
// read "-" from standard input (they crashed on a nil reader), and at most
// one of them can be -.
func TestServeStdinFiles(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	stop := []string{"--tls-cert", "x.pem"} // fails after the files are read
	for _, tc := range []struct {
		stdin []byte
		args  []string
		cause string
	}{
		{readFileT(t, cpakPriv), []string{"--ear-key", "-"}, "go together"},
		{readFileT(t, cpakPub), []string{"--corim-key", "-"}, "go together"},
		{[]byte("a-bearer-token-of-some-length\n"), []string{"--provisioning-token-file", "-"}, "go together"},
		{[]byte("short"), []string{"--provisioning-token-file", "-"}, "at least 16 characters"},
		{nil, []string{"--ear-key", "-", "--corim-key", "-"}, "only one of"},
	} {
		t.Run(tc.args[0]+" "+tc.cause, func(t *testing.T) {
			ccatoken(t, tc.stdin, append(append([]string{"serve"}, tc.args...), stop...)...).check(t, exitUsage, tc.cause)
		})
	}
}

// TestServeLimitFlags: a zero or negative limit is refused, naming its flag,
// rather than silently replaced by the service's default (a --max-body 0
// served 1 MiB bodies).
func TestServeLimitFlags(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	for _, tc := range []struct {
		args  []string
		cause string
	}{
		{[]string{"--max-body", "0"}, "--max-body 0"},
		{[]string{"--max-body", "-1"}, "--max-body -1"},
		{[]string{"--session-ttl", "0s"}, "--session-ttl 0s"},
		{[]string{"--session-ttl", "-5s"}, "--session-ttl -5s"},
		{[]string{"--shutdown-timeout", "0s"}, "--shutdown-timeout 0s"},
		{[]string{"--nonce-size", "0"}, "--nonce-size: nonce size 0"},
		{[]string{"--nonce-size", "65"}, "--nonce-size: nonce size 65"},
	} {
		t.Run(tc.cause, func(t *testing.T) {
			// --tls-cert alone fails later: without the check the
			// command stops there instead of serving.
			args := append([]string{"serve", "--listen", "127.0.0.1:0", "--admin-listen", "", "--tls-cert", "x.pem"}, tc.args...)
			ccatoken(t, nil, args...).check(t, exitUsage, tc.cause)
		})
	}
}
