import Foundation
import Testing

/// Issue 12, item 4: the default seccomp profile denies io_uring (as Docker 25+), and `seccomp=unconfined` lifts it.
@Suite("tetherd's default seccomp profile", .serialized)
struct DaemonSeccompTests {
    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func ioUringSetupIsDeniedByDefault() throws {
        let daemon = try DaemonTests.DaemonFixture()
        let probe = "/usr/local/bin/io-uring-probe"
        let confined = try daemon.ctl(["run", "--rm", TestEnvironment.rootfs, probe])
        #expect(confined.status == 0, "\(confined)")
        #expect(confined.stdout == "io_uring_setup: errno=EPERM\n", "\(confined)")
        // Unconfined, the kernel answers (ok, or ENOSYS/EINVAL on a kernel without io_uring): never the filter's EPERM.
        let unconfined = try daemon.ctl(["run", "--rm", "--security-opt", "seccomp=unconfined", TestEnvironment.rootfs, probe])
        #expect(unconfined.status == 0, "\(unconfined)")
        #expect(unconfined.stdout.hasPrefix("io_uring_setup: "), "\(unconfined)")
        #expect(!unconfined.stdout.contains("EPERM"), "\(unconfined)")
        // What Docker allows still works under the same profile (a 64-bit busybox using the usual calls).
        let usual = try daemon.ctl(["run", "--rm", TestEnvironment.rootfs, "/bin/sh", "-c", "echo ok > /tmp/f && cat /tmp/f"])
        #expect(usual.stdout == "ok\n", "\(usual)")
    }
}
