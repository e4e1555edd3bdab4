/// Where the container's memory cgroup is: what the OOM watch needs (`OOMNotifier(memoryDirectory:isV2:)`). The
/// one-off child that creates the container (OneOffChild) asks the runtime library (`Runtime.memoryCgroup(id:)`,
/// from the record it has just written) and sends the answer back; the long-lived shim builds the notifier from
/// it without decoding the state record itself (its code and metadata would stay resident in every shim).
struct MemoryCgroup: Equatable {
    var directory: String
    var isV2: Bool

    /// As OneOffChild carries it: a kind byte (0 none, 1 v1, 2 v2), then the directory.
    static func encode(_ cgroup: MemoryCgroup?) -> [UInt8] {
        guard let cgroup else { return [0] }
        return [cgroup.isV2 ? 2 : 1] + Array(cgroup.directory.utf8)
    }

    static func decode(_ bytes: ArraySlice<UInt8>) -> MemoryCgroup? {
        guard let kind = bytes.first, kind != 0 else { return nil }
        return MemoryCgroup(directory: String(decoding: bytes.dropFirst(), as: UTF8.self), isV2: kind == 2)
    }
}
