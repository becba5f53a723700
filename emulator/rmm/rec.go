package rmm

// recState: a REC is READY or RUNNING (cca-rmm-1.0.md §6.1).
type recState uint8

const (
	recReady recState = iota
	recRunning
)

// recDesc is what the RMM keeps of a REC, in its REC granule.
type recDesc struct {
	addr     uint64
	owner    uint64 // RD address
	index    uint64 // from MPIDR (cca-rmm-1.0.md §2 RmiRecParams)
	mpidr    uint64
	state    recState
	runnable bool
	pc       uint64
	gprs     [31]uint64
	aux      []uint64

	// A pending RSI_IPA_STATE_SET: the REC exited with RIPAS_CHANGE and
	// the host answers with RMI_RTT_SET_RIPAS calls. ripasAddr is the
	// progress so far (each SET_RIPAS must start there), ripasTop the
	// requested top (cca-rmm-1.0.md §3.4).
	ripasPending   bool
	ripasAddr      uint64
	ripasTop       uint64
	ripasValue     uint8
	ripasDestroyed bool // RSI_CHANGE_DESTROYED was given
}
