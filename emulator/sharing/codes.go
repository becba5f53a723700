package sharing

import (
	"fmt"

	"github.com/ccakit/cca/emulator/rmm/accesscode"
)

// Access codes of the workloads (docs/sharing.md §5.4), generated for a
// ring geometry. All are verified by the RMM at load; the comments say what
// the verifier needs to see.

// Ring layout in a region (and, for the NS-memory modes, in NS memory):
// head u64 at 0 (messages produced), tail u64 at 8 (messages consumed),
// slots from RingSlots, each a u64 length and SlotSize data bytes.
const (
	RingHead  = 0
	RingTail  = 8
	RingSlots = 64
)

// Ring is a ring geometry.
type Ring struct {
	Slots    int // capacity in messages
	SlotSize int // largest message
}

// Stride is the bytes per slot.
func (g Ring) Stride() int { return 8 + g.SlotSize }

// Bytes is the ring's size.
func (g Ring) Bytes() int { return RingSlots + g.Slots*g.Stride() }

// Granules is the region size the ring needs.
func (g Ring) Granules() int { return (g.Bytes() + 4095) / 4096 }

// Slot is the offset of slot i (of message number i).
func (g Ring) Slot(i uint64) int { return RingSlots + int(i%uint64(g.Slots))*g.Stride() }

// Put is the producer's access code: r0 = 0 sent, 1 ring full, 2 message
// longer than a slot. The argument is the message; its length (r4) is
// bounded by the slot size before the copy, which is what lets the
// verifier prove the copy stays inside the slot.
func (g Ring) Put() ([]byte, error) {
	return accesscode.Assemble(fmt.Sprintf(`
	.arg %[2]d
	ldr8 r5, [%[4]d]          ; head
	ldr8 r6, [%[5]d]          ; tail
	sub r7, r5, r6
	jgei r7, %[1]d, full
	jgti r4, %[2]d, toolong
	modi r8, r5, %[1]d        ; slot index in [0, slots)
	muli r8, r8, %[3]d
	addi r8, r8, %[6]d
	str8 r4, [r8]
	addi r9, r8, 8
	movi r10, 0
	cpin r9, r10, r4
	addi r5, r5, 1
	str8 r5, [%[4]d]
	movi r0, 0
	exit
full:
	movi r0, 1
	exit
toolong:
	movi r0, 2
`, g.Slots, g.SlotSize, g.Stride(), RingHead, RingTail, RingSlots))
}

// Get is the consumer's access code: r0 = 0 received (r1 = length), 1
// ring empty, 2 buffer too small, 3 corrupt length. The length comes from
// the region, written by another member: it is checked against the slot
// size and the caller's buffer before the copy.
func (g Ring) Get() ([]byte, error) {
	return accesscode.Assemble(fmt.Sprintf(`
	.arg %[2]d
	ldr8 r5, [%[4]d]
	ldr8 r6, [%[5]d]
	jeq r5, r6, empty
	modi r8, r6, %[1]d
	muli r8, r8, %[3]d
	addi r8, r8, %[6]d
	ldr8 r7, [r8]
	jgti r7, %[2]d, corrupt
	jgt r7, r4, small
	addi r9, r8, 8
	movi r10, 0
	cpout r10, r9, r7
	addi r6, r6, 1
	str8 r6, [%[5]d]
	movi r0, 0
	mov r1, r7
	exit
empty:
	movi r0, 1
	exit
small:
	movi r0, 2
	exit
corrupt:
	movi r0, 3
`, g.Slots, g.SlotSize, g.Stride(), RingHead, RingTail, RingSlots))
}

// PutBatch is Put for up to batch messages in one invocation (batching:
// one exit for several operations). The argument holds `count` records of
// a u64 length and SlotSize bytes; r0 = count on entry; on exit r0 = the
// number of messages sent (stopping at a full ring or a bad length).
func (g Ring) PutBatch(batch int) ([]byte, error) {
	rec := 8 + g.SlotSize
	return accesscode.Assemble(fmt.Sprintf(`
	.arg %[7]d
	movi r11, 0               ; sent
	loop r12, %[8]d, end
	jge r12, r0, done         ; only the first r0 records
	ldr8 r5, [%[4]d]
	ldr8 r6, [%[5]d]
	sub r7, r5, r6
	jgei r7, %[1]d, done
	muli r13, r12, %[9]d      ; record offset in the argument
	lda8 r14, [r13]           ; record length
	jgti r14, %[2]d, done
	modi r8, r5, %[1]d
	muli r8, r8, %[3]d
	addi r8, r8, %[6]d
	str8 r14, [r8]
	addi r9, r8, 8
	addi r10, r13, 8
	cpin r9, r10, r14
	addi r5, r5, 1
	str8 r5, [%[4]d]
	addi r11, r11, 1
end:
	jmp done                  ; after the last pass; jumps to done leave the loop
done:
	mov r0, r11
`, g.Slots, g.SlotSize, g.Stride(), RingHead, RingTail, RingSlots, batch*rec, batch, rec))
}

