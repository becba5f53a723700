package rmm

import "encoding/binary"

func init() { registerRSI(RSIHostCall, rsiHostCall) }

// RSI_HOST_CALL(X1 = IPA of an RsiHostCall): the REC exits with
// RMI_EXIT_HOST_CALL carrying imm and gprs[0..30] from the structure; on
// the next entry the host's enter.gprs[0..30] are copied back into it and
// X0 = RSI_SUCCESS (Arm DEN0137 1.0-REL0 B5.3.4). The IPA must be 0x100-aligned (so
// the structure cannot cross a granule) and in the PAR: addr_align,
// addr_bound → RSI_ERROR_INPUT.
func rsiHostCall(c *realmCPU, x *[11]uint64) [9]uint64 {
	ipa := x[0]
	if ipa%HostCallSize != 0 || ipa >= c.rl.parTop() {
		return rsiReturn(x, RSIErrorInput)
	}
	var buf [HostCallSize]byte
	if err := c.Read(ipa, buf[:]); err != nil {
		return rsiReturn(x, RSIErrorInput)
	}
	le := binary.LittleEndian
	exit := recExit{reason: ExitHostCall, imm: uint64(le.Uint16(buf[HostCallImm:]))}
	for i := range HostCallNumGPRs {
		exit.gprs[i] = le.Uint64(buf[HostCallGPRs+8*i:])
	}
	e := c.exitToHost(exit)
	for i := range HostCallNumGPRs {
		le.PutUint64(buf[HostCallGPRs+8*i:], e.gprs[i])
	}
	if err := c.Write(ipa+HostCallGPRs, buf[HostCallGPRs:]); err != nil {
		return rsiReturn(x, RSIErrorInput)
	}
	return rsiReturn(x, RSISuccess)
}
