import Testing
import TetherFlags
@testable import TetherHarnessCommands

/// tether-harness's tables, read as the shim tests and bench scripts write them.
@Suite("harness command table")
struct HarnessTableTests {
    @Test("exec: the target flags, -e repeated, the command after --; required flags are named")
    func exec() throws {
        let exec = try Exec(Exec.syntax.parse(
            ["--socket", "unix:///s", "--id", "c", "--exec-id", "e1", "-e", "A=1", "-e", "B=2", "--timeout", "30", "--", "sh", "-c", "exit 4"]))
        #expect(exec.target.socket == "unix:///s" && exec.target.execID == "e1" && exec.target.timeout == 30)
        #expect(exec.env == ["A=1", "B=2"] && exec.command == ["sh", "-c", "exit 4"])
        #expect(throws: FlagError(command: "exec", "--socket is required")) {
            try Exec(Exec.syntax.parse(["--id", "c", "--", "true"]))
        }
        #expect(throws: FlagError(command: "exec", "--exec-id is required")) {
            try Exec(Exec.syntax.parse(["--socket", "/s", "--id", "c", "--", "true"]))
        }
        let names = Harness.commands.map { $0.syntax.name }
        #expect(Set(names).count == names.count && names.contains("close-io") && names.contains("exec-loop"))
    }
}
