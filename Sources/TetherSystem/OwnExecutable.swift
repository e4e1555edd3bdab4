#if canImport(Glibc)
import Glibc
#endif

/// The running program's own executable (/proc/self/exe, links resolved), and the programs installed beside it:
/// tetherd starts the tether-shim next to it, tether-harness the shim next to it.
public enum OwnExecutable {
    /// The absolute path of the executable; nil when /proc/self/exe cannot be read.
    public static var path: String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count)
        guard count > 0, count < buffer.count else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `name` in the executable's directory, whether or not it exists there; `name` itself when that directory is
    /// unknown.
    public static func sibling(_ name: String) -> String {
        guard let path, let slash = path.lastIndex(of: "/") else { return name }
        return String(path[..<slash]) + "/" + name
    }
}
