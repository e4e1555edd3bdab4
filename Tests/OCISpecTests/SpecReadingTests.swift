import FoundationEssentials
import Testing
@testable import OCISpec

/// `Spec.decode` reads config.json directly (JSONNode); it must give the Spec the Codable conformance gives, and
/// errors that name the JSON path.
@Suite("config.json reading")
struct SpecReadingTests {
    static let everyField = #"""
        {
          "ociVersion": "1.2.0",
          "unknownTopLevel": {"ignored": [1, 2, {"deep": null}]},
          "process": {
            "terminal": false, "consoleSize": {"height": 24, "width": 80},
            "user": {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [5, 6], "username": "u"},
            "args": ["/bin/sh", "-c", "echo \"quoted\" \\ back\/slash \u00e9 \ud83d\ude00 tab\tend"],
            "commandLine": "cmd", "env": ["PATH=/bin", "A=b"], "cwd": "/work",
            "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "inheritable": [],
                             "permitted": ["CAP_KILL"], "ambient": ["CAP_KILL"]},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true, "apparmorProfile": "p", "oomScoreAdj": -500, "selinuxLabel": "l",
            "ioPriority": {"class": "IOPRIO_CLASS_RT", "priority": 4},
            "scheduler": {"policy": "SCHED_OTHER", "nice": -5, "flags": ["SCHED_FLAG_RESET_ON_FORK"]},
            "execCPUAffinity": {"initial": "0", "final": "0-1"}
          },
          "root": {"path": "rootfs", "readonly": true},
          "hostname": "h", "domainname": "d",
          "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/data", "type": "bind", "source": "/srv", "options": ["rbind", "ro"],
             "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
             "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}
          ],
          "hooks": {"prestart": [{"path": "/bin/true", "args": ["true"], "env": ["X=1"], "timeout": 5}],
                    "poststop": [{"path": "/bin/false"}]},
          "annotations": {"a": "1", "b": ""},
          "linux": {
            "namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}, {"type": "mount"}],
            "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
            "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
            "timeOffsets": {"monotonic": {"secs": 10, "nanosecs": 5}},
            "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0}],
            "cgroupsPath": "/tether/x",
            "resources": {
              "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
              "memory": {"limit": 67108864, "reservation": 1, "swap": -1, "kernel": 2, "kernelTCP": 3, "swappiness": 60,
                         "disableOOMKiller": false, "useHierarchy": true, "checkBeforeUpdate": true},
              "cpu": {"shares": 1024, "quota": 50000, "burst": 1, "period": 100000, "realtimeRuntime": 2,
                      "realtimePeriod": 3, "cpus": "0-1", "mems": "0", "idle": 0},
              "pids": {"limit": 100},
              "blockIO": {"weight": 500, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]},
              "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
              "network": {"classID": 1, "priorities": [{"name": "eth0", "priority": 2}]},
              "rdma": {"mlx": {"hcaHandles": 1, "hcaObjects": 2}},
              "unified": {"memory.high": "1000000"}
            },
            "rootfsPropagation": "rslave",
            "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"],
                        "flags": ["SECCOMP_FILTER_FLAG_LOG"], "listenerPath": "/run/l.sock", "listenerMetadata": "m",
                        "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                                     {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "errnoRet": 2,
                                      "args": [{"index": 0, "value": 4294967295, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}]},
            "sysctl": {"net.ipv4.ip_forward": "1"},
            "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"], "mountLabel": "m",
            "intelRdt": {"closID": "c", "enableCMT": true},
            "personality": {"domain": "LINUX32", "flags": []}
          }
        }
        """#

    @Test func everyFieldReadsAsCodableDoes() throws {
        let bytes = Array(Self.everyField.utf8)
        let direct = try Spec.decode(bytes)
        let codable = try JSONDecoder().decode(Spec.self, from: Data(bytes))
        #expect(direct == codable)
        #expect(direct.process?.args?.last == "echo \"quoted\" \\ back/slash é 😀 tab\tend")
        #expect(direct.linux?.seccomp?.syscalls?.last?.args?.first?.value == 4_294_967_295)
    }

    @Test func nullIsAbsentAndIntegersMayBeWrittenAsExactNumbers() throws {
        let bytes = Array(#"{"ociVersion": "1.0.0", "hostname": null, "process": {"user": {"uid": 1e3, "gid": 2.0}, "cwd": "/"}}"#.utf8)
        let spec = try Spec.decode(bytes)
        #expect(spec.hostname == nil)
        #expect(spec.process?.user.uid == 1000 && spec.process?.user.gid == 2)
        #expect(spec == (try JSONDecoder().decode(Spec.self, from: Data(bytes))))
    }

    @Test func errorsNameTheFileAndTheJSONPath() {
        let cases: [(String, String)] = [
            (#"{"ociVersion": "1", "root": {"path": 5}}"#, "c.json: root.path: expected a string"),
            (#"{"ociVersion": "1", "process": {"user": {"uid": 0, "gid": 0}}}"#, "c.json: process.cwd: missing required field"),
            (#"{"ociVersion": "1", "process": {"user": null, "cwd": "/"}}"#, "c.json: process.user: expected an object, found null"),
            (#"{"ociVersion": "1", "linux": {"namespaces": [{"type": "pid"}, {"type": 3}]}}"#, "c.json: linux.namespaces[1].type: expected a string"),
            (#"{"ociVersion": "1", "process": {"user": {"uid": -1, "gid": 0}, "cwd": "/"}}"#, "c.json: process.user.uid: number -1 is not representable as UInt32"),
            (#"{"ociVersion": "1", "hooks": {"prestart": [{"path": 3}]}}"#, "c.json: hooks.prestart[0].path: expected a string"),
            (#"{"ociVersion": "1", "process": {"#, "c.json: invalid JSON: expected a member name at byte 32"),
            (#"{"ociVersion": "1"} x"#, "c.json: invalid JSON: unexpected data after the document at byte 20"),
            (#"{"ociVersion": 01}"#, "c.json: invalid JSON: leading zero in a number at byte 17"),
            (#"[]"#, "c.json: expected an object"),
        ]
        for (json, expected) in cases {
            #expect(throws: SpecError(path: "", expected), "\(json)") { try Spec.decode(Array(json.utf8), file: "c.json") }
        }
    }

    /// What a runtime keeps in its state (process, namespaces, seccomp, hooks, resources) is written by JSONWriter and read
    /// back both by Codable and by the JSONReadable readers (as the runtime reads its state.json): the values must
    /// survive the trip.
    @Test func writtenStateReadsBackUnchanged() throws {
        struct Kept: Codable, Equatable, JSONWritable, JSONReadable {
            var process: OCISpec.Process?
            var namespaces: [Linux.Namespace]
            var seccomp: Seccomp?
            var hooks: Hooks?
            var annotations: [String: String]?
            var resources: Resources?

            func write(to writer: inout JSONWriter) {
                writer.object { writer in
                    writer.field("process", process)
                    writer.field("namespaces", namespaces)
                    writer.field("seccomp", seccomp)
                    writer.field("hooks", hooks)
                    writer.field("annotations", annotations)
                    writer.field("resources", resources)
                }
            }

            init(process: OCISpec.Process?, namespaces: [Linux.Namespace], seccomp: Seccomp?, hooks: Hooks?,
                 annotations: [String: String]?, resources: Resources?) {
                (self.process, self.namespaces, self.seccomp) = (process, namespaces, seccomp)
                (self.hooks, self.annotations, self.resources) = (hooks, annotations, resources)
            }

            init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
                let object = try JSONObject(json, path: path, document: document)
                process = try object.optional("process")
                namespaces = try object.required("namespaces")
                seccomp = try object.optional("seccomp")
                hooks = try object.decoded("hooks")
                annotations = try object.optional("annotations")
                resources = try object.optional("resources")
            }
        }
        let spec = try Spec.decode(Array(Self.everyField.utf8))
        var process = try #require(spec.process)
        process.env = (process.env ?? []) + ["CONTROL=\u{1}\u{1f}\r\n\u{8}\u{c}", "SLASH=/a/b"]
        let kept = Kept(process: process, namespaces: spec.linux?.namespaces ?? [], seccomp: spec.linux?.seccomp,
                        hooks: spec.hooks, annotations: spec.annotations, resources: spec.linux?.resources)
        #expect(kept.resources?.rdma != nil && kept.resources?.unified != nil, "every resources field is in the sample")
        var writer = JSONWriter()
        kept.write(to: &writer)
        #expect(try JSONDecoder().decode(Kept.self, from: Data(writer.bytes)) == kept)
        #expect(try Kept.read(writer.bytes, file: "state.json") == kept)
        let empty = Kept(process: nil, namespaces: [], seccomp: nil, hooks: nil, annotations: [:], resources: nil)
        var emptyWriter = JSONWriter()
        empty.write(to: &emptyWriter)
        #expect(String(decoding: emptyWriter.bytes, as: UTF8.self) == #"{"namespaces":[],"annotations":{}}"#)
        #expect(try Kept.read(emptyWriter.bytes) == empty)
        #expect(try Kept.read(emptyWriter.bytes) == (try JSONDecoder().decode(Kept.self, from: Data(emptyWriter.bytes))))
    }

    /// A state read through `JSONReadable.read` names the file and the JSON path, inside embedded spec parts too.
    @Test func stateReadingErrorsNameTheFileAndTheJSONPath() {
        struct Kept: JSONReadable {
            var process: OCISpec.Process?
            var resources: Resources?
            var hooks: Hooks?
            init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
                let object = try JSONObject(json, path: path, document: document)
                process = try object.optional("process")
                resources = try object.optional("resources")
                hooks = try object.decoded("hooks")
            }
        }
        let cases: [(String, String)] = [
            (#"{"process": {"user": {"uid": "0", "gid": 0}, "cwd": "/"}}"#, "s.json: process.user.uid: expected an integer"),
            (#"{"resources": {"memory": {"limit": 1.5}}}"#, "s.json: resources.memory.limit: number 1.5 is not representable as Int64"),
            (#"{"resources": {"pids": {}}}"#, "s.json: resources.pids.limit: missing required field"),
            (#"{"hooks": {"poststop": [{"path": 3}]}}"#, "s.json: hooks.poststop[0].path: expected a string"),
            (#"{"process": "#, "s.json: invalid JSON: unexpected end of input at byte 12"),
        ]
        for (json, expected) in cases {
            #expect(throws: SpecError(path: "", expected), "\(json)") { try Kept.read(Array(json.utf8), file: "s.json") }
        }
    }
}
