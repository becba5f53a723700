// Package accesscode is the form of the shared-memory access code that a
// realm hands to the RMM in the inter-realm sharing extension
// (docs/sharing.md §5): a small register machine, its binary image, the
// static verifier the RMM runs before it loads the code, and the
// interpreter that runs verified code against the shared region and the
// caller's argument buffer.
//
// The design follows You and Paek, "Secure and Efficient Memory Sharing on
// ARM Confidential Compute Architecture" (the RMM, as a trusted
// coordinator, checks the access code and runs it atomically on the shared
// memory). What the verifier proves about a program it accepts:
//
//   - termination with a static bound: branches only go forward; the only
//     repetition is LOOP, whose count is an immediate (at most MaxLoopCount)
//     and whose body is a contiguous block; the worst-case number of executed
//     instructions (Program.MaxSteps) and of bytes moved (Program.MaxMoved)
//     are computed and bounded by MaxSteps and MaxMoved;
//   - confinement: every load, store and copy stays inside the region and
//     the argument window, proven by an interval analysis of the registers
//     (with the refinements forward branches give), so no access can fault
//     and no bounds check is needed at run time (the interpreter keeps one
//     anyway, as a second line of defence);
//   - no self-modification: code lives in neither address space a program
//     can name (a Harvard machine), and the RMM runs its own copy, whose
//     SHA-256 it reports; what the realm does to its copy after loading is
//     irrelevant.
//
// Because a verified program cannot fault and always terminates, running it
// under the region lock makes it atomic with respect to every other sharer:
// it either has not started or has finished.
package accesscode
