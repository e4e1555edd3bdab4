import CCrypto
import TetherImage

/// Streaming SHA-256 through OpenSSL's libcrypto (Debian's, kept up to date with the system's security fixes).
public struct SHA256: ~Copyable {
    private let context: OpaquePointer

    public init() {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            fatalError("libcrypto: EVP_sha256 unavailable")
        }
        self.context = context
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything updated so far; the hash can go on being updated afterwards.
    public func digest() -> Digest {
        let copy = EVP_MD_CTX_new()!
        defer { EVP_MD_CTX_free(copy) }
        EVP_MD_CTX_copy_ex(copy, context)
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(copy, &output, &length)
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in output {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return Digest(hex: String(decoding: hex, as: UTF8.self))
    }

    public static func digest(_ bytes: [UInt8]) -> Digest {
        var hash = SHA256()
        hash.update(bytes)
        return hash.digest()
    }

    deinit { EVP_MD_CTX_free(context) }
}

/// The chain ids of a layer stack (bottom first): the first is its diff id, each next one is
/// sha256("<previous chain id> <diff id>"), as the OCI image spec defines them.
public func chainIDs(_ diffIDs: [Digest]) -> [Digest] {
    var result = [Digest]()
    for diffID in diffIDs {
        guard let previous = result.last else {
            result.append(diffID)
            continue
        }
        result.append(SHA256.digest(Array("\(previous) \(diffID)".utf8)))
    }
    return result
}
