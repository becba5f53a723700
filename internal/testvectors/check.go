package testvectors

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/evidence"
)

func (g *Set) sortedFiles() []string {
	names := make([]string, 0, len(g.files))
	for n := range g.files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Write writes every file that changed and returns how many it wrote. An emulated token whose claims and
// verdicts are those of the file on disk is left as it is, so that its
// random signatures do not churn.
func (g *Set) Write() (int, error) {
	written := 0
	for _, name := range g.sortedFiles() {
		data := g.files[name]
		p := g.path(name)
		old, err := os.ReadFile(p)
		if err == nil && bytes.Equal(old, data) {
			continue
		}
		if err == nil && g.compare[name] == "claims" && len(claimsDiff(old, data, true)) == 0 && len(g.verdictDiffs(name, old)) == 0 {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return written, err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return written, err
		}
		written++
	}
	return written, nil
}

// Check compares the generated set with the files on disk and returns one
// line per difference: a file that would change (bytes for deterministic
// files, claims for emulated tokens), a token on disk whose verdict is not
// the one recorded, a difference in manifest.json.
func (g *Set) Check() []string {
	var diffs []string
	for _, name := range g.sortedFiles() {
		data := g.files[name]
		old, err := os.ReadFile(g.path(name))
		switch {
		case err != nil:
			diffs = append(diffs, fmt.Sprintf("%s: %v", name, err))
		case name == ManifestFile:
			diffs = append(diffs, manifestDiff(old, g.manifest)...)
		case g.compare[name] == "claims":
			for _, d := range claimsDiff(old, data, true) {
				diffs = append(diffs, name+": "+d)
			}
			diffs = append(diffs, g.verdictDiffs(name, old)...)
		case !bytes.Equal(old, data):
			what := "differs from what its inputs give"
			if _, isToken := g.compare[name]; isToken {
				if d := claimsDiff(old, data, false); len(d) > 0 {
					what += ": " + strings.Join(d, "; ")
				}
			}
			diffs = append(diffs, name+": "+what)
		}
	}
	return diffs
}

// verdictDiffs verifies a token file's bytes on disk as the manifest says
// and reports every verdict that is not the regenerated one.
func (g *Set) verdictDiffs(file string, tok []byte) []string {
	var diffs []string
	for _, mv := range g.manifest.Vectors {
		if mv.File != file {
			continue
		}
		for i, want := range mv.Verify {
			got, err := g.verdict(tok, file, want)
			if err != nil {
				diffs = append(diffs, fmt.Sprintf("%s: verification %d: %v", file, i, err))
				continue
			}
			if d := runDiff(want, got); d != "" {
				diffs = append(diffs, fmt.Sprintf("%s: verification %d (%s): the file on disk gives %s", file, i, want.Command, d))
			}
		}
	}
	return diffs
}

// runDiff describes how a verdict differs from the expected one.
func runDiff(want, got Run) string {
	var d []string
	if want.Trustworthy != got.Trustworthy || want.Exit != got.Exit {
		d = append(d, fmt.Sprintf("trustworthy %v, exit %d (recorded: trustworthy %v, exit %d)", got.Trustworthy, got.Exit, want.Trustworthy, want.Exit))
	}
	if !slices.Equal(want.Failed, got.Failed) {
		d = append(d, fmt.Sprintf("failed checks %q (recorded: %q)", got.Failed, want.Failed))
	}
	if !equalJSON(want.EAR, got.EAR) {
		d = append(d, fmt.Sprintf("EAR statuses %v (recorded: %v)", got.EAR, want.EAR))
	}
	return strings.Join(d, "; ")
}

// manifestDiff compares the manifest on disk with the regenerated one,
// vector by vector and verification by verification.
func manifestDiff(old []byte, want Manifest) []string {
	m, err := parseManifest(old)
	if err != nil {
		return []string{err.Error()}
	}
	got := *m
	var diffs []string
	byName := map[string]Vector{}
	for _, v := range got.Vectors {
		byName[v.Name] = v
	}
	seen := map[string]bool{}
	for _, w := range want.Vectors {
		seen[w.Name] = true
		g, ok := byName[w.Name]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: vector %s is missing", ManifestFile, w.Name))
			continue
		}
		wv, gv := w, g
		wv.Verify, gv.Verify = nil, nil
		if !equalJSON(wv, gv) {
			diffs = append(diffs, fmt.Sprintf("%s: vector %s: its description differs (name, file, source, inputs, format, challenge)", ManifestFile, w.Name))
		}
		for i := range max(len(w.Verify), len(g.Verify)) {
			switch {
			case i >= len(g.Verify):
				diffs = append(diffs, fmt.Sprintf("%s: vector %s: verification %d (%s) is missing", ManifestFile, w.Name, i, w.Verify[i].Command))
			case i >= len(w.Verify):
				diffs = append(diffs, fmt.Sprintf("%s: vector %s: verification %d (%s) would be removed", ManifestFile, w.Name, i, g.Verify[i].Command))
			case !equalJSON(w.Verify[i], g.Verify[i]):
				what := runDiff(g.Verify[i], w.Verify[i])
				if what == "" {
					what = "the command or its inputs differ: " + w.Verify[i].Command
				} else {
					what = "regenerating gives " + what
				}
				diffs = append(diffs, fmt.Sprintf("%s: vector %s: verification %d: %s", ManifestFile, w.Name, i, what))
			}
		}
	}
	for _, g := range got.Vectors {
		if !seen[g.Name] {
			diffs = append(diffs, fmt.Sprintf("%s: vector %s would be removed", ManifestFile, g.Name))
		}
	}
	if got.About != want.About {
		diffs = append(diffs, ManifestFile+": \"about\" differs")
	}
	return diffs
}

