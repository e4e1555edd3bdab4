import FoundationEssentials
import Testing
@testable import OCISpec

/// The runtime's hand reader (Spec+Reading, JSONNode) and hand writer (Spec+Writing, JSONWriter) against the Codable
/// conformance, for every member of Spec: a config with every optional member set (checked by reflection, so a
/// member added to the types without a value here fails) must come out of each pairing unchanged.
@Suite("config.json hand reader and writer against Codable")
struct SpecWritingParityTests {
    static let complete = #"""
        {
          "ociVersion": "1.2.0",
          "process": {
            "terminal": true, "consoleSize": {"height": 24, "width": 80},
            "user": {"uid": 1000, "gid": 1001, "umask": 18, "additionalGids": [5, 6], "username": "u"},
            "args": ["/bin/sh", "-c", "echo \"q\" \\ /slash \u00e9 \t\n\u0001"], "commandLine": "cmd",
            "env": ["PATH=/bin"], "cwd": "/work",
            "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "inheritable": ["CAP_KILL"],
                             "permitted": ["CAP_KILL"], "ambient": ["CAP_KILL"]},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}],
            "noNewPrivileges": true, "apparmorProfile": "p", "oomScoreAdj": -500, "selinuxLabel": "l",
            "ioPriority": {"class": "IOPRIO_CLASS_RT", "priority": 4},
            "scheduler": {"policy": "SCHED_DEADLINE", "nice": -5, "priority": 1, "flags": ["SCHED_FLAG_RESET_ON_FORK"],
                          "runtime": 10, "deadline": 20, "period": 30},
            "execCPUAffinity": {"initial": "0", "final": "0-1"}
          },
          "root": {"path": "rootfs", "readonly": true},
          "hostname": "h", "domainname": "d",
          "mounts": [{"destination": "/data", "type": "bind", "source": "/srv", "options": ["rbind", "ro"],
                      "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
                      "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}],
          "hooks": {
            "prestart": [{"path": "/bin/a", "args": ["a"], "env": ["X=1"], "timeout": 1}],
            "createRuntime": [{"path": "/bin/b", "args": ["b"], "env": ["X=2"], "timeout": 2}],
            "createContainer": [{"path": "/bin/c", "args": ["c"], "env": ["X=3"], "timeout": 3}],
            "startContainer": [{"path": "/bin/d", "args": ["d"], "env": ["X=4"], "timeout": 4}],
            "poststart": [{"path": "/bin/e", "args": ["e"], "env": ["X=5"], "timeout": 5}],
            "poststop": [{"path": "/bin/f", "args": ["f"], "env": ["X=6"], "timeout": 6}]
          },
          "annotations": {"a": "1", "b": ""},
          "linux": {
            "namespaces": [{"type": "pid", "path": "/proc/1/ns/pid"}],
            "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
            "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
            "timeOffsets": {"monotonic": {"secs": 10, "nanosecs": 5}},
            "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 1, "gid": 2}],
            "cgroupsPath": "/tether/x",
            "resources": {
              "devices": [{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
              "memory": {"limit": 67108864, "reservation": 1, "swap": -1, "kernel": 2, "kernelTCP": 3, "swappiness": 60,
                         "disableOOMKiller": false, "useHierarchy": true, "checkBeforeUpdate": true},
              "cpu": {"shares": 1024, "quota": 50000, "burst": 1, "period": 100000, "realtimeRuntime": 2,
                      "realtimePeriod": 3, "cpus": "0-1", "mems": "0", "idle": 1},
              "pids": {"limit": 100},
              "blockIO": {"weight": 500, "leafWeight": 400,
                          "weightDevice": [{"major": 8, "minor": 0, "weight": 100, "leafWeight": 50}],
                          "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1}],
                          "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2}],
                          "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 3}],
                          "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 4}]},
              "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
              "network": {"classID": 1, "priorities": [{"name": "eth0", "priority": 2}]},
              "rdma": {"mlx": {"hcaHandles": 1, "hcaObjects": 2}},
              "unified": {"memory.high": "1000000"}
            },
            "rootfsPropagation": "rslave",
            "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"],
                        "flags": ["SECCOMP_FILTER_FLAG_LOG"], "listenerPath": "/run/l.sock", "listenerMetadata": "m",
                        "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "errnoRet": 2,
                                      "args": [{"index": 0, "value": 4294967295, "valueTwo": 7, "op": "SCMP_CMP_EQ"}]}]},
            "sysctl": {"net.ipv4.ip_forward": "1"},
            "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"], "mountLabel": "m",
            "intelRdt": {"closID": "c", "l3CacheSchema": "L3:0=f", "memBwSchema": "MB:0=50", "enableCMT": true, "enableMBM": false},
            "personality": {"domain": "LINUX32", "flags": ["x"]}
          }
        }
        """#

    static func completeSpec() throws -> Spec {
        try JSONDecoder().decode(Spec.self, from: Data(Self.complete.utf8))
    }

    /// The JSON paths of the optional members without a value, and of the empty arrays and dictionaries (whose
    /// element type's members would go unchecked), in `value`.
    static func unset(in value: Any, path: String = "spec") -> [String] {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            guard let wrapped = mirror.children.first else { return [path] }
            return unset(in: wrapped.value, path: path)
        case .collection, .dictionary, .set:
            if mirror.children.isEmpty { return [path + " (empty)"] }
            return mirror.children.enumerated().flatMap { index, child in unset(in: child.value, path: "\(path)[\(index)]") }
        default:
            return mirror.children.flatMap { child in unset(in: child.value, path: path + "." + (child.label ?? "?")) }
        }
    }

    @Test func theSampleSetsEveryMember() throws {
        #expect(Self.unset(in: try Self.completeSpec()) == [])
        // The check itself finds a member left out.
        var spec = try Self.completeSpec()
        spec.linux?.resources?.cpu?.idle = nil
        spec.hooks?.poststop = []
        #expect(Self.unset(in: spec) == ["spec.hooks.poststop (empty)", "spec.linux.resources.cpu.idle"])
    }

    @Test func handWriterWritesWhatCodableReads() throws {
        let spec = try Self.completeSpec()
        var writer = JSONWriter()
        spec.write(to: &writer)
        #expect(try JSONDecoder().decode(Spec.self, from: Data(writer.bytes)) == spec)
        #expect(try Spec.decode(writer.bytes) == spec)
    }

    @Test func handReaderReadsWhatCodableWrites() throws {
        let spec = try Self.completeSpec()
        #expect(try Spec.decode(Array(JSONEncoder().encode(spec))) == spec)
        #expect(try Spec.decode(Array(Self.complete.utf8)) == spec)
    }

    /// Every member is written where JSONEncoder writes it: the same bytes once both are parsed to a tree, so the
    /// hand writer cannot add, drop or rename a member the decoders happen to tolerate.
    @Test func handWriterWritesTheMembersCodableWrites() throws {
        let spec = try Self.completeSpec()
        var writer = JSONWriter()
        spec.write(to: &writer)
        let hand = try JSONDecoder().decode(AnyJSON.self, from: Data(writer.bytes))
        let codable = try JSONDecoder().decode(AnyJSON.self, from: JSONEncoder().encode(spec))
        #expect(hand == codable)
    }
}

/// Any JSON value, for comparing two documents member for member.
indirect enum AnyJSON: Decodable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([AnyJSON]), object([String: AnyJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([AnyJSON].self) { self = .array(value) }
        else { self = .object(try container.decode([String: AnyJSON].self)) }
    }
}
