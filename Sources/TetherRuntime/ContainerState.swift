import OCISpec

/// A container's state as `runc state` prints it: the OCI state plus `rootfs`, `created` and `owner`.
/// `pid` is 0 once the container has stopped (runc's convention).
public struct ContainerState: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var id: String
    public var pid: Int32
    public var status: State.Status
    public var bundle: String
    public var rootfs: String
    /// RFC 3339 with nanoseconds, UTC.
    public var created: String
    public var owner: String
    public var annotations: [String: String]?

    public init(ociVersion: String = OCIVersion.current, id: String, pid: Int32, status: State.Status, bundle: String,
                rootfs: String, created: String, owner: String, annotations: [String: String]? = nil) {
        self.ociVersion = ociVersion
        self.id = id
        self.pid = pid
        self.status = status
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.owner = owner
        self.annotations = annotations
    }

    /// The runtime-spec State (what hooks receive on stdin).
    public var oci: State {
        State(ociVersion: ociVersion, id: id, status: status, pid: status == .stopped ? nil : pid, bundle: bundle,
              annotations: annotations)
    }
}
