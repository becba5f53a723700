package realmbuild

import (
	"errors"
	"strings"
	"testing"

	"github.com/ccakit/cca/realm"
)

// validJSON is a minimal valid description; the error table edits it.
const validJSON = `{
  "realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1},
  "ram": [{"base": "0x80000000", "size": "0x10000000"}],
  "images": [
    {"name": "kernel", "ipa": "0x80000000", "fill": "aa", "size": "0x10000"},
    {"name": "dtb", "ipa": "0x8fe00000", "hex": "d00dfeed", "size": 65536}
  ],
  "recs": [{"pc": "0x80000000", "gprs": ["0x8fe00000"]}, {"pc": 0}]
}`

func TestParseDescription(t *testing.T) {
	d, err := ParseDescription([]byte(validJSON))
	if err != nil {
		t.Fatal(err)
	}
	level, num := d.Realm.RTTStart()
	switch {
	case d.Realm.S2SZ != 40 || d.Realm.HashAlgo != realm.HashSHA256 || d.Realm.NumBPS != 1:
		t.Errorf("realm %+v", d.Realm)
	case level != 1 || num != 2:
		t.Errorf("default RTT start %d/%d, want 1/2", level, num)
	case d.RAM[0] != RAMRange{0x80000000, 0x10000000}:
		t.Errorf("ram %+v", d.RAM)
	case !d.Images[0].Measured || d.Images[0].Size != 0x10000 || string(d.Images[0].Fill) != "\xaa":
		t.Errorf("kernel %+v", d.Images[0])
	case d.Images[1].Size != 65536 || string(d.Images[1].Data) != "\xd0\x0d\xfe\xed":
		t.Errorf("dtb %+v", d.Images[1])
	case !d.RECs[0].Runnable || d.RECs[1].Runnable: // defaults: the first REC only
		t.Errorf("runnable defaults %v %v", d.RECs[0].Runnable, d.RECs[1].Runnable)
	case d.RECs[0].GPRs != [8]uint64{0x8fe00000} || d.RECs[1].MPIDR != 1:
		t.Errorf("recs %+v", d.RECs)
	}

	full := `{
	  "comment": "all members",
	  "realm": {"s2sz": "0x28", "hash_algo": "sha-512", "rpv": "0102", "num_bps": 5, "num_wps": 3,
	    "pmu_num_ctrs": 4, "sve_vl": 1, "flags": {"lpa2": true, "sve": true, "pmu": true}, "vmid": 65535,
	    "rtt_level_start": 0, "rtt_num_start": 1},
	  "ram": [{"base": 0, "size": "0X1000"}],
	  "images": [{"name": "k", "ipa": 16, "hex": "00", "measured": false}],
	  "recs": [{"pc": null, "gprs": [1,2,3,4,5,6,7,8], "runnable": true, "mpidr": "0x0"}]
	}`
	if _, err := ParseDescription([]byte(full)); err == nil || !strings.Contains(err.Error(), "recs[0].pc: missing") {
		t.Errorf("null pc: %v", err) // null is absent
	}
	d, err = ParseDescription([]byte(strings.Replace(full, `"pc": null`, `"pc": 4`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	p := d.Realm
	if p.Flags() != 7 || p.VMID != 0xFFFF || p.RPV[1] != 2 || p.RPV[2] != 0 || p.SVEVL != 1 || p.PMUNumCtrs != 4 || p.HashAlgo != realm.HashSHA512 {
		t.Errorf("realm %+v", p)
	}
	if level, num := p.RTTStart(); level != 0 || num != 1 {
		t.Errorf("RTT start %d/%d", level, num)
	}
	if m := p.Measured(); m.Flags != 7 || m.S2SZ != 40 || m.NumWPS != 3 {
		t.Errorf("measured %+v", m)
	}
	if d.Images[0].Measured || d.RECs[0].GPRs[7] != 8 {
		t.Errorf("images/recs %+v %+v", d.Images, d.RECs)
	}
}

// TestDescriptionErrors: each broken description fails with
// ErrDescription and a message naming the member.
func TestDescriptionErrors(t *testing.T) {
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"not an object", validJSON, `[1]`, "realm description: (top level): a JSON array, want an object"},
		{"truncated", validJSON, `{"realm": {`, "truncated"},
		{"trailing data", validJSON, validJSON + "{}", "data after the JSON object"},
		{"syntax", `"num_wps": 1}`, `"num_wps": 1,}`, "invalid JSON"},
		{"unknown member", `"num_wps": 1`, `"num_wps": 1, "num_wp": 2`, `unknown field "num_wp"`},
		{"no realm", `"realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1},`, ``, "realm: missing"},
		{"wrong type", `"fill": "aa"`, `"fill": 170`, "images.fill: a JSON number, want a string"},
		{"bool type", `"gprs"`, `"runnable": "yes", "gprs"`, "recs.runnable: a JSON string, want true or false"},
		{"s2sz missing", `"s2sz": 40, `, ``, "realm.s2sz: missing"},
		{"s2sz small", `"s2sz": 40`, `"s2sz": 31`, "realm.s2sz: 31: must be 32 to 48"},
		{"s2sz large", `"s2sz": 40`, `"s2sz": 52`, "realm.s2sz: 52: must be 32 to 48"},
		{"number form", `"s2sz": 40`, `"s2sz": "40"`, `realm.s2sz: "40": want a JSON number or a "0x…" hex string`},
		{"negative", `"s2sz": 40`, `"s2sz": -1`, "realm.s2sz: -1: want a non-negative integer"},
		{"fraction", `"s2sz": 40`, `"s2sz": 40.0`, "realm.s2sz: 40.0: want a non-negative integer"},
		{"bad hex number", `"0x80000000", "size"`, `"0x8000000g", "size"`, "ram[0].base: \"0x8000000g\""},
		{"64-bit overflow", `"0x80000000", "size"`, `"0x10000000000000000", "size"`, "ram[0].base: \"0x10000000000000000\" does not fit in 64 bits"},
		{"hash missing", `"hash_algo": "sha-256", `, ``, "realm.hash_algo: missing"},
		{"hash unknown", `"sha-256"`, `"sha-384"`, `realm.hash_algo: "sha-384": want "sha-256" or "sha-512"`},
		{"bps zero", `"num_bps": 1`, `"num_bps": 0`, "realm.num_bps: 0: must be 1 to 63 (the count minus one; 0 is reserved)"},
		{"bps missing", `"num_bps": 1, `, ``, "realm.num_bps: missing"},
		{"wps large", `"num_wps": 1`, `"num_wps": 64`, "realm.num_wps: 64 is above the maximum 63"},
		{"pmu without flag", `"num_wps": 1`, `"num_wps": 1, "pmu_num_ctrs": 2`, "realm.pmu_num_ctrs: 2 PMU counters without flags.pmu"},
		{"pmu ctrs", `"num_wps": 1`, `"num_wps": 1, "pmu_num_ctrs": 32`, "realm.pmu_num_ctrs: 32 is above the maximum 31"},
		{"sve without flag", `"num_wps": 1`, `"num_wps": 1, "sve_vl": 2`, "realm.sve_vl: 2 without flags.sve"},
		{"unknown flag", `"num_wps": 1`, `"num_wps": 1, "flags": {"mte": true}`, `unknown field "mte"`},
		{"vmid", `"num_wps": 1`, `"num_wps": 1, "vmid": 65536`, "realm.vmid: 65536 is above the maximum 65535"},
		{"rpv long", `"num_wps": 1`, `"num_wps": 1, "rpv": "` + strings.Repeat("ab", 65) + `"`, "realm.rpv: 65 bytes, at most 64"},
		{"rpv 0x", `"num_wps": 1`, `"num_wps": 1, "rpv": "0x01"`, "realm.rpv: byte strings are plain hex digits, without a 0x prefix"},
		{"rpv odd", `"num_wps": 1`, `"num_wps": 1, "rpv": "abc"`, "realm.rpv: not hex"},
		{"level too shallow for concat", `"num_wps": 1`, `"num_wps": 1, "rtt_level_start": 2`, "realm.rtt_level_start: level 2 cannot start a 40-bit IPA space (it would need more than 16 concatenated tables); use level 1 or lower"},
		{"level 4", `"num_wps": 1`, `"num_wps": 1, "rtt_level_start": 4`, "realm.rtt_level_start: 4 is above the maximum 3"},
		{"num inconsistent", `"num_wps": 1`, `"num_wps": 1, "rtt_level_start": 1, "rtt_num_start": 1`, "realm.rtt_num_start: 1: a 40-bit IPA space starting at level 1 has 2 table(s)"},
		{"num alone", `"num_wps": 1`, `"num_wps": 1, "rtt_num_start": 2`, "realm.rtt_num_start: given without rtt_level_start"},
		{"no ram", `[{"base": "0x80000000", "size": "0x10000000"}]`, `[]`, "ram: no RAM ranges"},
		{"ram unaligned", `"base": "0x80000000"`, `"base": "0x80000800"`, "ram[0].base: 0x80000800 is not 4 KB aligned"},
		{"ram size unaligned", `"size": "0x10000000"`, `"size": "0x10000001"`, "ram[0].size: 0x10000001 is not a multiple of 4 KB"},
		{"ram empty", `"size": "0x10000000"`, `"size": 0`, "ram[0].size: zero"},
		{"ram base missing", `"base": "0x80000000", `, ``, "ram[0].base: missing"},
		{"ram in unprotected half", `"base": "0x80000000"`, `"base": "0x8000000000"`, "ram[0]: [0x8000000000, 0x8010000000) is outside the protected IPA range [0, 0x8000000000) of a 40-bit realm"},
		{"ram crossing the PAR top", `"base": "0x80000000"`, `"base": "0x7ff8000000"`, "is outside the protected IPA range"},
		{"ram overflow", `"size": "0x10000000"`, `"size": "0xfffffffffffff000"`, "is outside the protected IPA range"},
		{"ram overlap", `"size": "0x10000000"}]`, `"size": "0x10000000"}, {"base": "0x8ffff000", "size": "0x2000"}]`, "ram[1]: [0x8ffff000, 0x90001000) overlaps ram[0] [0x80000000, 0x90000000)"},
		{"image name missing", `"name": "kernel", `, ``, "images[0].name: missing"},
		{"image name duplicate", `"name": "dtb"`, `"name": "kernel"`, `images[1].name: "kernel" is also the name of images[0]`},
		{"image no source", `"fill": "aa", `, ``, `images[0]: give exactly one of "file", "hex" and "fill" (found 0)`},
		{"image two sources", `"fill": "aa"`, `"fill": "aa", "file": "k.bin"`, `images[0]: give exactly one of "file", "hex" and "fill" (found 2)`},
		{"fill without size", `"fill": "aa", "size": "0x10000"`, `"fill": "aa"`, "images[0].size: required with fill"},
		{"fill empty", `"fill": "aa"`, `"fill": ""`, "images[0].fill: empty pattern"},
		{"hex not hex", `"hex": "d00dfeed"`, `"hex": "d00dfeeg"`, "images[1].hex: not hex"},
		{"hex empty", `"hex": "d00dfeed", "size": 65536`, `"hex": ""`, "images[1].hex: empty image"},
		{"size below hex", `"size": 65536`, `"size": 2`, "images[1].size: 0x2 is smaller than the 4 bytes of hex"},
		{"ipa missing", `"ipa": "0x80000000", `, ``, "images[0].ipa: missing"},
		{"image outside RAM", `"ipa": "0x8fe00000"`, `"ipa": "0x90000000"`, `images[1]: "dtb" [0x90000000, 0x90010000) is not inside guest RAM`},
		{"image tail outside RAM", `"ipa": "0x8fe00000"`, `"ipa": "0x8fff8000"`, `images[1]: "dtb" [0x8fff8000, 0x90008000) is not inside guest RAM`},
		{"image below RAM", `"ipa": "0x80000000", "fill"`, `"ipa": "0x7ffff000", "fill"`, `images[0]: "kernel" [0x7ffff000, 0x8000f000) is not inside guest RAM`},
		{"image in unprotected half", `"ipa": "0x8fe00000"`, `"ipa": "0x8000000000"`, "images[1].ipa: 0x8000000000 is outside the protected IPA range [0, 0x8000000000)"},
		{"image overlap", `"ipa": "0x8fe00000"`, `"ipa": "0x8000f000"`, `images[1]: "dtb" [0x8000f000, 0x8001f000) shares granules with images[0] "kernel" [0x80000000, 0x80010000)`},
		{"image shares a granule", `"ipa": "0x8fe00000"`, `"ipa": "0x8000f800"`, `images[1]: "dtb" [0x8000f800, 0x8001f800) shares granules with images[0] "kernel"`},
		{"image size past PAR", `"size": 65536`, `"size": "0xffffffffffff0000"`, `images[1]: "dtb" (0xffffffffffff0000 bytes at 0x8fe00000) runs past the protected IPA range`},
		{"no recs", `"recs": [{"pc": "0x80000000", "gprs": ["0x8fe00000"]}, {"pc": 0}]`, `"recs": []`, "recs: no RECs"},
		{"pc missing", `{"pc": 0}`, `{}`, "recs[1].pc: missing"},
		{"gpr missing", `["0x8fe00000"]`, `["0x8fe00000", null]`, "recs[0].gprs[1]: missing"},
		{"nine gprs", `["0x8fe00000"]`, `[1,2,3,4,5,6,7,8,9]`, "recs[0].gprs: 9 values, at most 8 (x0..x7)"},
		{"mpidr order", `{"pc": 0}`, `{"pc": 0, "mpidr": 2}`, "recs[1].mpidr: 0x2 is REC index 2, but RECs are created in index order: this one needs 0x1"},
		{"mpidr bits", `{"pc": 0}`, `{"pc": 0, "mpidr": "0x100000001"}`, "recs[1].mpidr: 0x100000001: only Aff0[3:0], Aff1, Aff2 and Aff3 may be set"},
		{"mpidr aff0 high", `{"pc": 0}`, `{"pc": 0, "mpidr": "0x10"}`, "recs[1].mpidr: 0x10: only"},
		{"none runnable", `"gprs": ["0x8fe00000"]}`, `"gprs": ["0x8fe00000"], "runnable": false}`, "recs: no runnable REC: the realm could never run"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := strings.Replace(validJSON, c.old, c.new, 1)
			if in == validJSON && c.old != validJSON {
				t.Fatalf("the edit %q does not apply", c.old)
			}
			_, err := ParseDescription([]byte(in))
			if err == nil {
				t.Fatalf("no error for\n%s", in)
			}
			if !errors.Is(err, ErrDescription) {
				t.Errorf("%v does not wrap ErrDescription", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant  %q", err, c.want)
			}
		})
	}
}

func TestMPIDR(t *testing.T) {
	for _, i := range []int{0, 1, 15, 16, 17, 4095, 4096, 1<<20 + 5, 1<<28 - 1} {
		m := MPIDRForIndex(i)
		if got, ok := RECIndex(m); !ok || got != i {
			t.Errorf("index %d: mpidr %#x gives %d %v", i, m, got, ok)
		}
	}
	if MPIDRForIndex(0x12345) != 0x1234<<8|5 || MPIDRForIndex(1<<20) != 1<<24 {
		t.Errorf("layout: %#x %#x", MPIDRForIndex(0x12345), MPIDRForIndex(1<<20))
	}
	for _, bad := range []uint64{0x10, 1 << 32, 1 << 63} {
		if _, ok := RECIndex(bad); ok {
			t.Errorf("%#x accepted", bad)
		}
	}
}

// TestValidateBuilt: a Description built in Go is validated by Plan too.
func TestValidateBuilt(t *testing.T) {
	d := small()
	d.RECs[1].MPIDR = 0
	if _, err := d.Plan(nil); err == nil || !strings.Contains(err.Error(), "recs[1].mpidr") {
		t.Errorf("Plan: %v", err)
	}
	d = small()
	d.Realm.HashAlgo = 2
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "realm.hash_algo: invalid hash algorithm 2") {
		t.Errorf("Validate: %v", err)
	}
	d = small()
	d.Images[0].Data, d.Images[0].Fill = nil, nil
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "images[0]: give exactly one of file, hex and fill") {
		t.Errorf("Validate: %v", err)
	}
	d = small()
	l := -1
	d.Realm.RTTLevelStart = &l
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "realm.rtt_level_start: -1: must be 0 to 3") {
		t.Errorf("Validate: %v", err)
	}
}

