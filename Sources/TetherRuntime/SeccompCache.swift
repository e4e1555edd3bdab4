#if canImport(Glibc)
import Glibc
#endif
import CSeccomp
import FoundationEssentials
import OCISpec
import TetherSystem

/// Compiled seccomp programs kept under the runtime's root, one file per profile. libseccomp needs more CPU
/// for a Docker-sized profile than the rest of a create, and a manager starts container after container with the same one (tetherd's
/// default profile, containerd's and Docker's), so each profile is compiled once per boot (the root is on tmpfs).
///
/// A file is named by the FNV-1a hash of its key and holds the key, a NUL, then the BPF instructions: a hit is
/// only taken when the stored key is the same, so a hash collision costs a compile, never a wrong filter. The key
/// is the profile's canonical JSON and the libseccomp version.
struct SeccompCache {
    /// Not a valid container id (`@`), so `list` and a container of any name never meet it.
    static let directoryName = "@seccomp-cache"

    let directory: String

    init(root: String) {
        directory = root + "/" + SeccompCache.directoryName
    }

    /// The program for `seccomp`, from the cache or compiled (and then stored; a failed store is not an error).
    func program(for seccomp: Seccomp) throws -> SeccompProgram {
        guard let key = SeccompCache.key(seccomp) else { return try SeccompProgram.compile(seccomp) }
        let path = directory + "/" + FNV1a.hex(key)
        if let stored = try? FileIO.readFile(path), let instructions = SeccompCache.instructions(stored, key: key) {
            return SeccompProgram(seccomp, instructions: instructions)
        }
        let program = try SeccompProgram.compile(seccomp)
        if (try? FileIO.makeDirectories(directory, mode: 0o700)) != nil {
            try? FileIO.writeAtomically(path, key + [0] + program.instructions, mode: 0o600, sync: false)
        }
        return program
    }

    static func key(_ seccomp: Seccomp) -> [UInt8]? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let json = try? encoder.encode(seccomp), let version = seccomp_version()?.pointee else { return nil }
        return Array("libseccomp \(version.major).\(version.minor).\(version.micro)\n".utf8) + Array(json)
    }

    /// The instructions in a stored file when its key is `key` and what follows is whole `sock_filter`s.
    static func instructions(_ stored: [UInt8], key: [UInt8]) -> [UInt8]? {
        guard stored.count > key.count + 1, stored[key.count] == 0, stored.starts(with: key) else { return nil }
        let instructions = Array(stored[(key.count + 1)...])
        return instructions.count % 8 == 0 ? instructions : nil
    }
}
