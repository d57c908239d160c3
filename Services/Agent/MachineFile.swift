import Foundation
import SimforgeProcess

/// An MPI run's hosts in OpenMPI's hostfile syntax (`host slots=N`, one line per node):
/// this host with the run's cores, or on Slurm the nodes of the run's allocation with the
/// tasks Slurm gave each (`SLURM_JOB_NODELIST`, `SLURM_TASKS_PER_NODE`).
enum MachineFile {
    static let name = ".simforge-machinefile"

    /// The lines for the run; `environment` is the agent's (Slurm's variables when on Slurm).
    static func lines(cores: Int, environment: [String: String]) async -> [String] {
        guard let nodeList = environment["SLURM_JOB_NODELIST"], let tasks = environment["SLURM_TASKS_PER_NODE"] else {
            return ["localhost slots=\(cores)"]
        }
        let hosts = await Self.hostnames(nodeList, environment: environment)
        let slots = Self.expand(tasksPerNode: tasks)
        guard !hosts.isEmpty, hosts.count == slots.count else { return ["localhost slots=\(cores)"] }
        return zip(hosts, slots).map { "\($0) slots=\($1)" }
    }

    /// `2(x3),1` → `[2, 2, 2, 1]`.
    static func expand(tasksPerNode: String) -> [Int] {
        tasksPerNode.split(separator: ",").flatMap { part -> [Int] in
            guard let open = part.firstIndex(of: "(") else { return Int(part).map { [$0] } ?? [] }
            let count = Int(part[..<open]) ?? 0
            let times = Int(part[part.index(open, offsetBy: 2)...].dropLast()) ?? 1
            return Array(repeating: count, count: times)
        }
    }

    /// Slurm's compressed node list (`node[1-3],gpu7`) as host names, by `scontrol show hostnames`.
    private static func hostnames(_ nodeList: String, environment: [String: String]) async -> [String] {
        let commandEnvironment = environment.filter { $0.key == "PATH" || $0.key == "SLURM_CONF" }
        guard let result = try? await CommandResult.run(
            "scontrol", ["show", "hostnames", nodeList], environment: commandEnvironment, searchPath: true), result.succeeded
        else { return [] }
        return result.output.split(whereSeparator: \.isNewline).map(String.init)
    }
}
