/// `linux.namespaces[].type`: the runtime-spec's eight namespace kinds. An open set, as Go's
/// `specs.LinuxNamespaceType`: a config may name a kind this runtime does not know, and decoding keeps it so that
/// validation can reject it with its JSON path (`linux.namespaces[2].type: unknown namespace "foo"`, as runc
/// refuses one) instead of failing the whole decode.
public struct NamespaceType: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public static let pid = NamespaceType(rawValue: "pid")
    public static let network = NamespaceType(rawValue: "network")
    public static let mount = NamespaceType(rawValue: "mount")
    public static let ipc = NamespaceType(rawValue: "ipc")
    public static let uts = NamespaceType(rawValue: "uts")
    public static let user = NamespaceType(rawValue: "user")
    public static let cgroup = NamespaceType(rawValue: "cgroup")
    public static let time = NamespaceType(rawValue: "time")

    /// The kinds the runtime-spec defines, in its order.
    public static let known: [NamespaceType] = [.pid, .network, .mount, .ipc, .uts, .user, .cgroup, .time]

    public var isKnown: Bool { NamespaceType.known.contains(self) }
    public var description: String { rawValue }
}
