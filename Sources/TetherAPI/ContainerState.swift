/// A container's state as tetherd keeps it and its API reports it (`ContainerInfo.status`, docker's
/// `State.Status`): created until its first start, running while its task runs, exited after.
public enum ContainerState: String, Codable, Sendable, CaseIterable {
    case created
    case running
    case exited
}

extension Tether_Daemon_V1_ContainerInfo {
    /// `status` as a state; nil for a value this client does not know (a newer tetherd).
    public var state: ContainerState? { ContainerState(rawValue: status) }
}
