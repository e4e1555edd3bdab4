import Logging

/// tetherd's log (stderr, logfmt; `tetherd --log-level`): each failure and each recovery once, with the container's
/// `id` (and `name`), as containerd logs its shims' and tasks' troubles. What a client asked for and got is not
/// logged: the client has the answer, and `events` has the history.
extension Daemon {
    static let log = Logger(label: "tetherd")

    /// The fields naming a container in a line of the log.
    static func fields(_ record: ContainerRecord, _ more: Logger.Metadata = [:]) -> Logger.Metadata {
        var fields: Logger.Metadata = ["id": "\(record.id)"]
        if !record.name.isEmpty { fields["name"] = "\(record.name)" }
        return fields.merging(more) { $1 }
    }
}
