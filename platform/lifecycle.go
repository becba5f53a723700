package platform

import "fmt"

// Lifecycle is the security lifecycle claim (2395). The high byte is the
// state; the low byte is implementation defined (draft-ffm-rats-cca-token-04 §4.5.2,
// veraison/ccatoken platform/lifecycle.go).
type Lifecycle uint64

// LifecycleState is the architectural state a Lifecycle value falls in.
type LifecycleState int

const (
	LifecycleInvalid LifecycleState = iota
	LifecycleUnknown
	LifecycleAssemblyAndTest
	LifecycleRoTProvisioning
	LifecycleSecured
	LifecycleNonCCAPlatformDebug
	LifecycleRecoverableCCAPlatformDebug
	LifecycleDecommissioned
)

// Lifecycle values at the start of each state's range.
const (
	LifecycleUnknownMin                     Lifecycle = 0x0000
	LifecycleAssemblyAndTestMin             Lifecycle = 0x1000
	LifecycleRoTProvisioningMin             Lifecycle = 0x2000
	LifecycleSecuredMin                     Lifecycle = 0x3000
	LifecycleNonCCAPlatformDebugMin         Lifecycle = 0x4000
	LifecycleRecoverableCCAPlatformDebugMin Lifecycle = 0x5000
	LifecycleDecommissionedMin              Lifecycle = 0x6000
)

// State returns the range l falls in; anything outside the seven ranges is
// LifecycleInvalid.
func (l Lifecycle) State() LifecycleState {
	if l > 0x60ff || l&0xff00 > 0x6000 || (l>>8)&0x0f != 0 {
		return LifecycleInvalid
	}
	return LifecycleState(l>>12) + LifecycleUnknown
}

func (l Lifecycle) String() string {
	return fmt.Sprintf("0x%04x (%v)", uint64(l), l.State())
}

func (s LifecycleState) String() string {
	switch s {
	case LifecycleUnknown:
		return "unknown"
	case LifecycleAssemblyAndTest:
		return "assembly and test"
	case LifecycleRoTProvisioning:
		return "CCA platform RoT provisioning"
	case LifecycleSecured:
		return "secured"
	case LifecycleNonCCAPlatformDebug:
		return "non-CCA-platform debug"
	case LifecycleRecoverableCCAPlatformDebug:
		return "recoverable CCA-platform debug"
	case LifecycleDecommissioned:
		return "decommissioned"
	}
	return "invalid"
}

// Trustworthy is the default verdict on a state: only secured is
// trustworthy. Non-CCA-platform debug leaves the CCA platform RoT intact
// but enables debug outside it; whether to accept that is a policy decision
// (see Debug).
func (s LifecycleState) Trustworthy() bool { return s == LifecycleSecured }

// Debug reports whether the state has some debug enabled.
func (s LifecycleState) Debug() bool {
	return s == LifecycleNonCCAPlatformDebug || s == LifecycleRecoverableCCAPlatformDebug
}
