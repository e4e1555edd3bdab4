// Tries to create an io_uring (io_uring_setup with 1 entry), which a default tetherd container's seccomp profile
// denies (as Docker 25+): io_uring performs reads, writes and connects that seccomp never sees.
//   usage: io-uring-probe
// Prints one line: "io_uring_setup: ok" or "io_uring_setup: errno=NAME" (EPERM: the filter; ENOSYS: no io_uring
// in this kernel; anything else: the kernel refused it for another reason).
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif

static const char *errno_name(int number) {
    switch (number) {
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case ENOMEM: return "ENOMEM";
    case EMFILE: return "EMFILE";
    case EACCES: return "EACCES";
    default: return "OTHER";
    }
}

int main(void) {
    // struct io_uring_params: 120 bytes, zeroed (the kernel fills in what it returns).
    unsigned char params[120];
    memset(params, 0, sizeof params);
    long fd = syscall(__NR_io_uring_setup, 1, params);
    if (fd >= 0) {
        close((int)fd);
        printf("io_uring_setup: ok\n");
    } else {
        printf("io_uring_setup: errno=%s\n", errno_name(errno));
    }
    return 0;
}
