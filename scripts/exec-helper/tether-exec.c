// tether-exec: the program a container process runs just before its own, so that no process of ours enters a
// container from a writable host file (CVE-2019-5736). The runtime runs it with execveat from a read-only
// bind mount of a copy it keeps (or a sealed memfd), after everything else is set up; it only execs.
//   argv: "tether-exec" PATH ARGV0 ARGV1 ...   ->   execve(PATH, [ARGV0, ARGV1, ...], envp)
// Run any other way (a `#!/proc/self/exe` script in the container makes the kernel run it with another argv[0])
// it refuses and exits 127. No libc: static, freestanding, x86_64 Linux syscalls, a few hundred bytes.
// Rebuilt into Sources/TetherRuntime/ExecHelperImage.swift by `make exec-helper` (scripts/exec-helper/generate.sh).
#include <asm/unistd.h>
#include <asm-generic/errno.h>

#if !defined(__x86_64__)
#error "tether-exec is written for x86_64"
#endif

static long syscall3(long number, long a, long b, long c) {
    long result;
    __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return result;
}

static unsigned long length(const char *s) {
    unsigned long n = 0;
    while (s[n]) n++;
    return n;
}

static void say(const char *s) { syscall3(__NR_write, 2, (long)s, (long)length(s)); }

static __attribute__((noreturn)) void leave(int code) {
    for (;;) syscall3(__NR_exit_group, code, 0, 0);
}

// Go's texts for the errors an execve can return, as runc prints them.
static const char *describe(long error) {
    switch (error) {
    case ENOENT: return "no such file or directory";
    case EACCES: return "permission denied";
    case EPERM: return "operation not permitted";
    case ENOEXEC: return "exec format error";
    case ENOTDIR: return "not a directory";
    case EISDIR: return "is a directory";
    case ETXTBSY: return "text file busy";
    case E2BIG: return "argument list too long";
    case ENOMEM: return "cannot allocate memory";
    case ELOOP: return "too many levels of symbolic links";
    case ENAMETOOLONG: return "file name too long";
    case ELIBBAD: return "accessing a corrupted shared library";
    default: return "exec failed";
    }
}

__attribute__((used, noreturn)) void tether_exec_main(long *stack) {
    long argc = stack[0];
    char **argv = (char **)(stack + 1);
    char **envp = argv + argc + 1;
    static const char marker[] = "tether-exec";
    int ours = argc >= 3;
    for (unsigned long i = 0; ours && i < sizeof marker; i++) ours = argv[0][i] == marker[i];
    if (!ours) {
        say("tether-exec: not to be run directly\n");
        leave(127);
    }
    long error = -syscall3(__NR_execve, (long)argv[1], (long)(argv + 2), (long)envp);
    say("tether-runtime: exec: exec ");
    say(argv[1]);
    say(": ");
    say(describe(error));
    say("\n");
    leave(error == ENOENT ? 127 : (error == EACCES ? 126 : 1));
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call tether_exec_main\n"
        "  hlt\n");
