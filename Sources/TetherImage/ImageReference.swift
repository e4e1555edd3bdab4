/// An image reference as docker reads it: `busybox` is `docker.io/library/busybox:latest`,
/// `127.0.0.1:5000/team/app:v1` names a registry by its first component (it has a `.` or `:`, or is `localhost`),
/// and `name@sha256:<hex>` pins a manifest digest.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    public static let defaultDomain = "docker.io"
    public static let defaultTag = "latest"

    /// The registry's host[:port] (`docker.io` for Docker Hub).
    public let domain: String
    /// The repository path in that registry (`library/busybox`, `team/app`).
    public let path: String
    /// The tag; nil when only a digest was given.
    public let tag: String?
    public let digest: Digest?

    public init(domain: String, path: String, tag: String?, digest: Digest?) {
        self.domain = domain
        self.path = path
        self.tag = tag
        self.digest = digest
    }

    /// Parses and normalises `text`; a malformed reference throws naming it and the rule it breaks.
    public init(parsing text: String) throws {
        func invalid(_ why: String) -> ImageError {
            ImageError(.invalidReference, "invalid reference format \"\(text)\": \(why)")
        }
        guard !text.isEmpty, text.utf8.count <= 255 + 128 + 72 else { throw invalid("empty or too long") }
        var remainder = Substring(text)
        var digest: Digest?
        if let at = remainder.firstIndex(of: "@") {
            digest = try Digest(parsing: String(remainder[remainder.index(after: at)...]))
            remainder = remainder[..<at]
        }
        var components = remainder.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var domain = Self.defaultDomain
        if components.count > 1, let first = components.first,
           first.contains(".") || first.contains(":") || first == "localhost" {
            domain = first
            components.removeFirst()
            guard !domain.isEmpty, domain.utf8.allSatisfy({ Self.isDomainByte($0) }) else { throw invalid("bad registry host \"\(domain)\"") }
        }
        var tag: String?
        if var last = components.last, let colon = last.lastIndex(of: ":") {
            let candidate = String(last[last.index(after: colon)...])
            guard Self.isValidTag(candidate) else { throw invalid("bad tag \"\(candidate)\"") }
            tag = candidate
            last = String(last[..<colon])
            components[components.count - 1] = last
        }
        guard !components.isEmpty, components.allSatisfy(Self.isValidPathComponent) else {
            throw invalid("repository names are lowercase letters, digits and separators (. _ __ -) between them")
        }
        if domain == Self.defaultDomain && components.count == 1 { components.insert("library", at: 0) }
        if tag == nil && digest == nil { tag = Self.defaultTag }
        self.init(domain: domain, path: components.joined(separator: "/"), tag: tag, digest: digest)
    }

    /// `domain/path`, the repository's full name.
    public var repository: String { domain + "/" + path }

    /// The repository as docker shows it: `busybox` for `docker.io/library/busybox`, `team/app` on Docker Hub.
    public var familiarRepository: String {
        guard domain == Self.defaultDomain else { return repository }
        return path.hasPrefix("library/") ? String(path.dropFirst("library/".count)) : path
    }

    /// The host the distribution API is served from (Docker Hub's API is not at docker.io).
    public var apiHost: String { domain == Self.defaultDomain ? "registry-1.docker.io" : domain }

    /// The tag or digest the registry's manifest endpoint takes (the digest wins when both are given).
    public var manifestReference: String { digest?.description ?? tag ?? Self.defaultTag }

    /// The full normalised form: `docker.io/library/busybox:latest`, `host/app@sha256:...`.
    public var description: String {
        var text = repository
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest.description }
        return text
    }

    /// Whether plain HTTP may be used without being listed as insecure: only a loopback registry.
    public var isLoopback: Bool {
        let host = domain.split(separator: ":").first.map(String.init) ?? domain
        return host == "localhost" || host == "127.0.0.1" || host == "[::1]"
    }

    static func isDomainByte(_ byte: UInt8) -> Bool {
        (0x61...0x7a).contains(byte) || (0x41...0x5a).contains(byte) || (0x30...0x39).contains(byte)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":")
            || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isValidPathComponent(_ component: String) -> Bool {
        let bytes = Array(component.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last) else { return false }
        var index = 0
        while index < bytes.count {
            if isAlphanumeric(bytes[index]) { index += 1; continue }
            var end = index
            while end < bytes.count && !isAlphanumeric(bytes[end]) { end += 1 }
            let separator = bytes[index..<end]
            let ok = separator.elementsEqual([UInt8(ascii: ".")]) || separator.elementsEqual([UInt8(ascii: "_")])
                || separator.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")]) || separator.allSatisfy { $0 == UInt8(ascii: "-") }
            guard ok else { return false }
            index = end
        }
        return true
    }

    /// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
    static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard let first = bytes.first, bytes.count <= 128, first != UInt8(ascii: "."), first != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || (0x41...0x5a).contains($0) || $0 == UInt8(ascii: "_")
            || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool { (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) }
}
