import FoundationEssentials
import Glibc
import TetherSystem

/// The content-addressed image store: reading and publishing blobs, image records and names. Writers (a pull, a
/// load) hold the store lock shared; GC holds it exclusive. See `StoreLayout` for the files.
public struct ImageStore: Sendable {
    public let layout: StoreLayout

    /// Opens the store at `layout`, creating its directories.
    public init(layout: StoreLayout) throws {
        self.layout = layout
        for directory in layout.directories {
            do { try FileIO.makeDirectories(directory, mode: 0o700) } catch let error as SyscallError {
                throw ImageError.system(error, stage: "open store")
            }
        }
    }

    // MARK: Blobs

    public func hasBlob(_ digest: Digest) -> Bool { FileIO.exists(layout.blob(digest)) }

    public func readBlob(_ digest: Digest) throws -> [UInt8] {
        do { return try FileIO.readFile(layout.blob(digest)) } catch let error as SyscallError where error.errno == ENOENT {
            throw ImageError(.notFound, "blob \(digest) is not in the store")
        } catch let error as SyscallError {
            throw ImageError.system(error, stage: "read blob")
        }
    }

    public func decodeBlob<T: Decodable>(_ type: T.Type, _ digest: Digest) throws -> T {
        do { return try JSONDecoder().decode(type, from: Data(readBlob(digest))) } catch let error as ImageError {
            throw error
        } catch {
            throw ImageError(.corrupt, "blob \(digest) is not a valid \(type): \(error)")
        }
    }

    /// Publishes a file whose digest and size the caller has verified (`ingest/<hex>` or a temp file in the store's
    /// file system): one rename, so the blob appears whole or not at all.
    public func commitBlob(from path: String, as digest: Digest) throws {
        do { try sys("rename \(path) \(layout.blob(digest))") { rename(path, layout.blob(digest)) } } catch let error as SyscallError {
            throw ImageError.system(error, stage: "commit blob")
        }
    }

    /// Every blob in the store.
    public func blobs() throws -> [Digest] {
        try entries(layout.blobsDirectory).compactMap { try? Digest(parsing: Digest.algorithm + ":" + $0) }
    }

    // MARK: Image records

    public func record(_ manifest: Digest) throws -> ImageRecord? {
        let path = layout.imageRecord(manifest)
        guard FileIO.exists(path) else { return nil }
        do {
            return try JSONDecoder().decode(ImageRecord.self, from: Data(FileIO.readFile(path)))
        } catch {
            throw ImageError(.corrupt, "\(path): \(error)", stage: "read image record")
        }
    }

    /// Every complete image in the store (a record is written last, so each one's blobs and snapshots exist).
    public func records() throws -> [ImageRecord] {
        try entries(layout.imagesDirectory).filter { $0.hasSuffix(".json") }.compactMap { name in
            try record(Digest(parsing: Digest.algorithm + ":" + String(name.dropLast(".json".count))))
        }
    }

    public func writeRecord(_ record: ImageRecord) throws {
        try writeJSON(record, to: layout.imageRecord(record.manifest), stage: "write image record")
    }

    /// Completes an image: its record (after every blob and snapshot it names is in place), then its names, so an
    /// image is listed only when it can run. Returns the names now pointing at it.
    public func publish(_ record: ImageRecord, names: [ImageReference]) throws {
        try writeRecord(record)
        try updateRepositories { repositories in
            for name in names where name.tag != nil {
                repositories.tags[ImageReference(domain: name.domain, path: name.path, tag: name.tag, digest: nil).description] = record.manifest
            }
        }
    }

    // MARK: Names

    public func repositories() throws -> Repositories {
        guard FileIO.exists(layout.repositoriesFile) else { return Repositories() }
        do {
            return try JSONDecoder().decode(Repositories.self, from: Data(FileIO.readFile(layout.repositoriesFile)))
        } catch {
            throw ImageError(.corrupt, "\(layout.repositoriesFile): \(error)", stage: "read repositories")
        }
    }

    /// Reads, changes and renames repositories.json under its lock; returns what `change` returns.
    @discardableResult
    public func updateRepositories<T>(_ change: (inout Repositories) throws -> T) throws -> T {
        let lock = try StoreLock(path: layout.repositoriesLock, mode: .exclusive)
        defer { lock.release() }
        var repositories = try repositories()
        let result = try change(&repositories)
        try writeJSON(repositories, to: layout.repositoriesFile, stage: "write repositories")
        return result
    }

    /// The image a reference names: by digest (a manifest, or an index whose record names it), else by its tag.
    public func resolve(_ reference: ImageReference) throws -> ImageRecord? {
        if let digest = reference.digest {
            if let record = try record(digest) { return record }
            return try records().first { $0.index == digest }
        }
        guard let manifest = try repositories().tags[reference.description] else { return nil }
        return try record(manifest)
    }

    // MARK: Helpers

    func entries(_ directory: String) throws -> [String] {
        do { return try FileIO.listDirectory(directory) } catch let error as SyscallError {
            throw ImageError.system(error, stage: "list \(directory)")
        }
    }

    func writeJSON<T: Encodable>(_ value: T, to path: String, stage: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try FileIO.writeAtomically(path, Array(encoder.encode(value)), mode: 0o600)
        } catch let error as SyscallError {
            throw ImageError.system(error, stage: stage)
        } catch {
            throw ImageError(.system, "\(path): \(error)", stage: stage)
        }
    }
}
