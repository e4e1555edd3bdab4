#if canImport(Glibc)
import Glibc
#endif
import SwiftProtobuf
import TetherSystem

/// A ttrpc server on a single-threaded `EventLoop`: accepts on a listening unix socket, serves any number of
/// connections with non-blocking IO, and dispatches requests by fully-qualified service and method.
/// Handlers run on the loop thread and may answer later (`TTRPCResponder`), so one blocking-style call
/// (`Wait`) never holds up the others on the same connection.
///
/// Connections whose peer fails `authorize` (default: root or the server's own effective uid, checked with
/// SO_PEERCRED) are closed right after accept, as ttrpc's `UnixSocketRequireSameUser` handshake does.
public final class TTRPCServer {
    public let loop: EventLoop
    public let dispatcher = TTRPCDispatcher()
    private var listener: Int32?
    private var connections: [Int32: ServerConnection] = [:]
    private var acceptRetry: EventLoop.TimerID?
    fileprivate let readBuffer = TTRPCReadBuffer()

    /// The live connection count, after every accept and close (so a shim can exit when idle).
    public var onConnectionsChanged: ((Int) -> Void)?
    /// Who may connect. The default lets root and the server's effective uid in.
    public var authorize: (UnixSocket.PeerCredentials) -> Bool = TTRPCServer.rootOrSameUser
    /// Called with every connection refused by `authorize` (for the log).
    public var onRejected: ((UnixSocket.PeerCredentials) -> Void)?

    public static func rootOrSameUser(_ peer: UnixSocket.PeerCredentials) -> Bool {
        peer.uid == 0 || peer.uid == geteuid()
    }

    /// Serves on `listener`, an already-listening socket; the server owns it from now on and closes it on
    /// `shutdown()`. Accepting starts right away, on `loop`.
    public init(loop: EventLoop, listener: Int32) {
        self.loop = loop
        self.listener = listener
        _ = try? FileIO.setNonblocking(listener)
        startAccepting()
    }

    public var connectionCount: Int { connections.count }

    /// Requests in flight over all connections.
    public var activeCalls: Int { connections.values.reduce(0) { $0 + $1.session.activeCalls } }

    /// Registers `handler` for `method` (see `TTRPCDispatcher.register(_:_:)`).
    public func register<Request, Response>(
        _ method: TTRPCMethod<Request, Response>, _ handler: @escaping (Request, TTRPCContext, TTRPCResponder<Response>) -> Void
    ) {
        dispatcher.register(method, handler)
    }

    /// A handler that answers right away: returns the response or throws (see `TTRPCDispatcher`).
    public func register<Request, Response>(
        _ method: TTRPCMethod<Request, Response>, sync handler: @escaping (Request) throws -> Response
    ) {
        dispatcher.register(method, sync: handler)
    }

    /// Serves an already-connected socket (e.g. one end of a socketpair) as if it had been accepted.
    public func serve(connected fd: Int32) throws {
        let peer = (try? UnixSocket.peerCredentials(fd)) ?? UnixSocket.PeerCredentials.of(pid: 0, uid: geteuid(), gid: getegid())
        try adopt(fd, peer: peer)
    }

    /// Stops accepting new connections (and closes the listener); existing connections keep being served.
    public func stopAccepting() {
        if let acceptRetry { loop.cancel(acceptRetry) }
        acceptRetry = nil
        if let listener {
            loop.unregister(listener)
            FileIO.close(listener)
        }
        listener = nil
    }

    /// Stops accepting and closes the listener and every connection. Answers already queued are written
    /// first as far as the sockets take them without blocking (so a Shutdown reply goes out before the close).
    public func shutdown() {
        stopAccepting()
        for connection in Array(connections.values) { connection.close() }
    }

    /// ttrpc's graceful `Shutdown`: stops accepting, closes each connection once it has no call in flight
    /// (checked every 20 ms), and closes whatever is left after `timeoutMilliseconds`. `completion` runs on the
    /// loop once every connection is closed.
    public func shutdownWhenIdle(timeoutMilliseconds: UInt64 = 5000, completion: @escaping () -> Void = {}) {
        stopAccepting()
        let deadline = Clock.monotonicMilliseconds() + timeoutMilliseconds
        var timer: EventLoop.TimerID?
        let check: () -> Bool = { [weak self] in
            guard let self else { return true }
            let force = Clock.monotonicMilliseconds() >= deadline
            for connection in Array(self.connections.values) where force || connection.session.activeCalls == 0 {
                connection.close()
            }
            return self.connections.isEmpty
        }
        if check() {
            completion()
            return
        }
        timer = loop.schedule(after: 20, repeating: true) { [weak self] in
            guard check() else { return }
            if let timer, let self { self.loop.cancel(timer) }
            completion()
        }
    }

    private func startAccepting() {
        guard let listener else { return }
        do {
            try loop.register(listener, .readable) { [weak self] _ in self?.acceptPending() }
        } catch {
            retryAcceptLater()
        }
    }

    private func acceptPending() {
        guard let listener else { return }
        for _ in 0..<64 {
            let fd: Int32
            do {
                guard let accepted = try UnixSocket.accept(listener) else { return }
                fd = accepted
            } catch {
                // EMFILE and friends: the listener stays readable, so back off instead of spinning.
                loop.unregister(listener)
                retryAcceptLater()
                return
            }
            guard let peer = try? UnixSocket.peerCredentials(fd), authorize(peer) else {
                if let peer = try? UnixSocket.peerCredentials(fd) { onRejected?(peer) }
                FileIO.close(fd)
                continue
            }
            do {
                try adopt(fd, peer: peer)
            } catch {
                FileIO.close(fd)
            }
        }
    }

    private func retryAcceptLater() {
        guard acceptRetry == nil else { return }
        acceptRetry = loop.schedule(after: 100) { [weak self] in
            self?.acceptRetry = nil
            self?.startAccepting()
        }
    }

    private func adopt(_ fd: Int32, peer: UnixSocket.PeerCredentials) throws {
        let connection = try ServerConnection(server: self, fd: fd, peer: peer)
        connections[fd] = connection
        onConnectionsChanged?(connections.count)
    }

    fileprivate func connectionClosed(_ fd: Int32) {
        guard connections.removeValue(forKey: fd) != nil else { return }
        onConnectionsChanged?(connections.count)
    }
}

/// One accepted connection: the socket plus the protocol session.
private final class ServerConnection {
    let socket: TTRPCSocketConnection
    let session: TTRPCServerSession

    init(server: TTRPCServer, fd: Int32, peer: UnixSocket.PeerCredentials) throws {
        let socket = try TTRPCSocketConnection(loop: server.loop, fd: fd, readBuffer: server.readBuffer)
        self.socket = socket
        let loop = server.loop
        let transport = TTRPCServerSession.Transport(
            send: { [weak socket] streamID, type, data in socket?.send(streamID: streamID, type: type, data: data) },
            schedule: { nanoseconds, action in
                let id = loop.schedule(after: (nanoseconds + 999_999) / 1_000_000, action)
                return { loop.cancel(id) }
            })
        let session = TTRPCServerSession(dispatcher: server.dispatcher, peer: peer, transport: transport)
        self.session = session
        socket.onEvent = { event in session.receive(event) }
        socket.onClose = { [weak server] in
            session.close()
            server?.connectionClosed(fd)
        }
    }

    func close() { socket.close() }
}
