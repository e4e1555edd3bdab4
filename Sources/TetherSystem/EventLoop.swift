#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux

/// A single-threaded epoll loop. It owns no descriptors: callers register a descriptor with a handler and
/// unregister it before closing it. Timers are kept in a small list; the loop sleeps until the next one.
///
/// Every handler runs on the thread that called `run()`. Nothing here is thread-safe, by design: the shim and
/// the runtime are single-threaded so that they may fork.
public final class EventLoop {
    public struct Events: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: EPOLLIN.rawValue)
        public static let writable = Events(rawValue: EPOLLOUT.rawValue)
        public static let hangup = Events(rawValue: EPOLLHUP.rawValue)
        public static let error = Events(rawValue: EPOLLERR.rawValue)
        public static let peerClosed = Events(rawValue: EPOLLRDHUP.rawValue)
    }

    public typealias Handler = (Events) -> Void

    public struct TimerID: Hashable, Sendable {
        fileprivate let value: UInt64
    }

    private struct Timer {
        let id: TimerID
        var deadline: UInt64
        let interval: UInt64?
        let action: () -> Void
    }

    private let epollFD: Int32
    private var handlers: [Int32: Handler] = [:]
    private var interest: [Int32: Events] = [:]
    private var timers: [Timer] = []
    private var nextTimer: UInt64 = 1
    private var stopped = false

    public init() throws {
        epollFD = try sys("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    deinit { Glibc.close(epollFD) }

    /// Watches `fd` for `events`; `handler` is called with what happened (hang-up and error are always reported).
    public func register(_ fd: Int32, _ events: Events, handler: @escaping Handler) throws {
        var event = epoll_event(events: events.rawValue, data: epoll_data_t(fd: fd))
        let op = handlers[fd] == nil ? EPOLL_CTL_ADD : EPOLL_CTL_MOD
        try sys("epoll_ctl \(fd)") { epoll_ctl(epollFD, op, fd, &event) }
        handlers[fd] = handler
        interest[fd] = events
    }

    /// Changes the events watched for an already registered `fd`.
    public func modify(_ fd: Int32, _ events: Events) throws {
        guard handlers[fd] != nil, interest[fd] != events else { return }
        var event = epoll_event(events: events.rawValue, data: epoll_data_t(fd: fd))
        try sys("epoll_ctl mod \(fd)") { epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event) }
        interest[fd] = events
    }

    public func events(of fd: Int32) -> Events? { interest[fd] }

    public func unregister(_ fd: Int32) {
        guard handlers.removeValue(forKey: fd) != nil else { return }
        interest.removeValue(forKey: fd)
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
    }

    public func isRegistered(_ fd: Int32) -> Bool { handlers[fd] != nil }

    /// Runs `action` once after `milliseconds`, or every `milliseconds` when `repeating`.
    @discardableResult
    public func schedule(after milliseconds: UInt64, repeating: Bool = false, _ action: @escaping () -> Void) -> TimerID {
        let id = TimerID(value: nextTimer)
        nextTimer += 1
        timers.append(Timer(id: id, deadline: Clock.monotonicMilliseconds() + milliseconds,
                            interval: repeating ? milliseconds : nil, action: action))
        return id
    }

    public func cancel(_ id: TimerID) {
        timers.removeAll { $0.id == id }
    }

    /// Makes `run()` return after the current iteration.
    public func stop() { stopped = true }

    /// Runs one iteration: waits at most `maximumWait` ms (or until the next timer) and dispatches.
    public func runOnce(maximumWait: Int32 = -1) throws {
        var wait = maximumWait
        if let next = timers.map(\.deadline).min() {
            let now = Clock.monotonicMilliseconds()
            let untilTimer = next > now ? Int32(min(next - now, UInt64(Int32.max))) : 0
            wait = wait < 0 ? untilTimer : min(wait, untilTimer)
        }
        var ready = [epoll_event](repeating: epoll_event(), count: 64)
        let count = epoll_wait(epollFD, &ready, Int32(ready.count), wait)
        if count < 0 {
            if errno == EINTR { return }
            throw SyscallError.current("epoll_wait")
        }
        for index in 0..<Int(count) {
            let fd = ready[index].data.fd
            // A handler earlier in this batch may have unregistered this fd.
            guard let handler = handlers[fd] else { continue }
            handler(Events(rawValue: ready[index].events))
        }
        fireTimers()
    }

    /// Runs until `stop()` is called.
    public func run() throws {
        stopped = false
        while !stopped { try runOnce() }
    }

    private func fireTimers() {
        let now = Clock.monotonicMilliseconds()
        let due = timers.filter { $0.deadline <= now }
        if due.isEmpty { return }
        for timer in due {
            if let interval = timer.interval, let index = timers.firstIndex(where: { $0.id == timer.id }) {
                timers[index].deadline = now + interval
            } else {
                timers.removeAll { $0.id == timer.id }
            }
            timer.action()
        }
    }
}

public enum Clock {
    public static func monotonicMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }

    public static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Wall-clock time as (seconds, nanoseconds) since the epoch.
    public static func realtime() -> (seconds: Int64, nanoseconds: Int32) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return (Int64(now.tv_sec), Int32(now.tv_nsec))
    }
}
