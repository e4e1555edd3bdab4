import TTRPC
import TetherAPI
import TetherSystem

/// The daemon's events (create, start, die, destroy, oom, exec_create, exec_start, exec_die, log-dropped), numbered, the
/// last `capacity` kept, and the `Events` long polls waiting for the next one.
final class EventJournal {
    private var events: [Tether_Daemon_V1_Event] = []
    private var lastSequence: UInt64 = 0
    private let capacity: Int
    private unowned let loop: EventLoop
    private struct Poll {
        let after: UInt64
        let reply: TTRPCResponder<Tether_Daemon_V1_EventsResponse>
        let timer: EventLoop.TimerID?
    }
    private var polls: [Poll] = []

    init(loop: EventLoop, capacity: Int = 1024) {
        self.loop = loop
        self.capacity = capacity
    }

    func publish(_ type: String, _ record: ContainerRecord, exitCode: Int32 = 0, execID: String = "", logDroppedBytes: UInt64 = 0) {
        lastSequence += 1
        let event = Tether_Daemon_V1_Event.with {
            $0.sequence = lastSequence
            $0.timeNs = Daemon.now()
            $0.type = type
            $0.id = record.id
            $0.name = record.name
            $0.exitCode = exitCode
            $0.execID = execID
            $0.logDroppedBytes = logDroppedBytes
        }
        events.append(event)
        if events.count > capacity { events.removeFirst(events.count - capacity) }
        let waiting = polls
        polls.removeAll()
        for poll in waiting {
            if let timer = poll.timer { loop.cancel(timer) }
            answer(poll.after, poll.reply)
        }
    }

    /// Answers at once when there are events after `request.after` (or with `from_now`), else holds the call.
    func poll(_ request: Tether_Daemon_V1_EventsRequest, _ reply: TTRPCResponder<Tether_Daemon_V1_EventsResponse>) {
        if request.fromNow {
            reply.succeed(.with { $0.cursor = lastSequence })
            return
        }
        if lastSequence > request.after {
            answer(request.after, reply)
            return
        }
        let timer = request.timeoutMs == 0 ? nil : loop.schedule(after: UInt64(request.timeoutMs)) { [weak self] in
            guard let self else { return }
            self.polls.removeAll { $0.reply === reply }
            reply.succeed(.with { $0.cursor = self.lastSequence })
        }
        polls.append(Poll(after: request.after, reply: reply, timer: timer))
        reply.onCancel = { [weak self] in
            guard let self else { return }
            self.polls.removeAll { $0.reply === reply }
            if let timer { self.loop.cancel(timer) }
        }
    }

    private func answer(_ after: UInt64, _ reply: TTRPCResponder<Tether_Daemon_V1_EventsResponse>) {
        reply.succeed(.with {
            $0.events = events.filter { $0.sequence > after }
            $0.cursor = lastSequence
        })
    }
}
