import TetherImage

/// PLACEHOLDER until the archive work lands: the signatures `tether-image load` and `save` build on.
public enum ImageArchive {
    /// Loads every image of an OCI image layout tarball or a `docker save` archive into `store` (blobs verified,
    /// layers unpacked, records and names published); returns the names it tagged, as docker prints them.
    public static func load(into store: ImageStore, from path: String) throws -> [String] {
        throw ImageError(.unsupported, "load is not built yet", stage: "load")
    }

    /// Writes the images `references` name as one tarball that is both an OCI image layout and a `docker save`
    /// archive (docker 25's format), so either loads it back with the same digests.
    public static func save(from store: ImageStore, references: [String], to path: String) throws {
        throw ImageError(.unsupported, "save is not built yet", stage: "save")
    }
}
