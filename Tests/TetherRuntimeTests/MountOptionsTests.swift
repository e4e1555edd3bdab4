#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import TetherRuntime

/// runc's mount option rules (libcontainer/specconv's mountPropagationMapping and parseMountOptions): options
/// apply in order, each flag option sets or clears its flag, propagation options are kept apart, the rest is data.
@Suite("mount options")
struct MountOptionsTests {
    @Test("suid, dev and exec clear the nosuid, nodev and noexec set before them")
    func laterOptionsClearEarlierFlags() {
        #expect(MountOptions(["nosuid", "nodev", "noexec"]).flags == MountFlag.noSuid | MountFlag.noDev | MountFlag.noExec)
        #expect(MountOptions(["nosuid", "suid"]).flags & MountFlag.noSuid == 0)
        #expect(MountOptions(["nodev", "dev"]).flags & MountFlag.noDev == 0)
        #expect(MountOptions(["noexec", "exec"]).flags & MountFlag.noExec == 0)
        #expect(MountOptions(["nosuid", "nodev", "noexec", "suid", "exec"]).flags == MountFlag.noDev)
    }

    @Test("the last of two opposite options wins")
    func orderMatters() {
        #expect(MountOptions(["suid", "nosuid"]).flags == MountFlag.noSuid)
        #expect(MountOptions(["ro", "rw"]).flags & MountFlag.readOnly == 0)
        #expect(MountOptions(["rw", "ro"]).flags == MountFlag.readOnly)
        #expect(MountOptions(["sync", "async"]).flags & MountFlag.synchronous == 0)
        #expect(MountOptions(["noatime", "atime"]).flags & MountFlag.noAtime == 0)
        #expect(MountOptions(["relatime", "norelatime"]).flags & MountFlag.relatime == 0)
        #expect(MountOptions(["strictatime", "nostrictatime"]).flags & MountFlag.strictAtime == 0)
        #expect(MountOptions(["mand", "nomand"]).flags & MountFlag.mandLock == 0)
        #expect(MountOptions(["nosymfollow", "symfollow"]).flags & MountFlag.noSymFollow == 0)
        #expect(MountOptions(["nodiratime", "diratime"]).flags & MountFlag.noDirAtime == 0)
    }

    @Test("bind, rbind, remount and defaults; a clearing option alone sets nothing")
    func bindAndDefaults() {
        #expect(MountOptions(["bind"]).flags == MountFlag.bind)
        #expect(MountOptions(["rbind"]).flags == MountFlag.bind | MountFlag.recursive)
        #expect(MountOptions(["remount", "ro"]).flags == MountFlag.remount | MountFlag.readOnly)
        #expect(MountOptions(["defaults"]) == MountOptions([]))
        #expect(MountOptions(["suid", "dev", "exec", "rw", "async", "atime"]).flags == 0)
        #expect(MountOptions(["defaults"]).data.isEmpty, "defaults is an option, not filesystem data")
    }

    @Test("propagation options are kept apart, in order, with their recursive forms")
    func propagation() {
        let options = MountOptions(["rbind", "rprivate", "shared", "rslave", "unbindable", "runbindable", "private", "slave", "rshared"])
        #expect(options.propagation == [MountFlag.private | MountFlag.recursive, MountFlag.shared,
                                        MountFlag.slave | MountFlag.recursive, MountFlag.unbindable,
                                        MountFlag.unbindable | MountFlag.recursive, MountFlag.private, MountFlag.slave,
                                        MountFlag.shared | MountFlag.recursive])
        #expect(options.flags == MountFlag.bind | MountFlag.recursive, "propagation stays out of the mount's flags")
        #expect(options.data.isEmpty)
    }

    @Test("anything else is the filesystem's data, in the order given")
    func data() {
        let overlay = MountOptions(["ro", "lowerdir=/l1:/l2", "upperdir=/u", "nosuid", "workdir=/w", "index=off"])
        #expect(overlay.data == ["lowerdir=/l1:/l2", "upperdir=/u", "workdir=/w", "index=off"])
        #expect(overlay.dataString == "lowerdir=/l1:/l2,upperdir=/u,workdir=/w,index=off")
        #expect(overlay.flags == MountFlag.readOnly | MountFlag.noSuid)
        #expect(MountOptions(["mode=755", "size=65536k"]).dataString == "mode=755,size=65536k")
        #expect(MountOptions(["Ro"]).data == ["Ro"], "option names are case-sensitive, as the kernel's")
    }

    @Test("a read-only bind needs a remount; a read-only filesystem or a writable bind does not")
    func readOnlyBind() {
        #expect(MountOptions(["rbind", "ro"]).isReadOnlyBind)
        #expect(MountOptions(["ro", "bind"]).isReadOnlyBind)
        #expect(!MountOptions(["rbind", "ro", "rw"]).isReadOnlyBind)
        #expect(!MountOptions(["ro"]).isReadOnlyBind)
        #expect(!MountOptions(["bind"]).isReadOnlyBind)
    }

    @Test("the flag values are glibc's MS_* numbers")
    func kernelValues() {
        #expect(MountFlag.readOnly == UInt(MS_RDONLY) && MountFlag.noSuid == UInt(MS_NOSUID))
        #expect(MountFlag.noDev == UInt(MS_NODEV) && MountFlag.noExec == UInt(MS_NOEXEC))
        #expect(MountFlag.bind == UInt(MS_BIND) && MountFlag.recursive == UInt(MS_REC) && MountFlag.remount == UInt(MS_REMOUNT))
        #expect(MountFlag.private == UInt(MS_PRIVATE) && MountFlag.slave == UInt(MS_SLAVE)
                    && MountFlag.shared == UInt(MS_SHARED) && MountFlag.unbindable == UInt(MS_UNBINDABLE))
        #expect(MountFlag.noAtime == UInt(MS_NOATIME) && MountFlag.relatime == UInt(MS_RELATIME)
                    && MountFlag.strictAtime == UInt(MS_STRICTATIME) && MountFlag.synchronous == UInt(MS_SYNCHRONOUS))
    }
}
