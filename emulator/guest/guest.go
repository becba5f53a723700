// Package guest is the realm side of the emulated machine's users: what a
// guest kernel does over RSI, written as it is in Linux
// (arch/arm64/include/asm/rsi_cmds.h, drivers/virt/coco/arm-cca-guest),
// for realm software registered with emulator.Machine.SetRealmProgram.
package guest

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ccakit/cca/emulator/rmm"
)

// ErrRSI: an RSI call returned an unexpected status.
var ErrRSI = errors.New("guest: RSI call failed")

// rsiError describes a failed call.
func rsiError(call string, x0 uint64) error {
	return fmt.Errorf("%w: %s returned %s", ErrRSI, call, rmm.RSIStatusName(x0))
}

// Challenge packs a 32..64-byte challenge into X1..X8 the way Linux does:
// zero-padded to 64 bytes, byte i in X(1+i/8), little-endian.
func Challenge(c []byte) ([8]uint64, error) {
	var regs [8]uint64
	if len(c) < 32 || len(c) > 64 {
		return regs, fmt.Errorf("guest: challenge of %d bytes (must be 32..64)", len(c))
	}
	var b [64]byte
	copy(b[:], c)
	for i := range regs {
		regs[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return regs, nil
}

// AttestationToken asks the RMM for an attestation token over challenge,
// with the loop of Linux's arm_cca_report_new: RSI_ATTESTATION_TOKEN_INIT,
// then RSI_ATTESTATION_TOKEN_CONTINUE into the granule at bufIPA with an
// offset into it, one granule at a time, while the RMM answers
// RSI_INCOMPLETE; after each granule the bytes are copied out.
func AttestationToken(cpu rmm.RealmCPU, challenge []byte, bufIPA uint64) ([]byte, error) {
	regs, err := Challenge(challenge)
	if err != nil {
		return nil, err
	}
	x := cpu.SMC(rmm.RSIAttestationTokenInit, regs[:]...)
	if x[0] != rmm.RSISuccess {
		return nil, rsiError("RSI_ATTESTATION_TOKEN_INIT", x[0])
	}
	maxSize := x[1]
	var token []byte
	page := make([]byte, rmm.GranuleSize)
	for {
		var offset uint64
		status := uint64(rmm.RSIIncomplete)
		for status == rmm.RSIIncomplete && offset < rmm.GranuleSize {
			x = cpu.SMC(rmm.RSIAttestationTokenContinue, bufIPA, offset, rmm.GranuleSize-offset)
			status = x[0]
			if status != rmm.RSISuccess && status != rmm.RSIIncomplete {
				return nil, rsiError("RSI_ATTESTATION_TOKEN_CONTINUE", status)
			}
			// X1 is the number of bytes written, at most the size asked
			// for (Arm DEN0137 1.0-REL0, RSI_ATTESTATION_TOKEN_CONTINUE);
			// an RMM answering more is an error, not a slice panic.
			// RSI_INCOMPLETE with nothing written is normal: signing was
			// interrupted and goes on at the next call (TF-RMM
			// rmm-spec-v1.0-rel0 runtime/rsi/realm_attest.c).
			if x[1] > rmm.GranuleSize-offset {
				return nil, fmt.Errorf("%w: RSI_ATTESTATION_TOKEN_CONTINUE wrote %d bytes at offset %d of a %d-byte buffer", ErrRSI, x[1], offset, rmm.GranuleSize)
			}
			offset += x[1]
		}
		if err := cpu.Read(bufIPA, page[:offset]); err != nil {
			return nil, err
		}
		token = append(token, page[:offset]...)
		if uint64(len(token)) > maxSize && maxSize != 0 {
			return nil, fmt.Errorf("guest: token exceeds the %d bytes RSI_ATTESTATION_TOKEN_INIT announced", maxSize)
		}
		if status == rmm.RSISuccess {
			return token, nil
		}
	}
}

// MeasurementRead reads measurement slot index (0 = RIM, 1..4 = REMs) as 64
// bytes.
func MeasurementRead(cpu rmm.RealmCPU, index uint64) ([64]byte, error) {
	var m [64]byte
	x := cpu.SMC(rmm.RSIMeasurementRead, index)
	if x[0] != rmm.RSISuccess {
		return m, rsiError("RSI_MEASUREMENT_READ", x[0])
	}
	for i := range 8 {
		binary.LittleEndian.PutUint64(m[8*i:], x[1+i])
	}
	return m, nil
}

// MeasurementExtend extends REM index (1..4) with up to 64 bytes.
func MeasurementExtend(cpu rmm.RealmCPU, index uint64, value []byte) error {
	if len(value) > 64 {
		return fmt.Errorf("guest: %d bytes is more than one extension takes", len(value))
	}
	var b [64]byte
	copy(b[:], value)
	args := []uint64{index, uint64(len(value))}
	for i := range 8 {
		args = append(args, binary.LittleEndian.Uint64(b[8*i:]))
	}
	if x := cpu.SMC(rmm.RSIMeasurementExtend, args...); x[0] != rmm.RSISuccess {
		return rsiError("RSI_MEASUREMENT_EXTEND", x[0])
	}
	return nil
}

// HostCall makes an RSI_HOST_CALL with the structure at ipa (0x100-aligned,
// in the PAR): imm and x0..x30 go to the host; the host's answer is
// returned.
func HostCall(cpu rmm.RealmCPU, ipa uint64, imm uint16, gprs [31]uint64) ([31]uint64, error) {
	var b [rmm.HostCallSize]byte
	binary.LittleEndian.PutUint16(b[rmm.HostCallImm:], imm)
	for i, g := range gprs {
		binary.LittleEndian.PutUint64(b[rmm.HostCallGPRs+8*i:], g)
	}
	if err := cpu.Write(ipa, b[:]); err != nil {
		return gprs, err
	}
	if x := cpu.SMC(rmm.RSIHostCall, ipa); x[0] != rmm.RSISuccess {
		return gprs, rsiError("RSI_HOST_CALL", x[0])
	}
	if err := cpu.Read(ipa, b[:]); err != nil {
		return gprs, err
	}
	var out [31]uint64
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[rmm.HostCallGPRs+8*i:])
	}
	return out, nil
}
