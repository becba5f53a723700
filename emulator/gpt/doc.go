// Package gpt emulates the physical address spaces of an Arm CCA machine:
// physical memory, the Granule Protection Table (GPT) that EL3 keeps in Root
// memory, and the Granule Protection Check (GPC) applied to every access.
//
// Memory is made of 4 KB granules whose storage is attached on first write;
// untouched memory reads as zeros, and zeroing a granule (ZeroGranule, a
// whole-granule write of zeros) or switching the memory off
// (Memory.Release) gives its storage back. Storage is recycled across every
// Memory of the process, in 2 MB slabs handed out in address order, and a
// recycled block is cleared or wholly overwritten under the granule's lock
// before any access sees it. A granule copy (Table.CopyGranule, the
// platform's copy primitive for RMI_DATA_CREATE) makes the destination
// share the source's storage; the first write to any granule sharing a
// block gives it a block of its own, so no write ever shows in another
// granule (copy on write).
//
// Table is the GPT as the architecture defines it (Arm DEN0129 and the Arm ARM DDI 0487 GPC chapter; TF-A
// lib/gpt_rme; QEMU target/arm/ptw.c for the check): GPCCR_EL3 and GPTBR_EL3
// values, L0 block and table descriptors, L1 granules and contiguous
// descriptors, the architectural GPI encodings. The descriptors live in the
// bytes of the emulated memory (the GPT memory, which the monitor places in
// a Root region) and every check reads them from there; there is no side
// structure standing in for the table. The GPT memory is kept as an array of
// 64-bit words so that a check is two indexed, lock-free, single-copy-atomic
// loads; bus accesses to that memory go to the same words.
//
// Check, Read and Write apply the GPC for a security state and a target PAS:
// the state must be able to emit the PAS (Root: any; Realm: Realm, NS;
// Secure: Secure, NS; Non-secure: NS), and the granule's GPI must be ANY or
// that PAS. A refused access returns a *Fault (errors.Is(err, ErrGPF); walk
// faults also match ErrWalk) and copies nothing, even when it spans granules.
// Each granule is checked again while its lock is held, and a transition
// waits for the accesses in flight on its granule, so no access can use a
// stale check (the emulator's "TLBI RPALOS; DSB").
//
// The table builders (MapBlock, MapGranules) and the transitions (Delegate,
// Undelegate, after TF-A gpt_delegate_pas/gpt_undelegate_pas) change the
// table. Only the EL3 monitor, emulator/monitor, calls them.
//
// Only the 4 KB granule size (PGS 0) is emulated; GPCCR encodes and
// validates the 16 KB and 64 KB encodings too.
package gpt
