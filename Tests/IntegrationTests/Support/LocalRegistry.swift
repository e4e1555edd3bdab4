import Foundation
import TetherTestSupport

/// Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 at a free port, its storage and config in a temporary
/// directory, for the CRI lane: containerd pulls the test images from it (configured as the registry's only host).
/// Images are pushed with `skopeo copy` from OCI layouts built by scripts/cri/oci-image.py.
final class LocalRegistry {
    static let binary = "/usr/bin/docker-registry"
    static let skopeo = "/usr/bin/skopeo"
    static var isInstalled: Bool { TestEnvironment.hasCommand(binary) && TestEnvironment.hasCommand(skopeo) }

    let directory: TemporaryDirectory
    let port: UInt16
    /// `127.0.0.1:PORT`: the host part of every image name pushed here.
    var host: String { "127.0.0.1:\(port)" }
    private var process: Process?

    init() throws {
        directory = try TemporaryDirectory("tether-registry")
        port = try freeLoopbackPort()
        let config = """
            version: 0.1
            log:
              level: error
            storage:
              filesystem:
                rootdirectory: \(directory.path)/storage
            http:
              addr: 127.0.0.1:\(port)
            """
        try config.write(toFile: directory.path + "/config.yml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", directory.path + "/config.yml"]
        _ = FileManager.default.createFile(atPath: directory.path + "/registry.log", contents: nil)
        let log = FileHandle(forWritingAtPath: directory.path + "/registry.log")
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        for _ in 0..<200 {
            if loopbackPortAnswers(port) { return }
            usleep(25_000)
        }
        stop()
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "docker-registry did not listen on \(host): "
            + ((try? String(contentsOfFile: directory.path + "/registry.log", encoding: .utf8)) ?? "")])
    }

    /// Pushes the image tagged `tag` in the OCI layout at `layout` as `127.0.0.1:PORT/<name>`; returns that name.
    @discardableResult
    func push(layout: String, tag: String, as name: String) throws -> String {
        let reference = "\(host)/\(name)"
        let result = try runCommand(Self.skopeo, ["copy", "-q", "--insecure-policy", "--dest-tls-verify=false",
                                                  "oci:\(layout):\(tag)", "docker://\(reference)"], timeout: 120)
        guard result.status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "skopeo copy to \(reference): \(result)"])
        }
        return reference
    }

    func stop() {
        guard let process else { return }
        let pid = process.processIdentifier
        if process.isRunning { kill(pid, SIGKILL) }
        // Bounded, as PrivateContainerd.kill9: reap it ourselves if Foundation has not noticed the exit.
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            var status: Int32 = 0
            waitpid(pid, &status, WNOHANG)
        }
        self.process = nil
    }

    deinit { stop() }
}

/// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick for port 0).
func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(fd, generic, length) == 0 && getsockname(fd, generic, &length) == 0
        }
    }
    guard bound else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "bind 127.0.0.1:0: errno \(errno)"]) }
    return UInt16(bigEndian: address.sin_port)
}

/// Whether something accepts TCP connections on 127.0.0.1:port.
func loopbackPortAnswers(_ port: UInt16) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}
