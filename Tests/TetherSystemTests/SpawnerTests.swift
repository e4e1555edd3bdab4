import Foundation
import Testing
@testable import TetherSystem

/// Spawner as hooks use it: stdin, an explicit executable with its own argv, a deadline, output collected only
/// until the command exits. Serialized: Spawner changes the working directory and waits for its own pid.
@Suite("Spawner", .serialized)
struct SpawnerTests {
    @Test func inputReachesStdinAndOutputIsCollected() throws {
        let result = try Spawner.run(["cat"], directory: "/", environment: ["PATH=/usr/bin:/bin"], input: Array("state".utf8))
        #expect(result.status == 0)
        #expect(result.output == "state")
        #expect(!result.timedOut)
    }

    @Test func anExplicitExecutableGetsTheArgvAsGivenAndTheEnvironment() throws {
        let result = try Spawner.run(["named-zero", "-c", "echo $0 $KEY; exit 4"], executable: "/bin/sh", environment: ["KEY=value"])
        #expect(result.status == 4)
        #expect(result.output == "named-zero value\n")
    }

    @Test func aCommandPastItsDeadlineIsKilled() throws {
        let started = Date()
        let result = try Spawner.run(["/bin/sleep", "30"], executable: "/bin/sleep", timeout: 0.3)
        #expect(result.timedOut)
        #expect(result.status == 128 + SIGKILL)
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func aBackgroundChildHoldingTheOutputDoesNotBlock() throws {
        let started = Date()
        let result = try Spawner.run(["sh", "-c", "sleep 5 & echo done"], executable: "/bin/sh")
        #expect(result.status == 0)
        #expect(result.output == "done\n")
        #expect(Date().timeIntervalSince(started) < 4)
    }

    @Test func aCommandThatDoesNotReadItsInputStillFinishes() throws {
        let result = try Spawner.run(["true"], executable: "/bin/true", input: [UInt8](repeating: 65, count: 1 << 20))
        #expect(result.status == 0)
    }

    @Test func aMissingExecutableIsAnError() {
        #expect(throws: SyscallError.self) { try Spawner.run(["x"], executable: "/nonexistent/hook") }
    }
}
