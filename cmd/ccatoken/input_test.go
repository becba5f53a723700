package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccakit/cca/token"
)

// wrapHex is hex with a line break every n digits and a final one.
func wrapHex(b []byte, n int, sep string) string {
	h := hex.EncodeToString(b)
	var lines []string
	for len(h) > n {
		lines = append(lines, h[:n])
		h = h[n:]
	}
	return strings.Join(append(lines, h), sep) + "\n"
}

func TestDecodeTokenInput(t *testing.T) {
	raw := readFileT(t, rel0Vector)
	cmw := readFileT(t, vectors[3].path())
	for _, c := range []struct {
		name string
		in   []byte
		form string
		want []byte
	}{
		{"raw", raw, formRaw, raw},
		{"raw 907", cmw, formRaw, cmw},
		{"hex", []byte(hex.EncodeToString(raw)), formHex, raw},
		{"hex with 0x", []byte("0x" + hex.EncodeToString(raw)), formHex, raw},
		{"hex upper case", []byte(strings.ToUpper(hex.EncodeToString(raw))), formHex, raw},
		{"hex with newlines", []byte(wrapHex(raw, 64, "\n")), formHex, raw},
		{"hex with CRLF and spaces", []byte("  " + wrapHex(raw, 32, " \r\n\t")), formHex, raw},
		{"base64 std padded", []byte(base64.StdEncoding.EncodeToString(cmw)), formBase64, cmw},
		{"base64 std unpadded", []byte(base64.RawStdEncoding.EncodeToString(raw[:len(raw)-1])), formBase64, raw[:len(raw)-1]},
		{"base64 url padded", []byte(base64.URLEncoding.EncodeToString(raw)), formBase64URL, raw},
		{"base64 url unpadded", []byte(base64.RawURLEncoding.EncodeToString(raw[:len(raw)-2])), formBase64URL, raw[:len(raw)-2]},
		{"base64 with newline", []byte(base64.StdEncoding.EncodeToString(raw) + "\n"), formBase64, raw},
		{"binary that is not evidence", []byte{0x00, 0x01}, formRaw, []byte{0x00, 0x01}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, form, err := decodeTokenInput(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if form != c.form || !bytes.Equal(got, c.want) {
				t.Fatalf("form %q, %d bytes; want %q, %d bytes", form, len(got), c.form, len(c.want))
			}
		})
	}
	for _, c := range []struct{ name, in, cause string }{
		{"empty", "", "empty input"},
		{"white space", " \n\t\n", "white space"},
		{"odd hex", "d9018", "odd number"},
		{"words", "not a token", "neither raw CBOR"},
		{"bad padding", "2QGP===", "neither raw CBOR"},
		{"JSON", `{"cca-platform-token": {}}`, "looks like JSON"},
		{"PEM", "-----BEGIN PUBLIC KEY-----\n", "looks like PEM"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := decodeTokenInput([]byte(c.in))
			if err == nil || !strings.Contains(err.Error(), c.cause) || !errors.Is(err, token.ErrMalformed) || exitCode(err) != exitFailed {
				t.Fatalf("error %v; want a malformed-evidence error mentioning %q", err, c.cause)
			}
		})
	}
}

// TestInputForms runs every command on the forms a TOKEN may take, from
// files and from standard input.
func TestInputForms(t *testing.T) {
	raw := readFileT(t, rel0Vector)
	forms := map[string][]byte{
		"raw":       raw,
		"hex":       []byte(wrapHex(raw, 76, "\n")),
		"base64":    []byte(base64.StdEncoding.EncodeToString(raw)),
		"base64url": []byte(base64.RawURLEncoding.EncodeToString(raw)),
		"base64-mime": []byte(func() string {
			s := base64.StdEncoding.EncodeToString(raw)
			var b strings.Builder
			for len(s) > 76 {
				b.WriteString(s[:76] + "\r\n")
				s = s[76:]
			}
			return b.String() + s + "\r\n"
		}()),
	}
	for name, data := range forms {
		t.Run(name, func(t *testing.T) {
			file := writeTemp(t, "token."+name, data)
			for _, src := range []struct {
				path  string
				stdin []byte
			}{{file, nil}, {"-", data}} {
				ccatoken(t, src.stdin, "inspect", src.path).check(t, exitOK)
				ccatoken(t, src.stdin, "verify", src.path, "--cpak", cpakPub, "--refvals", createdRefvals, "--nonce", rel0Nonce).check(t, exitOK)
				r := ccatoken(t, src.stdin, "inspect", "-O", "json", src.path)
				r.check(t, exitOK)
				if !strings.Contains(r.stdout, `"format": "rel0"`) {
					t.Errorf("inspect -O json %s: no rel0 format", src.path)
				}
			}
		})
	}
}

