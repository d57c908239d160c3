import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import JobsService

/// Hardware is honoured: a run gets its cores (the local backend counts them), a request
/// larger than the largest node is refused, and `useMpi` gives the run a machine file and its
/// ranks, with real `mpirun` (as an unprivileged user: OpenMPI refuses root) on the local
/// backend and inside a Slurm allocation.
@Suite struct ParallelTests {
    typealias S = JobsStack
    typealias E = ExecutionTests

    static func job(_ command: String, cores: Int, mpi: Bool = false, inputs: [String] = [], code: String = "user_included") -> [String: Any] {
        ["name": "parallel", "jobanalyses": [[
            "analysis": ["code": code], "command": command, "useMpi": mpi,
            "hardware": ["coreType": "standard", "coresPerSlot": cores], "inputFiles": inputs.map { ["id": $0] },
        ]]]
    }

    /// Five runs asking for 6 cores in all, on a backend with 2: never more than 2 at once.
    @Test func theLocalBackendNeverRunsMoreCoresThanItHas() async throws {
        try await E.run(.local, localCores: 2) { client, stack, _ in
            let command = "date +%s.%N > start.txt && sleep 1 && date +%s.%N > end.txt"
            var jobs: [(id: String, cores: Int)] = []
            for cores in [1, 2, 1, 1, 1] {
                jobs.append((try await StepsTests.submit(client, Self.job(command, cores: cores)), cores))
            }
            var intervals: [(start: Double, end: Double, cores: Int)] = []
            for (id, cores) in jobs {
                #expect(try await E.waitFor("Completed", id, stack, seconds: 60).first?.statusReason == "Completed successfully")
                let outputs = try await E.outputs(id, stack)
                let start = try #require(Double(try await E.contents(outputs["start.txt"], stack).trimmingCharacters(in: .whitespacesAndNewlines)))
                let end = try #require(Double(try await E.contents(outputs["end.txt"], stack).trimmingCharacters(in: .whitespacesAndNewlines)))
                intervals.append((start, end, cores))
            }
            let busiest = intervals.map { moment in
                intervals.filter { $0.start <= moment.start && moment.start < $0.end }.reduce(0) { $0 + $1.cores }
            }.max() ?? 0
            #expect(busiest == 2, "at most 2 cores at once, and all of them used: \(intervals)")
        }
    }

    @Test(arguments: ExecutionTests.Backend.allCases)
    func moreCoresThanTheLargestNodeIsRefusedAtCreate(backend: ExecutionTests.Backend) async throws {
        try await E.run(backend, localCores: 2) { client, _, _ in
            let body = String(decoding: try JSONSerialization.data(withJSONObject: Self.job("true", cores: 4)), as: UTF8.self)
            let response = try await client.execute(uri: "/alice/api/v2/jobs/", method: .post, headers: S.alice, body: ByteBuffer(string: body))
            #expect(response.status == .badRequest)
            let hardware = (((try S.json(response)["jobanalyses"] as? [[String: Any]])?.first)?["hardware"] as? [String: Any])
            let nodeCores = ProcessInfo.processInfo.activeProcessorCount
            let most = backend == .local ? 2 : nodeCores
            #expect((hardware?["coresPerSlot"] as? [String])?.first?.hasPrefix("Ensure this value is less than or equal to \(most)") == true)
            let list = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/", method: .get, headers: S.alice))
            #expect(list["count"] as? Int == 0)
        }
    }

