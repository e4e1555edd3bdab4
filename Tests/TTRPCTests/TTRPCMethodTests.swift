import Foundation
import SwiftProtobuf
import TetherAPI
import TetherSystem
import Testing
@testable import TTRPC

/// The generated method descriptors against the .proto files they come from, and a typed call through the
/// server and both clients.
@Suite("TTRPC typed methods")
struct TTRPCMethodTests {
    /// One descriptor as the proto would spell it: path and the full proto names of its message types.
    struct Described: Equatable, CustomStringConvertible {
        let path: String
        let request: String
        let response: String
        var description: String { "\(path)(\(request)) returns (\(response))" }

        init(path: String, request: String, response: String) {
            self.path = path
            self.request = request
            self.response = response
        }

        init<Request, Response>(_ method: TTRPCMethod<Request, Response>) {
            self.init(path: method.path, request: Request.protoMessageName, response: Response.protoMessageName)
        }
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let protoRoot = repository.appendingPathComponent("Sources/TetherAPI/Proto")

    /// Every rpc of the proto's service blocks, read the simple way (the generator is awk; this is a second reader).
    static func rpcs(in proto: String) throws -> [Described] {
        let text = try String(contentsOf: protoRoot.appendingPathComponent(proto), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
            .joined(separator: "\n")
        let package = try #require(text.firstMatch(of: /package\s+([\w.]+)\s*;/)).1
        var found: [Described] = []
        for service in text.matches(of: /service\s+(\w+)\s*\{([^}]*)\}/) {
            for rpc in service.2.matches(of: /rpc\s+(\w+)\s*\(\s*([\w.]+)\s*\)\s*returns\s*\(\s*([\w.]+)\s*\)/) {
                let qualify = { (type: Substring) in type.contains(".") ? String(type) : "\(package).\(type)" }
                found.append(Described(path: "/\(package).\(service.1)/\(rpc.1)", request: qualify(rpc.2), response: qualify(rpc.3)))
            }
        }
        return found
    }

    static let task: [Described] = [
        .init(TaskService.state), .init(TaskService.create), .init(TaskService.start), .init(TaskService.delete),
        .init(TaskService.pids), .init(TaskService.pause), .init(TaskService.resume), .init(TaskService.checkpoint),
        .init(TaskService.kill), .init(TaskService.exec), .init(TaskService.resizePty), .init(TaskService.closeIO),
        .init(TaskService.update), .init(TaskService.wait), .init(TaskService.stats), .init(TaskService.connect),
        .init(TaskService.shutdown),
    ]

    static let daemon: [Described] = [
        .init(DaemonService.run), .init(DaemonService.list), .init(DaemonService.inspect), .init(DaemonService.kill),
        .init(DaemonService.stop), .init(DaemonService.wait), .init(DaemonService.remove), .init(DaemonService.prune),
        .init(DaemonService.create), .init(DaemonService.start), .init(DaemonService.restart), .init(DaemonService.exec),
        .init(DaemonService.startExec), .init(DaemonService.waitExec), .init(DaemonService.resize), .init(DaemonService.events),
    ]

    @Test func descriptorsMatchTheirProtos() throws {
        #expect(Self.task == (try Self.rpcs(in: "containerd/task/v2/shim.proto")))
        #expect(Self.daemon == (try Self.rpcs(in: "tether/daemon/v1/daemon.proto")))
        #expect([Described(EventsService.forward)] == (try Self.rpcs(in: "containerd/services/ttrpc/events/v1/events.proto")))
        #expect(TaskService.create.path == "/containerd.task.v2.Task/Create")
        #expect(TaskService.resizePty.method == "ResizePty")
        #expect(DaemonService.run.path == "/tether.daemon.v1.Daemon/Run")
        #expect(EventsService.forward.path == "/containerd.services.events.ttrpc.v1.Events/Forward")
        #expect(TaskService.methodNames == Self.task.map { String($0.path.split(separator: "/").last!) })
        #expect(DaemonService.methodNames.count == 16)
    }

