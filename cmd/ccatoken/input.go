package main

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/ccakit/cca/internal/textsafe"
	"github.com/ccakit/cca/token"
)

// maxInputSize bounds what is read from a TOKEN, a key or a claims file. A
// token may be at most token.MaxTokenSize bytes; its hex form, with line
// breaks, is a little over twice that.
const maxInputSize = 4*token.MaxTokenSize + 4096

// readFile reads a file argument, "-" meaning stdin (refused when stdin is
// nil). Failing to read is a usage error (exit 2); what names the argument
// in the message.
func readFile(path, what string, stdin io.Reader) ([]byte, error) {
	data, src, err := readBounded(path, what, stdin)
	if err != nil {
		return nil, err
	}
	if len(data) > maxInputSize {
		return nil, usagef("%s: %s is larger than %d bytes", what, textsafe.Escape(src), maxInputSize)
	}
	return stripBOM(data), nil
}

// readTokenFile reads a TOKEN argument. A token past the input bound is a
// failure of the evidence (exit 1), as one just past the 64 KiB token bound
// is: evidence is what a relying party was sent, and 100 KB and 300 KB of
// it fail alike. The bytes read are returned with that error, so that
// verify can still write its result.
func readTokenFile(path string, stdin io.Reader) ([]byte, error) {
	data, src, err := readBounded(path, "token", stdin)
	if err != nil {
		return nil, err
	}
	if len(data) > maxInputSize {
		return data, evidenceError(fmt.Errorf("%w: token: %s is larger than %d bytes (a token is at most %d)",
			token.ErrMalformed, textsafe.Escape(src), maxInputSize, token.MaxTokenSize))
	}
	return stripBOM(data), nil
}

// readBounded reads at most maxInputSize+1 bytes of a file argument, and
// names where they came from.
func readBounded(path, what string, stdin io.Reader) (data []byte, src string, err error) {
	var r io.Reader
	src = path
	if path == "-" {
		if stdin == nil {
			return nil, "", usagef("%s: standard input (-) cannot be read here; give a file", what)
		}
		r, src = stdin, "standard input"
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, "", usagef("%s: %v", what, pathErr(err))
		}
		defer f.Close()
		r = f
	}
	data, err = io.ReadAll(io.LimitReader(r, maxInputSize+1))
	if err != nil {
		return nil, "", usagef("%s: reading %s: %v", what, textsafe.Escape(src), pathErr(err))
	}
	return data, src, nil
}

// utf8BOM is the byte order mark Windows editors put before UTF-8 text.
var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// stripBOM drops the byte order mark before text (hex, base64, JSON, PEM),
// which would otherwise make the text read as binary. No binary input
// starts with it: CBOR evidence and CoRIMs start with a tag or a map, and a
// raw 48-byte scalar is left as it is.
func stripBOM(data []byte) []byte {
	if len(data) != token.RAKScalarSize && bytes.HasPrefix(data, utf8BOM) && utf8.Valid(data[len(utf8BOM):]) {
		return data[len(utf8BOM):]
	}
	return data
}

// pathErr drops the "open" verb from *os.PathError messages so that they
// read "testvectors/x.cbor: no such file or directory".
func pathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("%s: %v", textsafe.Escape(pe.Path), pe.Err)
	}
	return err
}

// Input forms of a TOKEN, as reported by inspect.
const (
	formRaw       = "raw CBOR"
	formHex       = "hex"
	formBase64    = "base64"
	formBase64URL = "base64url"
)

// decodeTokenInput turns the content of a TOKEN into CBOR bytes, telling
// which form it was in. Raw CBOR evidence starts with the head of tag 399 or
// 907 (0xd9); anything that is not text is taken as raw CBOR too, so that the
// decoder can say what is wrong with it. Text is tried as hex (0x prefix
// allowed), then as
// base64 of a CBOR tag. Input that fits none of them is malformed evidence
// (exit 1).
func decodeTokenInput(data []byte) ([]byte, string, error) {
	if len(data) == 0 {
		return nil, "", evidenceError(fmt.Errorf("%w: empty input", token.ErrMalformed))
	}
	if data[0] == 0xd9 || !isText(data) {
		return data, formRaw, nil
	}
	text := strings.Join(strings.Fields(string(data)), "")
	if text == "" {
		return nil, "", evidenceError(fmt.Errorf("%w: input is only white space", token.ErrMalformed))
	}
	if h := strings.TrimPrefix(strings.TrimPrefix(text, "0x"), "0X"); h != text && isHex(h) {
		if h == "" {
			return nil, "", evidenceError(fmt.Errorf("%w: hex input is only %q, no digits", token.ErrMalformed, text))
		}
		text = h
	}
	if isHex(text) {
		if len(text)%2 != 0 {
			return nil, "", evidenceError(fmt.Errorf("%w: hex input has an odd number of digits (%d)", token.ErrMalformed, len(text)))
		}
		b, err := hex.DecodeString(text)
		if err != nil { // cannot happen after isHex; kept for safety
			return nil, "", evidenceError(fmt.Errorf("%w: hex input: %v", token.ErrMalformed, err))
		}
		return b, formHex, nil
	}
	hint := ""
	switch {
	case text[0] == '{' || text[0] == '[':
		hint = "; it looks like JSON (claims JSON goes to 'ccatoken create --claims')"
	case strings.HasPrefix(text, "-----BEGIN"):
		hint = "; it looks like PEM"
	default:
		// Base64 is only taken when it decodes to a CBOR tag, as evidence
		// does: the base64 alphabets are wide enough to let a lot of
		// plain text through.
		if b, form, ok := decodeBase64(text); ok && b[0]>>5 == 6 {
			return b, form, nil
		}
	}
	return nil, "", evidenceError(fmt.Errorf("%w: input is neither raw CBOR (which starts with 0xd9, the tag 399 or 907), hex nor base64 of CBOR%s", token.ErrMalformed, hint))
}

