#if canImport(Glibc)
import Glibc
#endif

/// posix_spawn attributes as containerd and runc spawn their helpers: the child's signal mask emptied and every
/// signal's disposition reset to the default, whatever the spawner blocks or ignores, plus the given flags.
public final class SpawnAttributes {
    /// POSIX_SPAWN_SETSID (glibc 2.26): a session of its own; spawn.h declares it for _GNU_SOURCE only.
    public static let setsid: Int32 = 0x80

    public var raw = posix_spawnattr_t()

    /// `flags`: more POSIX_SPAWN_* flags; with POSIX_SPAWN_SETPGROUP the child leads a process group of its own.
    public init(flags: Int32 = 0) {
        posix_spawnattr_init(&raw)
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&raw, &signals)
        sigfillset(&signals)
        posix_spawnattr_setsigdefault(&raw, &signals)
        if flags & Int32(POSIX_SPAWN_SETPGROUP) != 0 { posix_spawnattr_setpgroup(&raw, 0) }
        posix_spawnattr_setflags(&raw, Int16(Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | flags))
    }

    deinit { posix_spawnattr_destroy(&raw) }
}
