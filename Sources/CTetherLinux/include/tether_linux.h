// Raw Linux syscall wrappers that Swift cannot call directly: variadic functions (prctl, ioctl, fcntl),
// syscalls glibc does not wrap (pivot_root, pidfd_*, close_range on old glibc), macros (WIFEXITED, makedev,
// CMSG_*), and a fork-like clone that takes namespace flags. Every function returns -1 and sets errno on failure.
#ifndef TETHER_LINUX_H
#define TETHER_LINUX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#if defined(__linux__)
// Headers the Glibc module does not bring in, re-exported to Swift through this module.
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/sched.h>
#endif

#if defined(__linux__)

/// clone(2) without CLONE_VM: like fork(), but the child starts in new namespaces (CLONE_NEW* in `flags`).
/// Returns the child's pid in the parent and 0 in the child. The caller must be single-threaded.
pid_t tether_clone_fork(unsigned long flags);
/// clone3(2) with CLONE_INTO_CGROUP: the child starts in the cgroup v2 directory `cgroup_fd` (no migration, so no
/// wait on cgroup_threadgroup_rwsem). Falls back to tether_clone_fork when clone3 or the placement is refused
/// (older kernel, a v1 fd, a cgroup that cannot take processes); `*placed` says which happened (parent side).
pid_t tether_clone_into_cgroup(unsigned long flags, int cgroup_fd, int *placed);

/// bpf(BPF_PROG_LOAD) of a BPF_PROG_TYPE_CGROUP_DEVICE program (`count` 8-byte instructions); the verifier's
/// log goes to `log` when given. Returns the program fd.
int tether_bpf_load_device_filter(const void *instructions, int count, char *log, int log_size);
/// bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) of `program_fd` to the cgroup v2 directory `cgroup_fd`.
int tether_bpf_attach_device_filter(int cgroup_fd, int program_fd);
/// bpf(BPF_PROG_QUERY, BPF_CGROUP_DEVICE): the ids of the device programs attached to `cgroup_fd` itself (not
/// inherited ones), at most `capacity` into `ids`. Returns how many there are (fails with ENOSPC above `capacity`).
int tether_bpf_query_device_filters(int cgroup_fd, uint32_t *ids, uint32_t capacity);
/// bpf(BPF_PROG_GET_FD_BY_ID): an fd for the loaded program `id`.
int tether_bpf_program_fd(uint32_t id);
/// bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI | BPF_F_REPLACE): `program_fd` takes the place of
/// `old_program_fd` in one step (Linux ≥ 5.6; EINVAL before).
int tether_bpf_replace_device_filter(int cgroup_fd, int program_fd, int old_program_fd);
/// bpf(BPF_PROG_DETACH, BPF_CGROUP_DEVICE) of `program_fd` from `cgroup_fd`.
int tether_bpf_detach_device_filter(int cgroup_fd, int program_fd);

int tether_pivot_root(const char *new_root, const char *put_old);
int tether_setns(int fd, int nstype);
int tether_unshare(int flags);
int tether_pidfd_open(pid_t pid, unsigned int flags);
int tether_pidfd_send_signal(int pidfd, int sig);
int tether_close_range(unsigned int first, unsigned int last, unsigned int flags);
/// Marks every fd >= `first` close-on-exec (close_range with CLOSE_RANGE_CLOEXEC, or a /proc/self/fd walk).
int tether_cloexec_from(int first);
int tether_memfd_create(const char *name, unsigned int flags);
/// A close-on-exec memfd that can be sealed (MFD_CLOEXEC | MFD_ALLOW_SEALING).
int tether_memfd_create_sealable(const char *name);
/// Seals a memfd against every change: write, grow, shrink, and further seals.
int tether_memfd_seal_all(int fd);
/// open(directory, O_TMPFILE | O_RDWR | O_CLOEXEC, mode): a file without a name in `directory`'s file system.
int tether_open_unnamed_file(const char *directory, unsigned int mode);
/// A close-on-exec O_PATH descriptor of a detached, read-only, nosuid, nodev bind mount of the file at `path`
/// (open_tree with OPEN_TREE_CLONE, then mount_setattr): a file that no one can open for writing through it.
/// `path` may be a /proc/self/fd link to an unnamed (O_TMPFILE) file: the mount keeps it.
int tether_open_read_only_clone(const char *path);
/// execveat(fd, "", argv, envp, AT_EMPTY_PATH): executes the file `fd` refers to; returns only on failure.
int tether_execveat_fd(int fd, char *const argv[], char *const envp[]);
pid_t tether_gettid(void);

// prctl
int tether_set_child_subreaper(int on);
int tether_set_dumpable(int on);
int tether_get_dumpable(void);
int tether_set_no_new_privs(void);
int tether_set_pdeathsig(int sig);
int tether_set_name(const char *name);
int tether_cap_ambient_raise(int cap);
int tether_cap_ambient_clear_all(void);
int tether_cap_bset_drop(int cap);
int tether_cap_bset_read(int cap);
int tether_set_keepcaps(int on);

// seccomp: load an already-compiled classic BPF program (struct sock_filter array).
int tether_seccomp_load(const void *filter, unsigned short count, unsigned int flags);

// fcntl / ioctl
int tether_set_cloexec(int fd, int on);
int tether_set_nonblock(int fd, int on);
int tether_get_winsize(int fd, unsigned short *rows, unsigned short *cols);
int tether_set_winsize(int fd, unsigned short rows, unsigned short cols);
int tether_set_ctty(int fd);
int tether_unlock_pt(int fd);
int tether_pty_peer(int master, int flags);
int tether_pipe_size(int fd, int size);
/// splice(2) from pipe `in` to pipe (or FIFO) `out`, up to `len` bytes, without blocking on either end.
long tether_splice_nonblocking(int in, int out, unsigned long len);
/// The bytes waiting in a pipe (FIONREAD), or -1.
int tether_pipe_pending(int fd);
/// malloc_trim(0): gives free heap pages back to the kernel; 1 when some were.
int tether_release_free_memory(void);
int tether_pipe2(int fds[2], int flags);
int tether_accept4(int sock, int flags);
int tether_dup3(int oldfd, int newfd, int flags);

// SCM_RIGHTS
ssize_t tether_send_fds(int sock, const void *data, size_t len, const int *fds, int nfds);
/// Receives data and up to `maxfds` fds; `*nfds` is set to the number received. Received fds are CLOEXEC.
ssize_t tether_recv_fds(int sock, void *data, size_t len, int *fds, int maxfds, int *nfds);
/// SO_PEERCRED of a connected unix socket.
int tether_peer_cred(int sock, pid_t *pid, uid_t *uid, gid_t *gid);

// wait status decoding (macros in C)
int tether_wifexited(int status);
int tether_wexitstatus(int status);
int tether_wifsignaled(int status);
int tether_wtermsig(int status);
int tether_wifstopped(int status);

dev_t tether_makedev(unsigned int major, unsigned int minor);
unsigned int tether_major(dev_t dev);
unsigned int tether_minor(dev_t dev);

/// setrlimit(2) with an int resource (Glibc imports the resource as an enum). RLIM_INFINITY is UINT64_MAX.
int tether_setrlimit(int resource, uint64_t soft, uint64_t hard);

/// setresuid/setresgid with one id for real, effective and saved (glibc hides them without _GNU_SOURCE).
int tether_setresuid(uid_t uid);
int tether_setresgid(gid_t gid);

/// Number of threads of the calling process (entries of /proc/self/task), or -1.
int tether_thread_count(void);

#endif
#endif
