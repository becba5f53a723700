package platform_test

import (
	"strings"
	"testing"

	"github.com/ccakit/cca/platform"
)

// TestLifecycleState walks the range boundaries of draft-ffm-rats-cca-token-04 §4.5.2:
// each state owns 0xN000-0xN0FF; everything else is invalid.
func TestLifecycleState(t *testing.T) {
	const (
		invalid = platform.LifecycleInvalid
		unknown = platform.LifecycleUnknown
		at      = platform.LifecycleAssemblyAndTest
		prov    = platform.LifecycleRoTProvisioning
		secured = platform.LifecycleSecured
		ncDebug = platform.LifecycleNonCCAPlatformDebug
		rDebug  = platform.LifecycleRecoverableCCAPlatformDebug
		decom   = platform.LifecycleDecommissioned
	)
	for _, tc := range []struct {
		v    platform.Lifecycle
		want platform.LifecycleState
	}{
		{0x0000, unknown}, {0x00ff, unknown}, {0x0100, invalid}, {0x0fff, invalid},
		{0x1000, at}, {0x10ff, at}, {0x1100, invalid},
		{0x2000, prov}, {0x20ff, prov}, {0x2100, invalid},
		{0x2fff, invalid}, {0x3000, secured}, {0x3003, secured}, {0x30ff, secured}, {0x3100, invalid},
		{0x4000, ncDebug}, {0x40ff, ncDebug}, {0x4100, invalid},
		{0x5000, rDebug}, {0x50ff, rDebug}, {0x5100, invalid},
		{0x6000, decom}, {0x60ff, decom}, {0x6100, invalid},
		{0x7000, invalid}, {0xf000, invalid}, {0xffff, invalid},
		{0x13000, invalid}, {0x30ff0, invalid}, {1<<63 | 0x3000, invalid},
	} {
		if got := tc.v.State(); got != tc.want {
			t.Errorf("0x%x: %v, want %v", uint64(tc.v), got, tc.want)
		}
	}
}

func TestLifecycleVerdicts(t *testing.T) {
	for _, tc := range []struct {
		s                  platform.LifecycleState
		name               string
		trustworthy, debug bool
	}{
		{platform.LifecycleInvalid, "invalid", false, false},
		{platform.LifecycleUnknown, "unknown", false, false},
		{platform.LifecycleAssemblyAndTest, "assembly and test", false, false},
		{platform.LifecycleRoTProvisioning, "CCA platform RoT provisioning", false, false},
		{platform.LifecycleSecured, "secured", true, false},
		{platform.LifecycleNonCCAPlatformDebug, "non-CCA-platform debug", false, true},
		{platform.LifecycleRecoverableCCAPlatformDebug, "recoverable CCA-platform debug", false, true},
		{platform.LifecycleDecommissioned, "decommissioned", false, false},
	} {
		if tc.s.String() != tc.name || tc.s.Trustworthy() != tc.trustworthy || tc.s.Debug() != tc.debug {
			t.Errorf("%d: %q trustworthy %v debug %v", tc.s, tc.s, tc.s.Trustworthy(), tc.s.Debug())
		}
	}
	if s := platform.Lifecycle(0x3003).String(); s != "0x3003 (secured)" {
		t.Errorf("String %q", s)
	}
	if s := platform.Lifecycle(0x7000).String(); !strings.Contains(s, "invalid") {
		t.Errorf("String %q", s)
	}
}
