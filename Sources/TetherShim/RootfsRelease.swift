#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import TetherSystem

/// Unmounts a container's rootfs on Delete without making the shim wait for the filesystem's shutdown.
/// `umount2(MNT_DETACH)` takes the mount out of the mount table at once, but the superblock is shut down by
/// whichever process drops the last reference to it, and for overlayfs that shutdown syncs the whole upper
/// filesystem (every dirty inode on it and a journal commit: tens of ms on a busy disk). The shim holds that last
/// reference (a descriptor of the directory opened before the detach) and hands it to a forked child, which drops it after
/// the shim has closed its copy: the sync runs in the child while the shim answers Delete. The mount is gone from
/// the table before the answer, so a manager that removes the bundle next finds an empty directory.
enum RootfsRelease {
    /// Detaches every mount stacked on `target`; returns the pid of the child left to finish them (reap it and
    /// forget it), or nil when there was nothing to finish or the fork failed (then the shim finished them).
    static func unmount(_ target: String) -> Int32? {
        var held: [Int32] = []
        while true {
            let fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if umount2(target, Int32(MNT_DETACH)) != 0 {
                if fd >= 0 { FileIO.close(fd) }
                break
            }
            if fd >= 0 { held.append(fd) }
        }
        if held.isEmpty { return nil }
        guard let (readEnd, writeEnd) = try? FileIO.pipe() else {
            for fd in held { FileIO.close(fd) }
            return nil
        }
        let kept = (held + [readEnd]).sorted()
        let pid = fork()
        if pid == 0 {
            // Holds nothing else of the shim's (no socket, pipe or FIFO of its peers stays open because of it),
            // and waits until the shim closed its copies (EOF on the pipe): the exit drops the last references.
            var next: UInt32 = 0
            for fd in kept {
                if UInt32(fd) > next { _ = tether_close_range(next, UInt32(fd) - 1, 0) }
                next = UInt32(fd) + 1
            }
            _ = tether_close_range(next, UInt32.max, 0)
            var byte: UInt8 = 0
            while Glibc.read(readEnd, &byte, 1) < 0 && errno == EINTR {}
            _exit(0)
        }
        for fd in held { FileIO.close(fd) }
        FileIO.close(writeEnd)
        FileIO.close(readEnd)
        return pid > 0 ? pid : nil
    }
}
