import Glibc
import Testing
@testable import TetherSystem

@Suite("Event loop")
struct EventLoopTests {
    @Test func readableHandlerRunsAndTimersFire() throws {
        let loop = try EventLoop()
        let (read, write) = try FileIO.pipe()
        defer { FileIO.close(read); FileIO.close(write) }
        var received: [UInt8] = []
        try loop.register(read, .readable) { _ in
            var byte: UInt8 = 0
            if Glibc.read(read, &byte, 1) == 1 { received.append(byte) }
        }
        var fired = 0
        loop.schedule(after: 5) {
            fired += 1
            loop.stop()
        }
        try FileIO.writeAll(write, [42])
        try loop.run()
        #expect(received == [42])
        #expect(fired == 1)
    }

    @Test func exitStatusFollowsTheConvention() {
        #expect(ProcessSupport.exitStatus(fromWaitStatus: 7 << 8) == 7)
        #expect(ProcessSupport.exitStatus(fromWaitStatus: SIGKILL) == 137)
        #expect(ProcessSupport.exitStatus(fromWaitStatus: SIGTERM) == 143)
    }

    @Test func signalNamesParse() {
        #expect(ProcessSupport.signalNumber(named: "SIGKILL") == 9)
        #expect(ProcessSupport.signalNumber(named: "term") == 15)
        #expect(ProcessSupport.signalNumber(named: "10") == 10)
        #expect(ProcessSupport.signalNumber(named: "BOGUS") == nil)
    }

    @Test func socketPairCarriesDescriptors() throws {
        let (a, b) = try FileIO.socketPair()
        defer { FileIO.close(a); FileIO.close(b) }
        let (read, write) = try FileIO.pipe()
        defer { FileIO.close(read); FileIO.close(write) }
        try UnixSocket.send(a, Array("pty".utf8), fds: [write])
        let message = try UnixSocket.receive(b)
        #expect(String(decoding: message.data, as: UTF8.self) == "pty")
        #expect(message.fds.count == 1)
        try FileIO.writeAll(message.fds[0], [1, 2, 3])
        FileIO.close(message.fds[0])
        var buffer = [UInt8](repeating: 0, count: 3)
        #expect(Glibc.read(read, &buffer, 3) == 3)
        #expect(buffer == [1, 2, 3])
    }
}
