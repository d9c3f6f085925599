/* Test scaffolding, never shipped: holds a file open without sharing it, as an editor, a sync
 * client or a backup tool can on Windows, so that the Windows suite can check what Tandem does
 * when it cannot replace a config file. Prints "held" once the file is open, and lets it go when
 * its standard input closes. Built by `cargo xtask test` with the MinGW compiler. */
#include <stdio.h>
#include <windows.h>

int wmain(int argc, wchar_t **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: hold FILE\n");
        return 2;
    }
    HANDLE file = CreateFileW(argv[1], GENERIC_READ, 0, NULL, OPEN_EXISTING,
                              FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "cannot open the file: error %lu\n", GetLastError());
        return 1;
    }
    printf("held\n");
    fflush(stdout);
    char buf[64];
    while (fread(buf, 1, sizeof buf, stdin) > 0) {
    }
    CloseHandle(file);
    return 0;
}