    @Test(arguments: ExecutionTests.Backend.allCases)
    func anMPIRunGetsItsMachineFileAndRanks(backend: ExecutionTests.Backend) async throws {
        try await E.run(backend, runAs: "nobody") { client, stack, _ in
            let command = """
                cat "$SIMFORGE_MACHINEFILE" > machinefile.txt && echo "$SIMFORGE_MPI_RANKS $MACHINEFILE" > ranks.txt && env > env.txt \
                && mpirun -np "$SIMFORGE_MPI_RANKS" --hostfile "$SIMFORGE_MACHINEFILE" hostname > hosts.txt
                """
            let id = try await StepsTests.submit(client, Self.job(command, cores: 2, mpi: true))
            let history = try await E.waitFor("Completed", id, stack, seconds: 60)
            let outputs = try await E.outputs(id, stack)
            let processLog = try await E.contents(outputs["process_output.log"], stack)
            #expect(history.first?.statusReason == "Completed successfully", "\(processLog)")
            let host = backend == .local ? "localhost" : ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
            #expect(try await E.contents(outputs["machinefile.txt"], stack) == "\(host) slots=2\n")
            #expect(try await E.contents(outputs["ranks.txt"], stack).hasPrefix("2 /"))
            #expect(try await E.contents(outputs["hosts.txt"], stack).split(separator: "\n").count == 2, "two ranks")
            let environment = try await E.contents(outputs["env.txt"], stack)
            if backend == .slurm {
                #expect(environment.contains("SLURM_NTASKS=2\n"), "the allocation's variables reach the command")
            }
            for secret in [S.token, JobToken(jobId: id, owner: "alice").mint(secret: S.token), stack.postgres.password] {
                #expect(!environment.contains(secret), "a secret reached the command")
            }
        }
    }

    /// OpenFOAM's cavity decomposed on 2 processors, solved by `mpirun -np 2 icoFoam -parallel`
    /// and reconstructed, through the platform, by the catalog's mpiCommand as written.
    @Test func aParallelOpenFOAMCaseRunsOnTwoRanks() async throws {
        let tutorial = "/usr/share/doc/openfoam-examples/examples/incompressible/icoFoam/cavity/cavity"
        try #require(FileManager.default.fileExists(atPath: tutorial), "apt-get install openfoam openfoam-examples")
        try await E.run(.local, runAs: "nobody", walltimeLimit: E.solverWalltimeLimit) { client, stack, _ in
            let decompose = """
                FoamFile { version 2.0; format ascii; class dictionary; object decomposeParDict; }
                numberOfSubdomains 2;
                method simple;
                simpleCoeffs { n (2 1 1); delta 0.001; }

                """
            let files = try FileManager.default.subpathsOfDirectory(atPath: tutorial).sorted().compactMap { path -> TestZip.Entry? in
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: tutorial + "/" + path, isDirectory: &isDirectory)
                guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: tutorial + "/" + path) else { return nil }
                return .data("cavity/" + path, data)
            }
            let zip = try TestZip.make(files + [.file("cavity/system/decomposeParDict", decompose)])
            let fileId = try await stack.upload(zip, name: "cavity.zip")
            // The catalog's own mpiCommand for the version, as a user copies it.
            let analysis = try S.json(try await stack.catalog.execute(uri: "/alice/api/v2/analyses/openfoam/", method: .get, headers: S.alice))
            let version = try #require((analysis["versions"] as? [[String: Any]])?.first { $0["versionCode"] as? String == "v1912" })
            let mpiCommand = try #require(version["mpiCommand"] as? String)
            let id = try await StepsTests.submit(client, Self.job("cd cavity && " + mpiCommand, cores: 2, mpi: true, inputs: [fileId], code: "openfoam"))
            let history = try await E.waitFor("Completed", id, stack, seconds: 120)
            let outputs = try await E.outputs(id, stack)
            let log = try await E.contents(outputs["process_output.log"], stack)
            #expect(history.first?.statusReason == "Completed successfully", "\(log)")
            #expect(log.contains("nProcs : 2"), "two processors")
            #expect(log.hasSuffix("End\n\n") || log.contains("\nEnd\n"))
            #expect(outputs["cavity/processor1/0.5/U"] != nil, "each rank wrote its part")
            #expect(outputs["cavity/0.5/U"] != nil, "the fields are reconstructed")
        }
    }
}
