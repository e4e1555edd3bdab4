import Foundation
import TetherSystem

/// The receiving end of runc's `--console-socket` protocol: a listening unix socket to which the runtime
/// connects once and sends the pty master by SCM_RIGHTS (the pty's name as payload).
final class ConsoleSocket {
    let path: String
    private let listener: Int32

    init(path: String) throws {
        self.path = path
        listener = try UnixSocket.listen(path: path)
    }

    deinit { close(listener) }

    struct Received {
        let name: String
        let master: Int32
    }

    /// Waits up to `seconds` for the runtime's one message; nil when it never came or carried no fd.
    func receiveMaster(seconds: Int32 = 5) throws -> Received? {
        var pending = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&pending, 1, seconds * 1000) == 1, let connection = try UnixSocket.accept(listener) else { return nil }
        defer { close(connection) }
        let (payload, fds) = try UnixSocket.receive(connection)
        guard fds.count == 1 else { fds.forEach { close($0) }; return nil }
        return Received(name: String(decoding: payload, as: UTF8.self), master: fds[0])
    }

    /// Reads `master` until `done` holds for what arrived, the pty closes, or `seconds` pass.
    static func read(_ master: Int32, seconds: TimeInterval = 10, until done: (String) -> Bool) -> String {
        var output = ""
        var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        let deadline = Date().addingTimeInterval(seconds)
        while !done(output) && Date() < deadline {
            guard poll(&poller, 1, 200) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = Glibc.read(master, &buffer, buffer.count)
            if count <= 0 { break }
            output += String(decoding: buffer[0..<count], as: UTF8.self)
        }
        return output
    }
}