// TestImagesLimit: images larger in total than MaxImagesSize are refused
// by name before anything is allocated, however large their size fields.
func TestImagesLimit(t *testing.T) {
	for _, c := range []struct{ name, desc, want string }{
		{"two images", `{"realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1},
		  "ram": [{"base": "0x0", "size": "0x100000000"}],
		  "images": [{"name": "kernel", "ipa": "0x0", "fill": "00", "size": "0x3ffff001"},
		             {"name": "initrd", "ipa": "0x80000000", "fill": "00", "size": "0x1"}],
		  "recs": [{"pc": "0x0"}]}`,
			`images[1]: "initrd" (0x1 bytes) brings the images to 0x40001000 bytes in whole granules, more than the limit of 0x40000000 (MaxImagesSize)`},
		{"a 40-bit size", `{"realm": {"s2sz": 48, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1},
		  "ram": [{"base": "0x0", "size": "0x400000000000"}],
		  "images": [{"name": "kernel", "ipa": "0x0", "fill": "00", "size": "0xffffffffff"}],
		  "recs": [{"pc": "0x0"}]}`,
			`images[0]: "kernel" (0xffffffffff bytes) brings the images to 0x10000000000 bytes`},
	} {
		_, err := ParseDescription([]byte(c.desc))
		if !errors.Is(err, ErrDescription) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant %q", c.name, err, c.want)
		}
	}
	// At the limit: accepted.
	d := `{"realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1},
	  "ram": [{"base": "0x0", "size": "0x100000000"}],
	  "images": [{"name": "kernel", "ipa": "0x0", "fill": "00", "size": "0x40000000"}],
	  "recs": [{"pc": "0x0"}]}`
	if _, err := ParseDescription([]byte(d)); err != nil {
		t.Errorf("images of exactly MaxImagesSize: %v", err)
	}
}
