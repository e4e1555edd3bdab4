#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// The environment of this process, as a dictionary.
enum ProcessEnvironment {
    static var current: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}

/// Runs a short-lived command (such as `shim start`, which leaves a daemon behind) and collects its combined
/// output, as containerd does: posix_spawn, fds above 2 not inherited, wait for that pid only.
enum Spawner {
    struct Result {
        let status: Int32
        let output: String
    }

    static func run(_ arguments: [String], directory: String, environment: [String: String]) throws -> Result {
        let (read, write) = try FileIO.pipe()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, write, 1)
        posix_spawn_file_actions_adddup2(&actions, write, 2)
        let cArguments = arguments.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        // The child starts in `directory` (this CLI is single-threaded and exits after the command).
        guard chdir(directory) == 0 else { throw SyscallError.current("chdir \(directory)") }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, cArguments, cEnvironment)
        FileIO.close(write)
        if spawned != 0 {
            FileIO.close(read)
            throw SyscallError("posix_spawn \(arguments[0])", errno: spawned)
        }
        let output = (try? FileIO.readAll(read)) ?? []
        FileIO.close(read)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return Result(status: ProcessSupport.exitStatus(fromWaitStatus: status), output: String(decoding: output, as: UTF8.self))
    }
}
