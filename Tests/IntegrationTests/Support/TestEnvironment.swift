import Foundation
import Testing

/// Where the built executables and the busybox test rootfs are, and what this machine allows.
/// `make test` sets TETHER_BIN_DIR and TETHER_TEST_ROOTFS; without them the defaults below are tried.
enum TestEnvironment {
    static let binDir: String = {
        if let dir = ProcessInfo.processInfo.environment["TETHER_BIN_DIR"], !dir.isEmpty { return dir }
        // The test bundle lives in the debug bin directory itself.
        return Bundle.main.bundleURL.deletingLastPathComponent().path
    }()

    static let rootfs: String = {
        if let dir = ProcessInfo.processInfo.environment["TETHER_TEST_ROOTFS"], !dir.isEmpty { return dir }
        return FileManager.default.currentDirectoryPath + "/.rootfs/busybox"
    }()

    static var isRoot: Bool { geteuid() == 0 }
    static var hasRootfs: Bool { FileManager.default.fileExists(atPath: rootfs + "/bin/busybox") }

    /// Integration tests need root and the rootfs (`make test` builds it).
    static var canRunContainers: Bool { isRoot && hasRootfs }

    static func binary(_ name: String) -> String { binDir + "/" + name }

    static func hasCommand(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }
}

struct CommandResult: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String
    var description: String { "status \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

/// Runs a command to completion, with a deadline after which it is killed (status -9).
@discardableResult
func runCommand(
    _ path: String, _ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil,
    timeout: TimeInterval = 60
) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try process.run()
    if let stdin {
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try? input.fileHandleForWriting.close()
    }
    // Read both pipes concurrently with the wait so that a chatty child never blocks on a full pipe.
    nonisolated(unsafe) var outData = Data(), errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter()
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(2000) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        _ = group.wait(timeout: .now() + 5)
        return CommandResult(status: -9, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: "timed out after \(timeout)s\n" + String(decoding: errData, as: UTF8.self))
    }
    process.waitUntilExit()
    _ = group.wait(timeout: .now() + 10)
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// A unique, short container id for a test.
func uniqueID(_ prefix: String = "t") -> String {
    "\(prefix)\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
}
