#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux

/// Small blocking file-descriptor helpers. Descriptors are plain `Int32`s owned by their caller.
public enum FileIO {
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        try sys("open \(path)") { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    public static func close(_ fd: Int32) {
        _ = Glibc.close(fd)  // EINTR on close is not retried: the fd is gone either way.
    }

    /// Writes all of `bytes`, retrying short writes and EINTR.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let base = bytes.baseAddress! + offset
            let n = try sys("write") { Glibc.write(fd, base, bytes.count - offset) }
            offset += n
        }
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { (buffer) throws in try writeAll(fd, buffer) }
    }

    public static func writeAll(_ fd: Int32, _ text: String) throws {
        try writeAll(fd, Array(text.utf8))
    }

    /// Reads until EOF.
    public static func readAll(_ fd: Int32) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try chunk.withUnsafeMutableBytes { (buffer) throws in
                try sys("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
            }
            if n == 0 { return result }
            result.append(contentsOf: chunk[0..<n])
        }
    }

    public static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        return try readAll(fd)
    }

    public static func readText(_ path: String) throws -> String {
        String(decoding: try readFile(path), as: UTF8.self)
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644, sync: Bool = true) throws {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = try open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        do {
            try writeAll(fd, bytes)
            if sync { try sys("fsync \(temporary)") { fsync(fd) } }
        } catch {
            close(fd)
            _ = unlink(temporary)
            throw error
        }
        close(fd)
        try sys("rename \(temporary)") { rename(temporary, path) }
    }

    public static func writeFile(_ path: String, _ text: String, flags: Int32 = O_WRONLY | O_CREAT | O_TRUNC) throws {
        let fd = try open(path, flags)
        defer { close(fd) }
        try writeAll(fd, text)
    }

    /// The working directory, "/" when getcwd fails (it was removed or is unreachable).
    public static func currentDirectory() -> String {
        workingDirectory ?? "/"
    }

    /// The working directory; nil when getcwd fails.
    public static var workingDirectory: String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        guard getcwd(&buffer, buffer.count) != nil else { return nil }
        return String(cBuffer: buffer)
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// mkdir -p.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if isDirectory(path) { return }
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw SyscallError.current("mkdir \(prefix)")
            }
        }
    }

    /// rm -rf without crossing mount points it cannot remove; best effort, returns the first error.
    public static func removeTree(_ path: String) throws {
        var info = stat()
        if lstat(path, &info) != 0 {
            if errno == ENOENT { return }
            throw SyscallError.current("lstat \(path)")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in try listDirectory(path) { try removeTree(path + "/" + name) }
            try sys("rmdir \(path)") { rmdir(path) }
        } else {
            try sys("unlink \(path)") { unlink(path) }
        }
    }

    /// Names in a directory, without "." and "..".
    public static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw SyscallError.current("opendir \(path)") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public static func setCloexec(_ fd: Int32, _ on: Bool = true) throws {
        try sys("fcntl F_SETFD") { tether_set_cloexec(fd, on ? 1 : 0) }
    }

    public static func setNonblocking(_ fd: Int32, _ on: Bool = true) throws {
        try sys("fcntl F_SETFL") { tether_set_nonblock(fd, on ? 1 : 0) }
    }

    /// A pipe whose ends are close-on-exec.
    public static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        try sys("pipe2") { tether_pipe2(&fds, O_CLOEXEC) }
        return (fds[0], fds[1])
    }

    /// A connected pair of close-on-exec unix sockets.
    public static func socketPair(type: Int32 = Int32(SOCK_SEQPACKET.rawValue)) throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        try sys("socketpair") { socketpair(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) }
        return (fds[0], fds[1])
    }
}