// claimsDiff compares two tokens by what they say: the wrapper, each
// token's algorithm and every claim, ignoring signatures. Tokens that do
// not decode are compared by their bytes. emulated compares the claims the
// emulated machine draws at random by their form only (randomForms).
func claimsDiff(old, new []byte, emulated bool) []string {
	a, errA := evidence.Decode(old)
	b, errB := evidence.Decode(new)
	if errA != nil || errB != nil {
		if bytes.Equal(old, new) {
			return nil
		}
		if errA != nil {
			return []string{"does not decode: " + errA.Error()}
		}
		return []string{"differs (the regenerated token does not decode: " + errB.Error() + ")"}
	}
	var diffs []string
	if ka, kb := a.Kind(), b.Kind(); ka != kb {
		diffs = append(diffs, fmt.Sprintf("evidence is %v, regenerating gives %v", ka, kb))
	}
	pa, ra := algs(a)
	pb, rb := algs(b)
	if pa != pb || ra != rb {
		diffs = append(diffs, fmt.Sprintf("algorithms %s/%s, regenerating gives %s/%s", pa, ra, pb, rb))
	}
	ma, mb := claimsMap(a), claimsMap(b)
	if emulated {
		randomForms(ma, a)
		randomForms(mb, b)
	}
	keys := make([]string, 0, len(ma)+len(mb))
	for k := range ma {
		keys = append(keys, k)
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if va, vb := ma[k], mb[k]; va != vb {
			diffs = append(diffs, fmt.Sprintf("claim %s is %s, regenerating gives %s", k, orAbsent(va), orAbsent(vb)))
		}
	}
	return diffs
}

// algs names the signature algorithms of the platform and realm tokens
// ("none" for a token the evidence does not carry).
func algs(e *evidence.Evidence) (platformAlg, realmAlg string) {
	platformAlg, realmAlg = "none", "none"
	if e.PlatformSign1 != nil {
		platformAlg = fmt.Sprint(e.PlatformSign1.Alg)
	}
	if e.RealmSign1 != nil {
		realmAlg = fmt.Sprint(e.RealmSign1.Alg)
	}
	return platformAlg, realmAlg
}

// randomForms replaces, in a claims map, the value of each claim the
// emulated RMM draws at random with its form: the realm instance id, 0x01
// and 32 random bytes drawn at RMI_REALM_CREATE (as TF-RMM main's
// generate_realm_instance_id does). Its value changes with every run; its
// form must not.
func randomForms(m map[string]string, e *evidence.Evidence) {
	if e.Realm == nil || e.Realm.InstanceID == nil {
		return
	}
	id := e.Realm.InstanceID
	form := fmt.Sprintf("%d bytes", len(id))
	if len(id) > 0 {
		form += fmt.Sprintf(", type %#02x", id[0])
	}
	m["cca-realm-instance-id"] = form + " (random)"
}

func orAbsent(s string) string {
	if s == "" {
		return "absent"
	}
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// claimsMap flattens a token's claims to "member" -> JSON value: the evcli
// JSON members of each claims set, so that every claim has a name, and
// "platform claim N" / "realm claim N" for claims outside that form.
func claimsMap(e *evidence.Evidence) map[string]string {
	out := map[string]string{}
	add := func(set string, claims any, extra map[int64]cbor.RawMessage) {
		if b, err := json.Marshal(claims); err == nil {
			var members map[string]json.RawMessage
			if json.Unmarshal(b, &members) == nil {
				for k, v := range members {
					out[k] = string(v)
				}
			}
		}
		for k, v := range extra {
			out[fmt.Sprintf("%s claim %d", set, k)] = hex.EncodeToString(v)
		}
	}
	if e.Platform != nil {
		add("platform", e.Platform, e.Platform.Extra)
	}
	if e.Realm != nil {
		add("realm", e.Realm, e.Realm.Extra)
	}
	return out
}
