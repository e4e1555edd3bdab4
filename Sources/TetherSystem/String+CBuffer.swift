extension String {
    /// The text before the first NUL of a buffer a C call filled in (getcwd, readlink), bytes that are not UTF-8
    /// repaired. `String(cString:)` on an array is deprecated; this is its replacement.
    public init(cBuffer buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self.init(decoding: bytes, as: UTF8.self)
    }
}
