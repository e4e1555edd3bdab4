import Foundation
import Testing

/// Issue 14, item 9: `tetherctl inspect -f` and `ps --format` with Go-template field paths, inspect's JSON as
/// docker prints it, and TETHER_HOST.
@Suite("tetherctl formats")
struct DaemonFormatTests {
    typealias DaemonFixture = DaemonTests.DaemonFixture

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func inspectAndPsFormatWithGoTemplates() throws {
        let daemon = try DaemonFixture()
        let name = uniqueID("fmt")
        let run = try daemon.ctl(["run", "-d", "--name", name, TestEnvironment.rootfs, "/bin/sleep", "1000"])
        #expect(run.status == 0, "\(run)")
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        // The classic: the init's pid, which /proc shows as the container's PID 1.
        let pid = try daemon.ctl(["inspect", "-f", "{{.State.Pid}}", name])
        #expect(pid.status == 0, "\(pid)")
        let hostPid = pid.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let status = (try? String(contentsOfFile: "/proc/\(hostPid)/status", encoding: .utf8)) ?? ""
        #expect(status.contains("Name:\tsleep") && status.contains("NSpid:\t\(hostPid)\t1\n"), "pid \(hostPid): \(status)")

        #expect(try daemon.ctl(["inspect", "--format", "{{.State.Status}} {{.Name}}", name]).stdout == "running \(name)\n")
        let stateJSON = try daemon.ctl(["inspect", "-f", "{{json .State}}", name]).stdout
        let state = try JSONSerialization.jsonObject(with: Data(stateJSON.utf8)) as? [String: Any]
        #expect(state?["Pid"] as? Int == Int(hostPid), "\(stateJSON)")
        #expect(stateJSON.hasPrefix(#"{"Status":"running","Running":true,"Pid":"#), "compact, in field order: \(stateJSON)")

        // Without a format: docker's layout, a JSON array indented by four spaces, `"Key": value`.
        let plain = try daemon.ctl(["inspect", name]).stdout
        #expect(plain.hasPrefix("[\n    {\n        \"Id\": \"\(id)\",\n"), "\(plain)")
        #expect((try JSONSerialization.jsonObject(with: Data(plain.utf8)) as? [[String: Any]])?.first?["Name"] as? String == name)

        let listed = try daemon.ctl(["ps", "--format", #"{{.ID}}\t{{.Names}}"#])
        #expect(listed.status == 0, "\(listed)")
        #expect(listed.stdout.split(separator: "\n").contains { $0 == "\(id.prefix(12))\t\(name)" }, "\(listed)")
        let table = try daemon.ctl(["ps", "--format", "table {{.Names}}\\t{{.State}}"])
        #expect(table.stdout.hasPrefix("NAMES"), "\(table)")
        #expect(table.stdout.contains("\(name)   running\n"), "\(table)")

        // An unknown field: exit 1, naming it.
        let unknownInspect = try daemon.ctl(["inspect", "-f", "{{.State.Nope}}", name])
        #expect(unknownInspect.status == 1 && unknownInspect.stderr.contains("Nope"), "\(unknownInspect)")
        let unknownPs = try daemon.ctl(["ps", "--format", "{{.Nope}}"])
        #expect(unknownPs.status == 1 && unknownPs.stderr.contains("Nope"), "\(unknownPs)")

        // TETHER_HOST selects the socket, for every command (ps and run alike).
        let environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TETHER_HOST": "unix://" + daemon.socket]
        let viaHost = try runCommand(TestEnvironment.binary("tetherctl"), ["ps", "-q"], environment: environment)
        #expect(viaHost.status == 0 && viaHost.stdout.contains(String(id.prefix(12))), "\(viaHost)")
        let ranViaHost = try runCommand(TestEnvironment.binary("tetherctl"), ["run", "--rm", TestEnvironment.rootfs, "/bin/echo", "via-host"],
                                        environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TETHER_HOST": daemon.socket])
        #expect(ranViaHost.status == 0 && ranViaHost.stdout == "via-host\n", "\(ranViaHost)")

        #expect(try daemon.ctl(["rm", "-f", name]).status == 0)
    }
}
