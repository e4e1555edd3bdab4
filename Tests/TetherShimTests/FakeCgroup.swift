import TetherSystem
import TetherTestSupport

/// A temporary directory laid out as a cgroup (file name → content), for the stats readers; removed with the value.
enum FakeCgroup {
    static func make(_ files: [String: String]) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory("tether-fake-cgroup")
        for (name, content) in files { try FileIO.writeFile(directory.path + "/" + name, content) }
        return directory
    }
}