// isText reports whether data is printable ASCII and white space only.
func isText(data []byte) bool {
	for _, c := range data {
		if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != '\v' {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// decodeBase64 accepts the standard and the URL alphabet, padded or not.
func decodeBase64(s string) ([]byte, string, bool) {
	form, enc := formBase64, base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		form, enc = formBase64URL, base64.RawURLEncoding
	}
	unpadded := strings.TrimRight(s, "=")
	if pad := len(s) - len(unpadded); pad > 2 || (pad > 0 && len(s)%4 != 0) {
		return nil, "", false
	}
	b, err := enc.DecodeString(unpadded)
	if err != nil || len(b) == 0 {
		return nil, "", false
	}
	return b, form, true
}

// readPrivateKey reads a signing key for flag from path: PEM (SEC1 or
// PKCS#8), a private JWK or a raw 48-byte P-384 scalar.
func readPrivateKey(flag, path string, stdin io.Reader) (crypto.Signer, error) {
	data, err := readFile(path, "--"+flag, stdin)
	if err != nil {
		return nil, err
	}
	k, err := token.ParsePrivateKey(data)
	if err != nil {
		return nil, usagef("--%s %s: %v", flag, textsafe.Escape(path), err)
	}
	return k, nil
}

// readPublicKey reads a verification key for flag from path: PEM (SPKI, or
// a private key whose public half is used) or JWK.
func readPublicKey(flag, path string, stdin io.Reader) (crypto.PublicKey, error) {
	data, err := readFile(path, "--"+flag, stdin)
	if err != nil {
		return nil, err
	}
	k, err := token.ParsePublicKey(data)
	if err != nil {
		return nil, usagef("--%s %s: %v", flag, textsafe.Escape(path), err)
	}
	return k, nil
}

// parseNonce reads the --nonce flag: hex, 32 to 64 bytes.
func parseNonce(s string) ([]byte, error) { return parseHexNonce("--nonce", s) }

// parseHexNonce reads a nonce flag (verify's --nonce, emulate's
// --challenge): hex, 32 to 64 bytes. An empty value is refused with its own
// message: it is what an unset shell variable gives ("--nonce $NONCE"), and
// must not pass for "no nonce" or "a random one".
func parseHexNonce(flag, s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	if s == "" {
		return nil, usagef("%s is empty: a nonce is %d to %d bytes of hex (leave the flag out for none)",
			flag, token.MinNonceSize, token.ChallengeSize)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, usagef("%s: not hex: %v", flag, err)
	}
	if len(b) < token.MinNonceSize || len(b) > token.ChallengeSize {
		return nil, usagef("%s: %d bytes; a nonce is %d to %d bytes (%d to %d hex digits)",
			flag, len(b), token.MinNonceSize, token.ChallengeSize, 2*token.MinNonceSize, 2*token.ChallengeSize)
	}
	return b, nil
}

// isTerminal reports whether w is an interactive terminal (a character
// device other than /dev/null), where raw CBOR must not be written.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

// refuseBinaryToTerminal fails, before any work is done, a command that
// would write raw CBOR to standard output on a terminal.
func refuseBinaryToTerminal(stdout io.Writer, out string, hexOut bool) error {
	if out == "" && !hexOut && isTerminal(stdout) {
		return usagef("refusing to write binary CBOR to a terminal: give -o FILE, or --hex")
	}
	return nil
}

// writeCBOR writes the CBOR a command made to -o FILE (out) or to standard
// output, as hex text with --hex (hexOut). toFile reports that it went to
// a file, which the command then says on standard output.
func writeCBOR(stdout io.Writer, raw []byte, out string, hexOut bool) (toFile bool, err error) {
	if hexOut {
		raw = []byte(hex.EncodeToString(raw) + "\n")
	}
	if out == "" {
		if _, err := stdout.Write(raw); err != nil {
			return false, usagef("writing to standard output: %v", err)
		}
		return false, nil
	}
	if err := os.WriteFile(out, raw, 0o644); err != nil {
		return false, usagef("-o: %v", pathErr(err))
	}
	return true, nil
}