// GetBatch is Get for up to batch messages in one invocation: r0 = the
// number wanted on entry (at most batch); the argument receives records of
// a u64 length and SlotSize bytes; on exit r0 = the number received
// (stopping at an empty ring or a corrupt length).
func (g Ring) GetBatch(batch int) ([]byte, error) {
	rec := 8 + g.SlotSize
	return accesscode.Assemble(fmt.Sprintf(`
	.arg %[7]d
	movi r11, 0               ; received
	loop r12, %[8]d, end
	jge r12, r0, done         ; only the first r0 records
	ldr8 r5, [%[4]d]
	ldr8 r6, [%[5]d]
	jeq r5, r6, done          ; empty
	modi r8, r6, %[1]d
	muli r8, r8, %[3]d
	addi r8, r8, %[6]d
	ldr8 r7, [r8]             ; length, written by the other member
	jgti r7, %[2]d, done      ; bounded before the copy
	muli r13, r12, %[9]d      ; record offset in the argument
	sta8 r7, [r13]
	addi r9, r8, 8
	addi r10, r13, 8
	cpout r10, r9, r7
	addi r6, r6, 1
	str8 r6, [%[5]d]
	addi r11, r11, 1
end:
	jmp done
done:
	mov r0, r11
`, g.Slots, g.SlotSize, g.Stride(), RingHead, RingTail, RingSlots, batch*rec, batch, rec))
}

// Add is the lock-contention workload's code: the region holds a u64
// counter at 0 and a u64 log index at 8 followed by a log of u64 entries;
// each call adds r0 to the counter and appends the caller's tag (r1) to
// the log (entries wrap at logSize). r0 = the counter's new value. The
// read-modify-write is atomic because the RMM runs the code under its
// lock: no update can be lost, whoever else hammers the region.
func Add(logSize int) ([]byte, error) {
	return accesscode.Assemble(fmt.Sprintf(`
	ldr8 r5, [0]
	add r5, r5, r0
	str8 r5, [0]
	ldr8 r6, [8]
	modi r7, r6, %[1]d
	shli r7, r7, 3
	str8 r1, [r7+16]
	addi r6, r6, 1
	str8 r6, [8]
	mov r0, r5
`, logSize))
}

// AddRegionBytes is the region size Add(logSize) needs.
func AddRegionBytes(logSize int) int { return 16 + 8*logSize }

// Key–value table of the client–server workload: `buckets` entries of a u64
// key (0 = empty) and a value of valSize bytes, open addressing from
// (key·2654435761 + i) mod buckets, probing at most `probe` entries.
type Table struct {
	Buckets, ValSize, Probe int
}

func (t Table) entry() int { return 8 + t.ValSize }

// Bytes is the region size the table needs.
func (t Table) Bytes() int { return t.Buckets * t.entry() }

// probe is the probe loop Put and Get share: for i below Probe, r5 is the
// offset of entry (key r0 · 2654435761 + i) mod Buckets and r6 its key;
// the caller's loop body follows, up to its label next.
func (t Table) probe() string {
	return fmt.Sprintf(`	muli r11, r0, 2654435761  ; Knuth's multiplicative hash
	loop r9, %[2]d, next
	add r5, r11, r9
	modi r5, r5, %[1]d
	muli r5, r5, %[3]d
	ldr8 r6, [r5]`, t.Buckets, t.Probe, t.entry())
}

// Put stores the argument (valSize bytes) under key r0 (≠ 0): r0 = 0
// stored, 1 table full along the probe sequence.
func (t Table) Put() ([]byte, error) {
	return accesscode.Assemble(fmt.Sprintf(`
	.arg %[1]d
	jeqi r0, 0, full
%[2]s
	jeq r6, r0, store
	jeqi r6, 0, store
next:
full:
	movi r0, 1
	exit
store:
	str8 r0, [r5]
	addi r7, r5, 8
	movi r8, 0
	movi r10, %[1]d
	cpin r7, r8, r10
	movi r0, 0
`, t.ValSize, t.probe()))
}

// Get copies the value of key r0 into the argument: r0 = 0 found, 1 not
// found.
func (t Table) Get() ([]byte, error) {
	return accesscode.Assemble(fmt.Sprintf(`
	.arg %[1]d
	jeqi r0, 0, missing
%[2]s
	jeq r6, r0, found
	jeqi r6, 0, missing       ; an empty entry ends the probe: beyond the body, a break
next:
	jmp missing
missing:
	movi r0, 1
	exit
found:
	addi r7, r5, 8
	movi r8, 0
	movi r10, %[1]d
	cpout r8, r7, r10
	movi r0, 0
`, t.ValSize, t.probe()))
}
