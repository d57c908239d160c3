import Foundation
import SimforgeModels

/// The environment a step's command sees (API.md "Execution environment of a run"), built
/// from scratch: nothing of the agent's (no token, no service URL) but, on Slurm, the
/// allocation's `SLURM_*` variables that `mpirun` and `srun` read.
struct RunEnvironment {
    let jobId: String
    let run: Run
    let directory: String
    let user: RunUser?
    /// The agent's own environment, for the Slurm variables.
    let agentEnvironment: [String: String]
    /// The MPI machine file's path, for an analysis with `useMpi`.
    let machineFile: String?

    func variables(for analysis: Job.JobAnalysis, version: AnalysisVersionEnvironment) -> [String: String] {
        let hardware = analysis.hardware
        var environment = [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": self.directory,
            "LANG": "C.UTF-8",
            "SIMFORGE_JOB_ID": self.jobId,
            "SIMFORGE_RUN_ID": self.run.id,
            "SIMFORGE_SLOTS": "\(hardware.slots)",
            "SIMFORGE_CORES_PER_SLOT": "\(hardware.coresPerSlot)",
            "SIMFORGE_CORES": "\(hardware.coresPerSlot)",
        ]
        if let user {
            environment["USER"] = user.name
            environment["LOGNAME"] = user.name
        }
        for (name, value) in self.agentEnvironment where name.hasPrefix("SLURM_") {
            environment[name] = value
        }
        if analysis.useMpi, let machineFile {
            environment["SIMFORGE_MACHINEFILE"] = machineFile
            environment["MACHINEFILE"] = machineFile
            environment["SIMFORGE_MPI_RANKS"] = "\(hardware.coresPerSlot)"
        }
        for variable in self.run.variables {
            environment[variable.name] = variable.displayValue
            environment["SIMFORGE_VAR_\(variable.name)"] = variable.displayValue
        }
        environment.merge(version.environment) { $1 }
        environment.merge(analysis.envVars) { $1 }
        return environment
    }
}
