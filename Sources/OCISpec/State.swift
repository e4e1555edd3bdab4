/// The OCI state of a container (runtime-spec "State"), plus the fields runc's `state` prints.
public struct State: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case creating, created, running, paused, stopped
    }

    public var ociVersion: String
    public var id: String
    public var status: Status
    public var pid: Int32?
    public var bundle: String
    public var annotations: [String: String]?

    public init(ociVersion: String = OCIVersion.current, id: String, status: Status, pid: Int32?, bundle: String,
                annotations: [String: String]? = nil) {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.annotations = annotations
    }
}
