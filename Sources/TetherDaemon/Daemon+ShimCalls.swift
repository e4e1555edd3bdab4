import Logging
import SwiftProtobuf
import TTRPC
import TetherAPI
import TetherSystem

/// Every call tetherd makes to a shim goes through here: a `TTRPCLoopClient` on tetherd's loop (one connection per
/// shim, kept while it lives), with a deadline. tetherd never waits for a shim: a stuck shim (SIGSTOP, a full
/// disk, a bug) delays only its own container's calls, which fail at their deadline with an error that names the
/// container and the shim; every other client is served meanwhile.
extension Daemon {
    /// The deadline of a call to a shim: Kill, Delete, Exec, Start of an exec, ResizePty, Shutdown, State.
    static let shimCallTimeout: Duration = .seconds(5)
    /// The deadline of Create and Start of a container (a runtime create: mounts, cgroups, seccomp).
    static let shimLaunchTimeout: Duration = .seconds(30)

    /// The loop client to the shim at `address`, connected on first use and forgotten when its connection closes.
    func shimConnection(_ address: String) throws -> TTRPCLoopClient {
        if let client = shimConnections[address], !client.isClosed { return client }
        let client = try TTRPCLoopClient(loop: loop, path: address, readBuffer: shimReads)
        client.onClose = { [weak self, weak client] in
            guard let self, let client, self.shimConnections[address] === client else { return }
            self.shimConnections.removeValue(forKey: address)
        }
        shimConnections[address] = client
        return client
    }

    /// Closes tetherd's connection to a shim that is gone or shut down (its pending calls fail).
    func dropShimConnection(_ address: String) {
        shimConnections.removeValue(forKey: address)?.close()
    }

    /// Calls `method` on the shim of container `record` (its `shimAddress`); `completion` runs on the loop, with
    /// an error that names the container and the shim when the call fails, the shim cannot be reached, or it does
    /// not answer within `timeout`.
    func callShim<Request, Response>(
        _ record: ContainerRecord, _ method: TTRPCMethod<Request, Response>, _ request: Request, timeout: Duration = Daemon.shimCallTimeout,
        completion: @escaping (Result<Response, TTRPCStatus>) -> Void
    ) {
        let describe = { (status: TTRPCStatus) in Daemon.shimCallError(record, method.method, status, timeout: timeout) }
        guard !record.shimAddress.isEmpty else {
            loop.schedule(after: 0) { completion(.failure(TTRPCStatus(.failedPrecondition, "container \(record.name): has no shim"))) }
            return
        }
        let client: TTRPCLoopClient
        do {
            client = try shimConnection(record.shimAddress)
        } catch {
            let status = TTRPCStatus(error)
            loop.schedule(after: 0) { completion(.failure(describe(status))) }
            return
        }
        client.call(method, request, timeout: timeout) { result in
            if case .failure(let error) = result, TTRPCStatus(error).code == .deadlineExceeded {
                Daemon.log.warning("shim did not answer in time", metadata: Daemon.fields(record, [
                    "shim": "\(record.shimAddress)", "method": "\(method.method)", "seconds": "\(timeout.components.seconds)"]))
            }
            completion(result.mapError { describe(TTRPCStatus($0)) })
        }
    }

    /// `container web: shim unix:///run/tether/s/…: Kill: did not answer within 5 s`, with the shim's own status code
    /// (so a NotFound from the shim stays a NotFound).
    static func shimCallError(_ record: ContainerRecord, _ method: String, _ status: TTRPCStatus,
                              timeout: Duration) -> TTRPCStatus {
        let what: String
        switch status.code {
        case .deadlineExceeded: what = "did not answer within \(timeout.components.seconds) s"
        case .unavailable where status == .closed: what = "connection closed (the shim exited)"
        default: what = status.message
        }
        return TTRPCStatus(status.code, "container \(record.name): shim \(record.shimAddress): \(method): \(what)")
    }
}
