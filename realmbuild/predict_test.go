package realmbuild

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ccakit/cca/realm"
)

// TestPredictKnownAnswers predicts the RIM of each description in
// testdata/realms and compares it, and the number of RIPAS and DATA
// descriptors, with testdata/rim-kat.txt, which testdata/rim_kat.py computed
// with hashlib straight from the descriptor layouts (Arm DEN0137 1.0-REL0 C1 RmmMeasurementDescriptor* types; TF-RMM measurement_descs.h).
func TestPredictKnownAnswers(t *testing.T) {
	f, err := os.Open("testdata/rim-kat.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var name, alg, ripas, data, want string
		if _, err := fmt.Sscan(line, &name, &alg, &ripas, &data, &want); err != nil {
			t.Fatalf("bad KAT line %q: %v", line, err)
		}
		n++
		t.Run(name, func(t *testing.T) {
			d, load, err := ReadDescriptionFile(filepath.Join("testdata", "realms", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			plan, err := d.Plan(load)
			if err != nil {
				t.Fatal(err)
			}
			counts := map[Op]int{}
			for _, s := range plan.Steps {
				counts[s.Op()]++
			}
			if got := fmt.Sprintf("ripas=%d", counts[OpInitRIPAS]); got != ripas {
				t.Errorf("%s, want %s", got, ripas)
			}
			if got := fmt.Sprintf("data=%d", counts[OpDataCreate]); got != data {
				t.Errorf("%s, want %s", got, data)
			}
			pred, err := PredictRIM(d, load)
			if err != nil {
				t.Fatal(err)
			}
			if pred.HashAlgo.Name() != alg {
				t.Errorf("hash %s, want %s", pred.HashAlgo.Name(), alg)
			}
			if got := hex.EncodeToString(pred.RIM); got != want {
				t.Errorf("RIM %s\nwant %s", got, want)
			}
			if len(pred.RPV) != realm.PersonalizationValueSize || !slices.Equal(pred.RPV, d.Realm.RPV[:]) {
				t.Errorf("RPV %x", pred.RPV)
			}
		})
	}
	if n < 4 {
		t.Fatalf("only %d known answers", n)
	}
}

// TestDefaultRTTStart: the fewest levels, with up to 16 concatenated tables
// (the same table as cca-realm-measurements' translation_block_sizes).
func TestDefaultRTTStart(t *testing.T) {
	for _, c := range []struct {
		s2sz       uint
		level, num int
	}{
		{32, 2, 4}, {33, 2, 8}, {34, 2, 16},
		{35, 1, 1}, {39, 1, 1}, {40, 1, 2}, {42, 1, 8}, {43, 1, 16},
		{44, 0, 1}, {47, 0, 1}, {48, 0, 1},
	} {
		level, num := DefaultRTTStart(c.s2sz)
		if level != c.level || num != c.num {
			t.Errorf("s2sz %d: level %d num %d, want %d %d", c.s2sz, level, num, c.level, c.num)
		}
	}
	// rtt_num_level consistency, as the emulated RMM checks it.
	for _, c := range []struct {
		s2sz  uint
		level int
		num   int // 0: impossible
	}{
		{40, 0, 1}, {40, 1, 2}, {40, 2, 0}, {40, 3, 0},
		{34, 1, 1}, {34, 0, 0}, {39, 0, 0}, {48, 1, 0}, {35, 2, 0},
	} {
		if n := rttNumStart(c.s2sz, c.level); n != c.num {
			t.Errorf("s2sz %d level %d: %d tables, want %d", c.s2sz, c.level, n, c.num)
		}
	}
}

const (
	kb4 = 1 << 12
	mb2 = 1 << 21
	gb1 = 1 << 30
	gb  = gb1
)

type entry struct {
	base, top uint64
	level     int
}

func entries(base, top uint64, start int) []entry {
	var out []entry
	for _, e := range RIPASEntries(base, top, start) {
		if e.RAMBase != base || e.RAMTop != top {
			panic("range not recorded")
		}
		out = append(out, entry{e.Base, e.Top, e.Level})
	}
	return out
}

// TestRIPASEntries checks the INIT_RIPAS decomposition: the largest entry
// aligned at the address that fits below top, never above the start level.
func TestRIPASEntries(t *testing.T) {
	for _, c := range []struct {
		name      string
		base, top uint64
		start     int
		want      []entry
	}{
		{"one granule", 0x80000000, 0x80001000, 1, []entry{{0x80000000, 0x80001000, 3}}},
		{"2MB aligned", 0x80000000, 0x80000000 + 2*mb2, 1, []entry{
			{0x80000000, 0x80200000, 2}, {0x80200000, 0x80400000, 2}}},
		{"1GB aligned", 2 * gb, 4 * gb, 1, []entry{{2 * gb, 3 * gb, 1}, {3 * gb, 4 * gb, 1}}},
		{"1GB aligned, start level 2", 2 * gb, 2*gb + 2*mb2, 2, []entry{
			{2 * gb, 2*gb + mb2, 2}, {2*gb + mb2, 2*gb + 2*mb2, 2}}},
		{"unaligned head and tail", 0x801FE000, 0x80403000, 1, []entry{
			{0x801FE000, 0x801FF000, 3}, {0x801FF000, 0x80200000, 3},
			{0x80200000, 0x80400000, 2},
			{0x80400000, 0x80401000, 3}, {0x80401000, 0x80402000, 3}, {0x80402000, 0x80403000, 3}}},
		{"up to 1GB then down", gb - mb2, 2*gb + mb2 + kb4, 1, []entry{
			{gb - mb2, gb, 2}, {gb, 2 * gb, 1}, {2 * gb, 2*gb + mb2, 2}, {2*gb + mb2, 2*gb + mb2 + kb4, 3}}},
		{"docs example", 0x3FE00000, 0x80200000, 1, []entry{
			{0x3FE00000, 0x40000000, 2}, {0x40000000, 0x80000000, 1}, {0x80000000, 0x80200000, 2}}},
		{"level 0 entry", 1 << 39, 1<<40 + gb, 0, []entry{{1 << 39, 1 << 40, 0}, {1 << 40, 1<<40 + gb, 1}}},
		{"no level 0 entry from start level 1", 0, 1 << 39, 1, nil}, // 512 level-1 entries, checked below
		{"concatenated level-2 root, s2sz 34", 0, 1 << 33, 2, nil},  // 4096 level-2 entries
		{"start level 3", 0x3000, 0x6000, 3, []entry{{0x3000, 0x4000, 3}, {0x4000, 0x5000, 3}, {0x5000, 0x6000, 3}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := entries(c.base, c.top, c.start)
			if c.want != nil {
				if !slices.Equal(got, c.want) {
					t.Errorf("got  %x\nwant %x", got, c.want)
				}
				return
			}
			// Uniform cover at the start level.
			size := LevelSize(c.start)
			if uint64(len(got)) != (c.top-c.base)/size {
				t.Fatalf("%d entries, want %d", len(got), (c.top-c.base)/size)
			}
			for i, e := range got {
				if e.level != c.start || e.base != c.base+uint64(i)*size || e.top != e.base+size {
					t.Fatalf("entry %d: %x", i, e)
				}
			}
		})
	}
}

// TestRIPASEntriesProperties: on many ranges the entries tile [base, top)
// in order, each is aligned to its size, and none could have been larger
// (the next level up is misaligned, overruns top or is above the start).
func TestRIPASEntriesProperties(t *testing.T) {
	seed := uint64(0x9E3779B97F4A7C15)
	rnd := func() uint64 {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return seed
	}
	for range 500 {
		start := int(rnd() % 4)
		base := rnd() % (1 << 41) &^ (kb4 - 1)
		// Sizes spanning several magnitudes, up to 2048 start-level entries.
		size := rnd() % (LevelSize(start) << (rnd() % 12)) &^ (kb4 - 1)
		if size == 0 {
			size = kb4
		}
		top := base + size
		es := RIPASEntries(base, top, start)
		if len(es) > 4*512*4 {
			t.Fatalf("[%#x, %#x) start %d: %d entries", base, top, start, len(es))
		}
		addr := base
		for _, e := range es {
			s := LevelSize(e.Level)
			switch {
			case e.Base != addr || e.Top != e.Base+s || e.Top > top:
				t.Fatalf("[%#x, %#x) start %d: bad tiling at %+v", base, top, start, e)
			case e.Level < start || e.Level > 3 || e.Base%s != 0:
				t.Fatalf("[%#x, %#x) start %d: bad entry %+v", base, top, start, e)
			case e.Level > start && e.Base%LevelSize(e.Level-1) == 0 && e.Base+LevelSize(e.Level-1) <= top:
				t.Fatalf("[%#x, %#x) start %d: %+v could be a level %d entry", base, top, start, e, e.Level-1)
			}
			addr = e.Top
		}
		if addr != top {
			t.Fatalf("[%#x, %#x) start %d: ends at %#x", base, top, start, addr)
		}
	}
}

// small is a valid two-image description used by the plan tests.
func small() *Description {
	return &Description{
		Realm: Parameters{S2SZ: 40, HashAlgo: realm.HashSHA256, NumBPS: 1, NumWPS: 1},
		RAM:   []RAMRange{{0x80000000, 0x10000000}},
		Images: []Image{
			{Name: "dtb", IPA: 0x8FE00000, Data: []byte{0xd0, 0x0d, 0xfe, 0xed}, Size: 0x10000, Measured: true},
			{Name: "log", IPA: 0x80100000, Fill: []byte{0}, Size: 0x2000},
			{Name: "kernel", IPA: 0x80000000, Fill: []byte{0xaa}, Size: 0x3000, Measured: true},
		},
		RECs: []REC{{PC: 0x80000000, GPRs: [8]uint64{0x8FE00000}, Runnable: true}, {MPIDR: 1}},
	}
}

// TestPlanOrder: REALM_CREATE, INIT_RIPAS, measured DATA_CREATE in IPA
// order whatever the description's order, every REC, then the unmeasured
// DATA_CREATEs.
func TestPlanOrder(t *testing.T) {
	d := small()
	p, err := d.Plan(nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Steps {
		got = append(got, s.String())
	}
	var want []string
	want = append(want, "REALM_CREATE s2sz=40 hash=sha-256 flags=0x0 num_bps=1 num_wps=1 pmu_num_ctrs=0 sve_vl=0 rtt_level_start=1 rtt_num_start=2 vmid=0")
	for a := uint64(0x80000000); a < 0x90000000; a += mb2 {
		want = append(want, fmt.Sprintf("RTT_INIT_RIPAS [%#x, %#x) level 2", a, a+mb2))
	}
	for a := uint64(0x80000000); a < 0x80003000; a += kb4 {
		want = append(want, fmt.Sprintf("DATA_CREATE %#x measured (kernel)", a))
	}
	for a := uint64(0x8FE00000); a < 0x8FE10000; a += kb4 {
		want = append(want, fmt.Sprintf("DATA_CREATE %#x measured (dtb)", a))
	}
	want = append(want, "REC_CREATE 0 mpidr=0x0 pc=0x80000000 runnable", "REC_CREATE 1 mpidr=0x1 pc=0x0 not runnable, not measured")
	want = append(want, "DATA_CREATE 0x80100000 unmeasured (log)", "DATA_CREATE 0x80101000 unmeasured (log)")
	if !slices.Equal(got, want) {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Contents: zero-padded whole granules.
	first := p.Steps[1+128].(DataCreateStep)
	if len(first.Content) != realm.GranuleSize || first.Content[0] != 0xaa || first.Content[realm.GranuleSize-1] != 0xaa {
		t.Errorf("kernel granule: %d bytes %x…", len(first.Content), first.Content[:4])
	}
	dtb := p.Steps[1+128+3].(DataCreateStep)
	if dtb.IPA != 0x8FE00000 || dtb.Content[3] != 0xed || dtb.Content[4] != 0 {
		t.Errorf("dtb granule: %x", dtb.Content[:8])
	}

	// The unmeasured image's descriptors are in the RIM; its content is not.
	d2 := small()
	d2.Images[1].Fill = []byte{0x55}
	p2, err := d2.Plan(nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Predict().RIM == nil || !slices.Equal(p.Predict().RIM, p2.Predict().RIM) {
		t.Error("the content of an unmeasured image changed the RIM")
	}
	d2.Images[1].IPA = 0x80200000
	if p2, _ = d2.Plan(nil); slices.Equal(p.Predict().RIM, p2.Predict().RIM) {
		t.Error("the IPA of an unmeasured image did not change the RIM")
	}
}

// TestPlanSensitivity: what is measured changes the RIM, what is not does
// not (RPV, VMID, MPIDR, a non-runnable REC's registers, the image order in
// the description).
func TestPlanSensitivity(t *testing.T) {
	base, err := PredictRIM(small(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		mutate  func(d *Description)
		changes bool
	}{
		{"rpv", func(d *Description) { d.Realm.RPV[0] = 1 }, false},
		{"vmid", func(d *Description) { d.Realm.VMID = 9 }, false},
		{"image order", func(d *Description) { slices.Reverse(d.Images) }, false},
		{"non-runnable pc", func(d *Description) { d.RECs[1].PC = 0x1234 }, false},
		{"num_start given", func(d *Description) { l, n := 1, 2; d.Realm.RTTLevelStart, d.Realm.RTTNumStart = &l, &n }, false},
		{"pmu", func(d *Description) { d.Realm.PMU = true }, true},
		{"s2sz", func(d *Description) { d.Realm.S2SZ = 41 }, true},
		{"start level 0", func(d *Description) { l := 0; d.Realm.RTTLevelStart = &l }, false}, // no 512 GB entry in this RAM
		{"kernel byte", func(d *Description) { d.Images[2].Fill = []byte{0xab} }, true},
		{"dtb padding", func(d *Description) { d.Images[0].Size = 0x11000 }, true},
		{"runnable pc", func(d *Description) { d.RECs[0].PC += 4 }, true},
		{"x7", func(d *Description) { d.RECs[0].GPRs[7] = 1 }, true},
		{"second runnable", func(d *Description) { d.RECs[1].Runnable = true }, true},
		{"measure log", func(d *Description) { d.Images[1].Measured = true }, true},
		{"ram size", func(d *Description) { d.RAM[0].Size += kb4 }, true},
	} {
		d := small()
		c.mutate(d)
		got, err := PredictRIM(d, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if changed := !slices.Equal(got.RIM, base.RIM); changed != c.changes {
			t.Errorf("%s: RIM changed %v, want %v", c.name, changed, c.changes)
		}
		if c.name == "rpv" && got.RPV[0] != 1 {
			t.Error("the RPV is not in the prediction")
		}
	}
}

// TestPlanMatchesStepwiseReplay: Replay hands each step the RIM after it,
// ending on Predict's RIM, and the steps' Measure methods are exactly the
// measure.go functions.
func TestPlanMatchesStepwiseReplay(t *testing.T) {
	d := small()
	d.Realm.HashAlgo = realm.HashSHA512
	p, err := d.Plan(nil)
	if err != nil {
		t.Fatal(err)
	}
	var m realm.Measurement
	i := 0
	final := p.Replay(func(s Step, rim *realm.Measurement) {
		switch s := s.(type) {
		case RealmCreateStep:
			m = realm.InitialRIM(s.Params)
		case InitRIPASStep:
			m.ExtendRIPAS(realm.HashSHA512, s.Base, s.Top)
		case DataCreateStep:
			m.ExtendData(realm.HashSHA512, s.IPA, s.Flags, s.Content)
		case RECCreateStep:
			if s.Params.Flags == realm.RECFlagRunnable {
				m.ExtendREC(realm.HashSHA512, s.Params)
			}
		}
		if m != *rim {
			t.Fatalf("step %d %s: RIM differs", i, s)
		}
		i++
	})
	if i != len(p.Steps) || !slices.Equal(final.Value(realm.HashSHA512), p.Predict().RIM) || len(p.Predict().RIM) != 64 {
		t.Error("Replay and Predict disagree")
	}
}

// TestPlanFileImages: file images are loaded through the Loader, sized by
// their content unless a size is given, and checked again once loaded.
func TestPlanFileImages(t *testing.T) {
	d := small()
	d.Images[0] = Image{Name: "dtb", IPA: 0x8FE00000, File: "dtb.bin", Measured: true}
	files := map[string][]byte{"dtb.bin": make([]byte, 5000)}
	load := func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return b, nil
		}
		return nil, os.ErrNotExist
	}
	p, err := d.Plan(load)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range p.Steps {
		if s, ok := s.(DataCreateStep); ok && s.Image == "dtb" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d dtb granules, want 2", n)
	}
	for _, c := range []struct {
		name string
		set  func()
		want string
	}{
		{"no loader", func() {}, "images[0].file: dtb.bin: no loader"},
		{"missing", func() { d.Images[0].File = "nope.bin" }, "images[0].file: file does not exist"},
		{"too big for size", func() { d.Images[0].Size = 4096 }, "images[0].size: 0x1000 is smaller than dtb.bin (5000 bytes)"},
		{"past RAM", func() { files["dtb.bin"] = make([]byte, 0x200001) }, `images[0]: "dtb" [0x8fe00000, 0x90000001) is not inside guest RAM`},
		{"onto another image", func() { d.Images[0].IPA = 0x800FF000 }, `images[1]: "log" [0x80100000, 0x80102000) shares granules with images[0] "dtb"`},
		{"empty", func() { files["dtb.bin"] = nil }, "images[0].file: dtb.bin is empty"},
	} {
		d = small()
		d.Images[0] = Image{Name: "dtb", IPA: 0x8FE00000, File: "dtb.bin", Measured: true}
		files["dtb.bin"] = make([]byte, 5000)
		c.set()
		l := Loader(load)
		if c.name == "no loader" {
			l = nil
		}
		_, err := d.Plan(l)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}
