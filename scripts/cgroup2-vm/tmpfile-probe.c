/* tmpfile-probe DIR: prints whether DIR's file system takes O_TMPFILE ("yes" or the errno's name), as the exec
 * helper's first choice needs (ExecHelper.swift). Built static into the cgroup v2 VM by scripts/cgroup2-vm/lib.sh. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: tmpfile-probe DIR\n"); return 2; }
    int fd = open(argv[1], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) { puts("yes"); return 0; }
    printf("no (%s)\n", strerror(errno));
    return 1;
}
