/* Test scaffolding only, never shipped: a stand-in for bcryptprimitives.dll, which Wine 8.0
 * lacks. Every Rust >= 1.78 Windows binary imports its ProcessPrng (so does the Windows Claude
 * Code CLI); without it they exit at once under Wine. `cargo xtask test` builds this with the
 * MinGW compiler and puts it beside the executables it runs under Wine. ProcessPrng is served
 * by RtlGenRandom (advapi32's SystemFunction036), the system's random number generator. */
#include <windows.h>

BOOLEAN NTAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
