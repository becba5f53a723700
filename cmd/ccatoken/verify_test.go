package main

import (
	"strings"
	"testing"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
)

// TestVerifyVectors verifies every shipped vector with its CPAK as PEM and
// as JWK, with and without its nonce.
func TestVerifyVectors(t *testing.T) {
	for _, v := range vectors {
		for _, key := range []string{v.cpakPEM(), v.cpakJWK(), v.cpakPrivate()} {
			t.Run(v.file+"/"+key[strings.LastIndex(key, "/")+1:], func(t *testing.T) {
				r := ccatoken(t, nil, "verify", v.path(), "--cpak", key, "--nonce", v.nonce)
				r.check(t, exitOK)
				for _, leg := range []string{"decode:", "claims:", "platform signature:", "realm signature:", "binding:", "freshness:"} {
					if !strings.Contains(r.stdout, leg+strings.Repeat(" ", 21-len(leg))+"ok") {
						t.Errorf("leg %q not ok:\n%s", leg, r.stdout)
					}
				}
				if !strings.HasSuffix(r.stdout, "result:              verified\n") {
					t.Errorf("no verified result:\n%s", r.stdout)
				}

				r = ccatoken(t, nil, "verify", v.path(), "--cpak", key)
				r.check(t, exitOK)
				if !strings.Contains(r.stdout, "freshness:           skipped: no --nonce") ||
					!strings.HasSuffix(r.stdout, "result:              verified, freshness not checked\n") {
					t.Errorf("freshness not reported as skipped:\n%s", r.stdout)
				}
			})
		}
	}
}

// TestVerifyNonceForms: a 32-byte nonce matches its zero-padded challenge,
// and so does the padded 64-byte form.
func TestVerifyNonceForms(t *testing.T) {
	cmw := vectors[3]
	for _, n := range []string{cmw.nonce, strings.ToUpper(cmw.nonce), "0x" + cmw.nonce, cmw.nonce + strings.Repeat("00", 32), cmw.nonce + "00"} {
		ccatoken(t, nil, "verify", cmw.path(), "--cpak", cmw.cpakPEM(), "--nonce", n).check(t, exitOK)
	}
	ccatoken(t, nil, "verify", cmw.path(), "--cpak", cmw.cpakPEM(), "--nonce", cmw.nonce[:62]+"ff").check(t, exitFailed, "freshness")
}

// TestVerifyLegReport: the failed leg says FAILED with the reason, the
// later ones "not checked", and stderr carries the reason once.
func TestVerifyLegReport(t *testing.T) {
	raw := readFileT(t, rel0Vector)
	unbound := writeTemp(t, "unbound.cbor", resign(t, raw, func(_ *platform.Claims, r *realm.Claims) {
		r.PubKeyHashAlgID = "sha-512" // the challenge was made with sha-256
	}))
	r := ccatoken(t, nil, "verify", unbound, "--cpak", cpakPub, "--nonce", rel0Nonce)
	r.check(t, exitFailed, "verification failed: binding", "sha-512")
	for _, want := range []string{
		"platform signature:  ok (ES384, CPAK ECDSA P-384)",
		"realm signature:     ok (ES384, RAK ECDSA P-384 from claim 44237 as a COSE_Key)",
		"binding:             FAILED: platform/realm binding mismatch",
		"freshness:           not checked",
		"result:              FAILED (binding)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}

	garbage := writeTemp(t, "garbage.cbor", []byte{0xd9, 0x01, 0x8f, 0xa0})
	r = ccatoken(t, nil, "verify", garbage, "--cpak", cpakPub)
	r.check(t, exitFailed, "decode", "malformed")
	if !strings.HasPrefix(r.stdout, "decode:              FAILED") || !strings.Contains(r.stdout, "claims:              not checked") {
		t.Errorf("decode failure not reported:\n%s", r.stdout)
	}
}