    /// `make proto` would write what is committed: the generator's output for each proto is the file in Generated/.
    @Test func committedDescriptorsAreTheGeneratorsOutput() throws {
        let generated = Self.repository.appendingPathComponent("Sources/TetherAPI/Generated")
        let committed = try FileManager.default.contentsOfDirectory(atPath: generated.path).filter { $0.hasSuffix(".methods.swift") }.sorted()
        #expect(committed == ["containerd_services_ttrpc_events_v1_events.methods.swift", "containerd_task_v2_shim.methods.swift",
                              "tether_daemon_v1_daemon.methods.swift"])
        for (proto, file) in [("containerd/task/v2/shim.proto", "containerd_task_v2_shim.methods.swift"),
                              ("tether/daemon/v1/daemon.proto", "tether_daemon_v1_daemon.methods.swift"),
                              ("containerd/services/ttrpc/events/v1/events.proto", "containerd_services_ttrpc_events_v1_events.methods.swift")] {
            let output = try Self.generate(proto)
            #expect(output.status == 0, "\(proto): \(output.stderr)")
            let expected = try String(contentsOf: generated.appendingPathComponent(file), encoding: .utf8)
            #expect(output.stdout + "\n" == expected, "\(file) is stale: run make proto")
        }
        // A proto without a service block gets no file; a streaming rpc is refused with the file named.
        #expect(try Self.generate("containerd/types/mount.proto").stdout.isEmpty)
        let streaming = FileManager.default.temporaryDirectory.appendingPathComponent("ttrpc-stream-\(getpid()).proto")
        try "syntax = \"proto3\";\npackage a.b;\nservice S {\n  rpc Watch(stream Req) returns (Resp);\n}\n"
            .write(to: streaming, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: streaming) }
        let refused = try Self.generate(streaming.path, absolute: true)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains(streaming.path) && refused.stderr.contains("rpc Watch"))
    }

    static func generate(_ proto: String, absolute: Bool = false) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        let path = absolute ? proto : protoRoot.appendingPathComponent(proto).path
        process.arguments = [Self.repository.appendingPathComponent("scripts/proto-methods.sh").path, path, proto, "Public"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self).trimmingCharacters(in: .newlines),
                String(decoding: stderr, as: UTF8.self))
    }

    /// A typed handler and typed calls from both clients: the request arrives under the descriptor's service and
    /// method, and the response comes back as the descriptor's type.
    @Test func typedRoundTripThroughServerAndClients() throws {
        let seen = Box<[String]>([])
        let server = try ServerThread { server in
            server.register(DaemonService.inspect) { request, context, responder in
                seen.update { $0?.append("/\(context.service)/\(context.method)") }
                responder.succeed(.with {
                    $0.id = request.id
                    $0.status = "running"
                })
            }
            server.register(DaemonService.prune, sync: { _ in .with { $0.removed = ["a", "b"] } })
        }
        let client = try TTRPCClient(path: server.path)
        defer { client.close() }
        let info = try client.call(DaemonService.inspect, .with { $0.id = "web" }, timeout: .seconds(10))
        #expect(info.id == "web" && info.status == "running")
        #expect(try client.call(DaemonService.prune, Google_Protobuf_Empty()).removed == ["a", "b"])
        #expect(throws: TTRPCStatus(.unimplemented, "method List")) {
            try client.call(DaemonService.list, .with { $0.all = true }, timeout: .seconds(10))
        }

        let clientThread = try LoopThread()
        clientThread.start()
        defer { clientThread.stop() }
        let path = server.path
        let loopClient = try #require(clientThread.sync { () -> TTRPCLoopClient? in try? TTRPCLoopClient(loop: clientThread.loop, path: path) })
        let answer = Box<String>()
        let done = DispatchSemaphore(value: 0)
        clientThread.post {
            loopClient.call(DaemonService.inspect, .with { $0.id = "db" }, timeout: .seconds(10)) { result in
                answer.set((try? result.get().id) ?? "failed: \(result)")
                done.signal()
            }
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(answer.value == "db")
        clientThread.sync { loopClient.close() }
        #expect(seen.value == ["/tether.daemon.v1.Daemon/Inspect", "/tether.daemon.v1.Daemon/Inspect"])
    }
}

/// tetherd's container states as its API carries them.
@Suite("Container states")
struct ContainerStateTests {
    @Test func statesAreTheAPIsStrings() throws {
        #expect(ContainerState.allCases.map(\.rawValue) == ["created", "running", "exited"])
        #expect(Tether_Daemon_V1_ContainerInfo.with { $0.status = "running" }.state == .running)
        #expect(Tether_Daemon_V1_ContainerInfo.with { $0.status = "restarting" }.state == nil)
        #expect(Tether_Daemon_V1_ContainerInfo().state == nil)
        let encoded = try JSONEncoder().encode(["status": ContainerState.exited])
        #expect(String(decoding: encoded, as: UTF8.self) == #"{"status":"exited"}"#)
        #expect(try JSONDecoder().decode([ContainerState].self, from: Data(#"["created"]"#.utf8)) == [.created])
    }
}