func TestParseNonce(t *testing.T) {
	n32 := strings.Repeat("ab", 32)
	for _, ok := range []string{n32, strings.Repeat("CD", 64), " 0x" + n32 + "\n"} {
		if _, err := parseNonce(ok); err != nil {
			t.Errorf("parseNonce(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "zz", n32[:62], strings.Repeat("00", 65), n32 + "0"} {
		if _, err := parseNonce(bad); err == nil || exitCode(err) != exitUsage {
			t.Errorf("parseNonce(%q) = %v, want a usage error", bad, err)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	var b bytes.Buffer
	if isTerminal(&b) {
		t.Error("a buffer is a terminal")
	}
	f := writeTemp(t, "out", nil)
	fh, err := openForTest(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if isTerminal(fh) {
		t.Error("a regular file is a terminal")
	}
	null, err := openForTest("/dev/null")
	if err == nil {
		defer null.Close()
		if isTerminal(null) {
			t.Error("/dev/null is a terminal")
		}
	}
}

// TestEmptyNonceFlags: an empty --nonce or --challenge (an unset shell
// variable) is a usage error, not "no nonce" (which an unsafe policy flag
// then accepted) nor "a random challenge"; emulate's errors name its own
// flags.
func TestEmptyNonceFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "t.cbor")
	for _, tc := range []struct {
		name  string
		args  []string
		cause string
	}{
		{"verify --nonce empty", []string{"verify", rel0Vector, "--cpak", cpakPub, "--nonce", "",
			"--allow-missing-nonce-unsafe", "--allow-unknown-platform-unsafe", "--allow-unknown-realm-unsafe"}, "--nonce is empty"},
		{"verify --nonce blank", []string{"verify", rel0Vector, "--cpak", cpakPub, "--nonce", " \n"}, "--nonce is empty"},
		{"emulate --challenge empty", []string{"emulate", "--challenge", "", "-o", out}, "--challenge is empty"},
		{"emulate --challenge not hex", []string{"emulate", "--challenge", "zz", "-o", out}, "--challenge: not hex"},
		{"emulate --format", []string{"emulate", "--format", "cbor", "-o", out}, "--format: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ccatoken(t, nil, tc.args...).check(t, exitUsage, tc.cause)
		})
	}
}

// TestSeveralPEMKeys: a key file holding several PEM keys is refused
// rather than silently read as its first; EC PARAMETERS before a key, and a
// certificate beside it, are not keys.
func TestSeveralPEMKeys(t *testing.T) {
	two := writeTemp(t, "two.pub.pem", append(readFileT(t, cpakPub), readFileT(t, cpak256Pub)...))
	ccatoken(t, nil, "verify", rel0Vector, "--cpak", two, "--nonce", rel0Nonce).check(t, exitUsage, "--cpak "+two, "holds 2 keys (PUBLIC KEY, PUBLIC KEY)")
	twoPriv := writeTemp(t, "two.pem", append(readFileT(t, cpakPriv), readFileT(t, rakPriv)...))
	ccatoken(t, nil, "create", "--claims", rel0Claims, "--iak", twoPriv, "--rak", rakPriv, "--hex").check(t, exitUsage, "--iak "+twoPriv, "holds 2 keys")

	cert := "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
	params := "-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n"
	withParams := writeTemp(t, "params.pem", append([]byte(params), readFileT(t, rakPriv)...))
	withCert := writeTemp(t, "cert.pem", append(readFileT(t, cpakPriv), cert...))
	ccatoken(t, nil, "create", "--claims", rel0Claims, "--iak", withCert, "--rak", withParams, "--hex").check(t, exitOK)
}

// TestByteOrderMark: text files saved with a UTF-8 byte order mark (a hex
// or base64 token, claims JSON, a PEM or JWK key, a JSON store) read as
// without it; before, the mark made a hex token read as raw CBOR.
func TestByteOrderMark(t *testing.T) {
	bom := func(name string, data []byte) string {
		return writeTemp(t, name, append([]byte("\xef\xbb\xbf"), data...))
	}
	raw := readFileT(t, rel0Vector)
	hexTok := bom("t.hex", []byte(wrapHex(raw, 64, "\r\n")))
	b64Tok := bom("t.b64", []byte(base64.StdEncoding.EncodeToString(raw)))
	claims := bom("claims.json", readFileT(t, rel0Claims))
	pub, jwk := bom("cpak.pem", readFileT(t, cpakPub)), bom("cpak.jwk", readFileT(t, cpakJWK))
	priv := bom("rak.pem", readFileT(t, rakPriv))
	refvals := bom("refvals.json", readFileT(t, createdRefvals))

	for _, tok := range []string{hexTok, b64Tok} {
		ccatoken(t, nil, "inspect", tok).check(t, exitOK)
	}
	ccatoken(t, nil, "verify", hexTok, "--cpak", pub, "--refvals", refvals, "--nonce", rel0Nonce).check(t, exitOK)
	ccatoken(t, nil, "verify", b64Tok, "--cpak", jwk, "--refvals", refvals, "--nonce", rel0Nonce).check(t, exitOK)
	ccatoken(t, nil, "create", "--claims", claims, "--iak", cpakPriv, "--rak", priv, "--hex").check(t, exitOK)
	if got := stripBOM(append([]byte("\xef\xbb\xbf"), raw[:token.RAKScalarSize-3]...)); len(got) != token.RAKScalarSize {
		t.Errorf("a 48-byte raw scalar lost its first bytes")
	}
}
