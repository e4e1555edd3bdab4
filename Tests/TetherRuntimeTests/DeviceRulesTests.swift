import OCISpec
import Testing
@testable import TetherRuntime

/// The device cgroup allow-list as runc builds it, and the v1 lines it becomes.
@Suite("device rules")
struct DeviceRulesTests {
    @Test("a rule's v1 line: type major:minor access, `*` for a missing or negative number, `a` and rwm by default")
    func lines() throws {
        #expect(try DeviceRules.line(.init(allow: true, type: "c", major: 1, minor: 3, access: "rw"), field: "f") == "c 1:3 rw")
        #expect(try DeviceRules.line(.init(allow: false), field: "f") == "a *:* rwm")
        #expect(try DeviceRules.line(.init(allow: true, type: "b", major: 8, minor: -1, access: "m"), field: "f") == "b 8:* m")
        #expect(try DeviceRules.line(.init(allow: true, type: "c", major: -1, minor: nil, access: "mwr"), field: "f") == "c *:* mwr")
    }

    @Test("a bad type or access is an invalid config naming the field", arguments: [
        Resources.DeviceCgroup(allow: true, type: "p", major: 1, minor: 1, access: "rwm"),
        Resources.DeviceCgroup(allow: true, type: "u", access: "r"),
        Resources.DeviceCgroup(allow: true, type: "c", access: "rwx"),
        Resources.DeviceCgroup(allow: true, type: "c", access: ""),
        Resources.DeviceCgroup(allow: true, type: "c", access: "r w"),
    ])
    func rejectsBadRules(rule: Resources.DeviceCgroup) {
        let error = #expect(throws: RuntimeError.self) { try DeviceRules.line(rule, field: "linux.resources.devices[3]") }
        #expect(error?.code == .invalidConfig)
        #expect(error?.message.hasPrefix("linux.resources.devices[3].") == true, "\(String(describing: error))")
    }

    @Test("the effective list: deny all, the config's rules in order, then runc's defaults")
    func effectiveList() throws {
        let config: [Resources.DeviceCgroup] = [.init(allow: true, type: "c", major: 10, minor: 200, access: "rwm"),
                                                .init(allow: false, type: "c", major: 1, minor: 3, access: "w")]
        let rules = DeviceRules.effective(config)
        #expect(rules.count == 1 + 2 + DeviceRules.defaults.count)
        #expect(try DeviceRules.line(rules[0], field: "f") == "a *:* rwm" && !rules[0].allow)
        #expect(Array(rules[1...2]) == config)
        #expect(Array(rules[3...]) == DeviceRules.defaults)
        let defaults = try DeviceRules.defaults.map { try DeviceRules.line($0, field: "f") }
        for line in ["c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "c 136:* rwm"] {
            #expect(defaults.contains(line), "runc's default \(line)")
        }
        #expect(DeviceRules.defaults.allSatisfy { $0.allow })
    }

    @Test("devices the config creates are allowed rwm after its own rules; FIFOs get none; u is c")
    func createdDevices() throws {
        let own = Resources.DeviceCgroup(allow: false, type: "a", access: "rwm")
        var resources = Resources()
        resources.devices = [own]
        let devices: [Linux.Device] = [.init(type: "c", path: "/dev/fuse", major: 10, minor: 229), .init(type: "p", path: "/dev/fifo"),
                                       .init(type: "u", path: "/dev/raw", major: 4, minor: 64),
                                       .init(type: "b", path: "/dev/sdz", major: 8, minor: 0)]
        let result = DeviceRules.allowingCreatedDevices(resources, devices)
        let lines = try (result?.devices ?? []).map { try DeviceRules.line($0, field: "f") }
        #expect(lines == ["a *:* rwm", "c 10:229 rwm", "c 4:64 rwm", "b 8:0 rwm"])
        #expect(result?.devices?.dropFirst().allSatisfy { $0.allow } == true)
    }

    @Test("no devices to create: the resources as given, nil stays nil")
    func nothingCreated() throws {
        var resources = Resources()
        resources.devices = [.init(allow: true, type: "c", major: 1, minor: 3, access: "r")]
        #expect(DeviceRules.allowingCreatedDevices(resources, nil) == resources)
        #expect(DeviceRules.allowingCreatedDevices(nil, []) == nil)
        #expect(DeviceRules.allowingCreatedDevices(nil, [.init(type: "p", path: "/dev/f")]) == nil)
        let created = DeviceRules.allowingCreatedDevices(nil, [.init(type: "c", path: "/dev/null2", major: 1, minor: 3)])
        #expect(try created?.devices?.map { try DeviceRules.line($0, field: "f") } == ["c 1:3 rwm"])
    }
}
