import TTRPC
import Testing
@testable import TetherShim

/// The process spec of an Exec request, as the one-off child decodes and checks it.
@Suite("exec process spec")
struct ExecSpecTests {
    @Test func validSpec() throws {
        let spec = try Shim.processSpec(Array(#"{"user":{"uid":0,"gid":0},"args":["/bin/true"],"cwd":"/"}"#.utf8))
        #expect(spec.args == ["/bin/true"])
    }

    @Test func invalidJSONIsAnInvalidArgument() {
        #expect(throws: TTRPCStatus.self) { try Shim.processSpec(Array("{".utf8)) }
        do {
            _ = try Shim.processSpec(Array("{".utf8))
        } catch let status as TTRPCStatus {
            #expect(status.code == .invalidArgument && status.message.hasPrefix("spec: invalid process spec"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func emptyArgsAreAnInvalidArgument() {
        do {
            _ = try Shim.processSpec(Array(#"{"user":{"uid":0,"gid":0},"args":[],"cwd":"/"}"#.utf8))
            Issue.record("accepted empty args")
        } catch let status as TTRPCStatus {
            #expect(status == TTRPCStatus(.invalidArgument, "spec.args: must not be empty"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
