#if canImport(Glibc)
import Glibc
#endif

/// The environment of this process, as a dictionary.
public enum ProcessEnvironment {
    public static var current: [String: String] {
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
public enum Spawner {
    public struct Result: Sendable {
        public let status: Int32
        public let output: String
    }

    /// Runs `arguments` in `directory`. The caller's working directory is changed to `directory` (callers
    /// are single-threaded CLIs and daemons that spawn from one thread).
    public static func run(_ arguments: [String], directory: String, environment: [String: String]) throws -> Result {
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
        let previous = FileIO.currentDirectory()
        guard chdir(directory) == 0 else { throw SyscallError.current("chdir \(directory)") }
        defer { _ = chdir(previous) }
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
