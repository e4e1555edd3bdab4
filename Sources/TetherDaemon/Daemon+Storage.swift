#if canImport(Glibc)
import Glibc
#endif
import TTRPC
import TetherSystem

/// tetherd's writes to disk, every one checked: a failure is an error that names the path and the errno
/// (`write /var/lib/tether/containers/ID/record.json: no space left on device`), never a silent loss.
/// A new container's record is durable before its id is given out: the file, its directory and the directory's
/// entry in `containers/` are fsynced (`saveDurably`); later changes to a record are written atomically but not
/// synced (`save`), since a restart re-derives a status from the shim (see `reconnect`).
extension Daemon {
    /// Writes the record of a container whose id is about to be given out (`create`; `run` once its task runs;
    /// `start`): its directory, the file, fsync of both and of `containers/` for a first record. On success the
    /// record is tetherd's; on failure nothing of the write is left (a directory it made is removed) and the
    /// error names the path and the errno.
    func saveDurably(_ record: ContainerRecord) throws {
        let directory = containerDirectory(record.id)
        let madeDirectory = try DurableFile.makeDirectory(directory, mode: 0o755)
        // A first record: its directory (made now, or by `run`'s launch) must be durable in `containers/` too.
        let isFirstRecord = madeDirectory || !FileIO.exists(recordPath(record.id))
        do {
            try DurableFile.write(recordPath(record.id), record.jsonBytes, mode: 0o600, sync: true)
            if isFirstRecord { try DurableFile.syncDirectory(configuration.root + "/containers") }
        } catch {
            if madeDirectory { try? FileIO.removeTree(directory) }
            throw error
        }
        records[record.id] = record
    }

    /// Writes a changed record (atomically, not synced). A failure (a full disk) is reported on tetherd's stderr
    /// and the record stays tetherd's in memory: the next change writes it again, and a restart re-derives a
    /// running container's status from its shim.
    func save(_ record: ContainerRecord) {
        records[record.id] = record
        do {
            try DurableFile.write(recordPath(record.id), record.jsonBytes, mode: 0o600, sync: false)
        } catch {
            Daemon.log.error("could not write the container's record", metadata: Daemon.fields(record, ["error": "\(error)"]))
        }
    }
}

/// Checked file-system writes whose errors name the path and the errno in lower case, as Go prints them
/// (`mkdir /x: no space left on device`), as a status the API answers with.
enum DurableFile {
    /// Writes `bytes` to `path` through a temporary file in the same directory and a rename: a reader (and a
    /// tetherd restarted after `kill -9`) sees the old or the new file. With `sync`, the file is fsynced before
    /// the rename and its directory after it, so the new file outlives a crash of the machine. A failed write
    /// removes the temporary file.
    static func write(_ path: String, _ bytes: [UInt8], mode: mode_t, sync: Bool) throws {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("open", temporary) }
        var isOpen = true
        do {
            try bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(fd, base + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw failure("write", path)
                    }
                    offset += written
                }
            }
            if sync && fsync(fd) != 0 { throw failure("fsync", path) }
            // close reports a write-back error that some file systems (NFS) only know then; the fd is gone either way.
            isOpen = false
            if Glibc.close(fd) != 0 && errno != EINTR { throw failure("close", path) }
        } catch {
            if isOpen { _ = Glibc.close(fd) }
            _ = unlink(temporary)
            throw error
        }
        if rename(temporary, path) != 0 {
            let error = failure("rename", path)
            _ = unlink(temporary)
            throw error
        }
        if sync, let slash = path.lastIndex(of: "/") { try syncDirectory(String(path[..<slash])) }
    }

    /// fsync of a directory: the entries made in it (a rename, a new subdirectory) outlive a crash of the machine.
    static func syncDirectory(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", path) }
        defer { _ = Glibc.close(fd) }
        if fsync(fd) != 0 { throw failure("fsync", path) }
    }

    /// mkdir of a directory whose parent exists (one system call on `run`'s path), else mkdir -p; true when it
    /// made `path` (false: it existed).
    @discardableResult
    static func makeDirectory(_ path: String, mode: mode_t) throws -> Bool {
        if mkdir(path, mode) == 0 { return true }
        if errno == EEXIST { return false }
        do {
            try FileIO.makeDirectories(path, mode: mode)
            return true
        } catch let error as SyscallError {
            throw status(error)
        }
    }

    /// `call path: message` for the current errno.
    static func failure(_ call: String, _ path: String) -> TTRPCStatus {
        status(SyscallError("\(call) \(path)", errno: errno))
    }

    /// A failed system call as the API's error: `mkdir /x: no space left on device` (resource exhausted for a
    /// full disk or quota).
    static func status(_ error: SyscallError) -> TTRPCStatus {
        let code: TTRPCStatusCode = error.errno == ENOSPC || error.errno == EDQUOT ? .resourceExhausted : TTRPCStatus(error).code
        var text = SyscallError.describe(error.errno)
        if let first = text.first, first.isUppercase, text.dropFirst().first?.isLowercase == true {
            text = first.lowercased() + text.dropFirst()
        }
        return TTRPCStatus(code, "\(error.call): \(text)")
    }
}
